// TF.js is loaded at run time from the vendored file rather than bundled into the page: the file stays one
// self-contained module (what `ganforge export` copies, with ganforge's layers registered in it), and pages
// that never run a model never download it.
export type TfModule = typeof import('./tfjs_vendor.js');
let tfLoaded: Promise<TfModule> | null = null;
export const loadTf = () => (tfLoaded ??= import(/* @vite-ignore */ `${location.origin}/vendor/tfjs.js`) as Promise<TfModule>);

/** WebGL when it works (and ?backend=cpu was not asked for), else the CPU backend. */
export async function pickBackend(tf: TfModule): Promise<string> {
  const wanted = new URLSearchParams(location.search).get('backend');
  if (wanted !== 'cpu' && (await tf.setBackend('webgl').catch(() => false))) return 'webgl';
  await tf.setBackend('cpu');
  return 'cpu';
}
