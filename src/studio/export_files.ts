import type { GeneratorManifest } from './generator_core.js';

// The text files `ganforge export` writes: generator.js (the module a page imports) and index.html (a demo),
// one pair for noise generators and one for translators. The manifest is inlined into generator.js rather than
// imported from manifest.json, since JSON modules are not yet in every browser.

const HEADER = (source: string) => `// A ganforge generator (${source}), exported by \`ganforge export\`.
// Serve this folder over HTTP (ES modules do not load from file://).`;

const TFJS_NOTE = `// TF.js 4.22 (core, layers, cpu and webgl backends, with ganforge's own layers registered) is vendored as
// ./tfjs.js. To use your own TF.js instead, change the import below to '@tensorflow/tfjs' and register
// ganforge's layers (SeededDropout, InstanceNormalization, ReflectionPadding2D, …) with it.`;

export function generatorModule(info: GeneratorManifest, source: string): string {
  return `${HEADER(source)} From any page:
//   import { generate, randomLatents, toRgba, info } from './generator.js';
//   const pixels = await generate(randomLatents(4, info.latentDim, 1)); // [4, h, w, c] in 0..1
${TFJS_NOTE}
import * as tf from './tfjs.js';
import { loadGenerator } from './generator_core.js';
export { randomLatents, seedLatents, truncatedSeedLatents, lerp, slerp, truncate, arithmetic, toRgba } from './generator_core.js';
export { tf };

/**
 * The manifest (also in manifest.json): condition, latentDim, shapes.output [h, w, c], numClasses, classNames,
 * and truncation 'z' when the model samples truncated latents: truncatedSeedLatents(seeds, info.latentDim, ψ).
 */
export const info = ${JSON.stringify(info)};

const generator = await loadGenerator(tf, new URL(\`./\${info.generator}/model.json\`, import.meta.url).href, info);

/** z: Float32Array of n·latentDim; label: a class (or one per sample) for conditional generators. */
export const generate = (z, label) => generator.generate(z, label);
export const conditional = generator.conditional;
`;
}

export function styleModule(info: GeneratorManifest, source: string): string {
  return `${HEADER(source)} From any page:
//   import { generate, seedLatents, mapping, synthesize, mix, broadcastW, toRgba, info } from './generator.js';
//   const pixels = await generate(seedLatents([1, 2, 3], info.style.zDim), { truncation: 0.7 }); // 3 images in 0..1
//   const [a, b] = [await mapping(seedLatents([1], info.style.zDim)), await mapping(seedLatents([2], info.style.zDim))];
//   const mixed = await synthesize(mix(a, b, [0, 3]));  // a's styles with inputs 0–3 (coarse) taken from b
//   toRgba(pixels, i, info.shapes.output) gives sample i as canvas bytes.
${TFJS_NOTE}
import * as tf from './tfjs.js';
import { loadStyleGenerator, mixW } from './style_core.js';
export { seedLatents, toRgba } from './generator_core.js';
export { truncateW, broadcastW, mixW, lerpW, noiseMaps, layerPresets, mixGrid, interpolateW, seedWs } from './style_core.js';
export { tf };

/**
 * The manifest (also in manifest.json): condition, numClasses, classNames, shapes.output [h, w, c], and style:
 * zDim, wDim, numWs (style inputs, coarse to fine), resolutions, noiseShapes, meanW (w̄, one row per class
 * when conditional).
 */
export const info = ${JSON.stringify(info)};

/** The loaded mapping and synthesis networks (style_core.js StyleGenerator). */
export const generator = await loadStyleGenerator(tf, new URL('./', import.meta.url).href, info);

/**
 * z (n·zDim) → n images [h, w, c] in 0..1. truncation ψ pulls w toward w̄ (1: none); label: a class, or one per
 * sample, for conditional models; noise: a seed (default 0) for the per-pixel noise maps, or 'zero'.
 */
export const generate = (z, options) => generator.generate(z, options);
/** z (n·zDim) (, label) → w (n·wDim). */
export const mapping = (z, label) => generator.mapping(z, label);
/** w+ (n·numWs·wDim) → n images in 0..1; broadcastW(w, info.style.numWs, info.style.wDim) makes w+ of n plain w's. */
export const synthesize = (wplus, options) => generator.synthesize(wplus, options);
/** One w+ (numWs·wDim): rowW at every style input but layers [a, b], which take colW. */
export const mix = (rowW, colW, layers) => mixW(rowW, colW, layers, info.style.numWs);
`;
}

export function translatorModule(info: GeneratorManifest, source: string): string {
  return `${HEADER(source)} From any page:
//   import { translate, fromRgba, toRgba, info } from './generator.js';
//   const input = fromRgba(ctx.getImageData(0, 0, w, h).data, info.directions.AtoB.input); // one image in 0..1
//   const output = await translate(input, 'AtoB');                                          // [h, w, c] in 0..1
${TFJS_NOTE}
import * as tf from './tfjs.js';
import { loadTranslator } from './generator_core.js';
export { fromRgba, toRgba } from './generator_core.js';
export { tf };

/** The manifest (also in manifest.json): directions with their input/output shapes, domains, trainingMode. */
export const info = ${JSON.stringify(info)};

/** One loaded translator per direction the run has ('AtoB', and 'BtoA' for CycleGAN). */
export const translators = {};
for (const [direction, d] of Object.entries(info.directions)) {
  translators[direction] = await loadTranslator(tf, new URL(\`./\${d.generator}/model.json\`, import.meta.url).href, info, direction);
}

/** pixels: n images of the direction's input shape, row-major, in 0..1; returns n outputs in 0..1. */
export const translate = (pixels, direction = 'AtoB') => translators[direction].translate(pixels);
`;
}

export function textModule(info: GeneratorManifest, source: string): string {
  return `${HEADER(source)} From any page:
//   import { generate, encode, randomLatents, toRgba, info } from './generator.js';
//   const { tokens, report } = encode(['a red square', 'a blue circle']);   // report.unknownWords: words drawn as <unk>
//   const pixels = await generate(randomLatents(2, info.latentDim, 1), tokens); // [2, h, w, c] in 0..1
${TFJS_NOTE}
import * as tf from './tfjs.js';
import { loadTextGenerator } from './generator_core.js';
import { encodeSentences } from './tokenizer.js';
export { randomLatents, seedLatents, lerp, toRgba } from './generator_core.js';
export { tf };

/** The manifest (also in manifest.json): latentDim, shapes.output [h, w, c], and text: the vocabulary by token id, maxLen, the model's folder. */
export const info = ${JSON.stringify(info)};

/** The composed model: the run's text encoder and generator in one, (z, token ids) → images. */
export const generator = await loadTextGenerator(tf, new URL(\`./\${info.text.model}/model.json\`, import.meta.url).href, info);

/** Sentences → token ids (n·maxLen) with the run's vocabulary, and a report of unknown words and cut sentences. */
export const encode = (sentences) => encodeSentences(info.text.vocab, info.text.maxLen, sentences);
/** z: Float32Array of n·latentDim; tokens: Int32Array of n·maxLen (from encode). */
export const generate = (z, tokens) => generator.generate(z, tokens);
`;
}

export const TEXT_DEMO = `<!doctype html>
<meta charset="utf-8"><title>ganforge text to image</title><link rel="icon" href="data:,">
<style>body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; } label { margin-right: 1em; } .alerts { color: #a40; }</style>
<h2 id="title">ganforge text to image</h2>
<div id="app">loading the model…</div>
<script type="module">
  import { generator, encode, info, tf } from './generator.js';
  import { mountText } from './text_page.js';
  document.getElementById('title').textContent = \`\${info.model} on \${info.data} (\${info.checkpoint}), TF.js \${tf.getBackend()}\`;
  mountText(document.getElementById('app'), generator, encode, info.text.vocab.slice(2, 5).join(' '));
  document.body.dataset.ready = '1';
</script>
`;

export const GENERATOR_DEMO = `<!doctype html>
<meta charset="utf-8"><title>ganforge generator</title><link rel="icon" href="data:,">
<p>Samples drawn in this page by <code>generator.js</code>:</p>
<div id="out"></div>
<script type="module">
  import { generate, randomLatents, toRgba, info } from './generator.js';
  const n = 8, [h, w] = info.shapes.output;
  const pixels = await generate(randomLatents(n, info.latentDim, 1));
  for (let i = 0; i < n; i++) {
    const c = Object.assign(document.createElement('canvas'), { width: w, height: h });
    c.style.cssText = 'width:112px;image-rendering:pixelated';
    c.getContext('2d').putImageData(new ImageData(toRgba(pixels, i, info.shapes.output), w, h), 0, 0);
    document.getElementById('out').append(c);
  }
  document.body.dataset.ready = '1';
</script>
`;

export const TRANSLATOR_DEMO = `<!doctype html>
<meta charset="utf-8"><title>ganforge translator</title><link rel="icon" href="data:,">
<style>body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; } label, button { margin-right: 1em; }</style>
<h2 id="title">ganforge translator</h2>
<div id="app">loading the model…</div>
<script type="module">
  import { translators, info, tf } from './generator.js';
  import { mountTranslate } from './translate_page.js';
  import { isInpainter, mountInpaint } from './inpaint_page.js';
  import { mountUpscale, upscaleFactorOf } from './upscale_page.js';
  document.getElementById('title').textContent = \`\${info.model} on \${info.data} (\${info.checkpoint}), TF.js \${tf.getBackend()}\`;
  // A generator of an image plus its mask channel fills holes: the page to paint them on; one that enlarges, the upscale viewer.
  if (isInpainter(translators.AtoB)) mountInpaint(document.getElementById('app'), translators.AtoB);
  else if (upscaleFactorOf(translators.AtoB)) mountUpscale(document.getElementById('app'), translators.AtoB);
  else mountTranslate(document.getElementById('app'), info, translators);
  document.body.dataset.ready = '1';
</script>
`;

export const STYLE_DEMO = `<!doctype html>
<meta charset="utf-8"><title>ganforge style generator</title><link rel="icon" href="data:,">
<style>body { font: 14px/1.4 system-ui, sans-serif; margin: 1em 2em; } label, button { margin-right: 1em; }</style>
<h2 id="title">ganforge style generator</h2>
<div id="app">loading the model…</div>
<script type="module">
  // ?backend=cpu runs TF.js on the CPU (set before generator.js loads the models onto a backend).
  import * as tf from './tfjs.js';
  if (new URLSearchParams(location.search).get('backend') === 'cpu') await tf.setBackend('cpu');
  const { generator, info } = await import('./generator.js');
  const { mountStyleExplorer } = await import('./style_page.js');
  document.getElementById('title').textContent = \`\${info.model} on \${info.data} (\${info.checkpoint}), TF.js \${tf.getBackend()}\`;
  await mountStyleExplorer(document.getElementById('app'), generator);
  document.body.dataset.ready = '1';
</script>
`;
