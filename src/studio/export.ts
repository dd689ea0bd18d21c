import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCheckpointState, resolveCheckpoint } from '../gan/checkpoint.js';
import { UserError } from '../util/errors.js';
import type { GeneratorInfo } from './generator_core.js';

const HERE = path.dirname(fileURLToPath(import.meta.url)); // dist/src/studio
const VENDOR_TFJS = path.resolve(HERE, '../../studio-web/vendor/tfjs.js');

/**
 * Writes a generator any web page can load: model.json + weights.bin (TF.js layers format), tfjs.js (the
 * vendored TF.js the studio page uses), generator_core.js, generator.js (an ES module exporting
 * `generate(z, label?)` and `info`) and index.html, a demo page that draws a few samples.
 */
export async function exportGenerator(target: string, out: string): Promise<{ dir: string; checkpoint: string; info: GeneratorInfo }> {
  const checkpoint = await resolveCheckpoint(target);
  const state = await readCheckpointState(checkpoint);
  if (state.data.kind !== 'image') throw new UserError(`export: '${target}' was trained on 2-D points (${state.data.name}); only image generators can be exported for the browser`);
  try {
    await fs.access(VENDOR_TFJS);
  } catch {
    throw new UserError(`export: the vendored TF.js (${VENDOR_TFJS}) is not built; run 'npm run build:studio' (scripts/setup.sh does it)`);
  }
  const data = state.data as unknown as { shape: [number, number, number]; numClasses?: number; classNames?: string[] };
  const info: GeneratorInfo = { latentDim: state.config.latentDim, shape: data.shape, numClasses: data.numClasses ?? 0, classNames: data.classNames };
  await fs.mkdir(out, { recursive: true });
  for (const f of ['model.json', 'weights.bin']) await fs.copyFile(path.join(checkpoint, 'generator', f), path.join(out, f));
  await fs.copyFile(VENDOR_TFJS, path.join(out, 'tfjs.js'));
  const core = await fs.readFile(path.join(HERE, 'generator_core.js'), 'utf8');
  await fs.writeFile(path.join(out, 'generator_core.js'), core.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n'));
  await fs.writeFile(path.join(out, 'generator.js'), generatorModule(info, `${state.config.model}, ${path.basename(checkpoint)}`));
  await fs.writeFile(path.join(out, 'index.html'), DEMO_PAGE);
  return { dir: out, checkpoint, info };
}

function generatorModule(info: GeneratorInfo, source: string): string {
  return `// A ganforge generator (${source}), exported by \`ganforge export\`.
// Serve this folder over HTTP (ES modules do not load from file://) and, from any page:
//   import { generate, randomLatents, toRgba, info } from './generator.js';
//   const pixels = await generate(randomLatents(4, info.latentDim, 1)); // [4, h, w, c] in 0..1
// TF.js 4.22 (core, layers, cpu and webgl backends) is vendored as ./tfjs.js; to use your own TF.js instead,
// change the import below to '@tensorflow/tfjs' (the core and layers APIs are all this module needs).
import * as tf from './tfjs.js';
import { loadGenerator } from './generator_core.js';
export { randomLatents, lerp, slerp, truncate, arithmetic, toRgba } from './generator_core.js';
export { tf };

/** latentDim, sample shape [h, w, c], numClasses (0 = unconditional) and classNames. */
export const info = ${JSON.stringify(info)};

const generator = await loadGenerator(tf, new URL('./model.json', import.meta.url).href, info);

/** z: Float32Array of n·latentDim; label: a class (or one per sample) for conditional generators. */
export const generate = (z, label) => generator.generate(z, label);
export const conditional = generator.conditional;
`;
}

const DEMO_PAGE = `<!doctype html>
<meta charset="utf-8"><title>ganforge generator</title>
<p>Samples drawn in this page by <code>generator.js</code>:</p>
<div id="out"></div>
<script type="module">
  import { generate, randomLatents, toRgba, info } from './generator.js';
  const n = 8, [h, w] = info.shape;
  const pixels = await generate(randomLatents(n, info.latentDim, 1));
  for (let i = 0; i < n; i++) {
    const c = Object.assign(document.createElement('canvas'), { width: w, height: h });
    c.style.cssText = 'width:112px;image-rendering:pixelated';
    c.getContext('2d').putImageData(new ImageData(toRgba(pixels, i, info.shape), w, h), 0, 0);
    document.getElementById('out').append(c);
  }
  document.body.dataset.ready = '1';
</script>
`;
