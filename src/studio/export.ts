import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCheckpointState, resolveCheckpoint } from '../gan/checkpoint.js';
import { UserError } from '../util/errors.js';
import type { Direction, GeneratorManifest } from './generator_core.js';
import { styledManifest, type StyleExport } from './style_export.js';
import { generatorModule, styleModule, textModule, translatorModule, GENERATOR_DEMO, STYLE_DEMO, TEXT_DEMO, TRANSLATOR_DEMO } from './export_files.js';
import type { ModelFiles } from '../gan/model_io.js';

const HERE = path.dirname(fileURLToPath(import.meta.url)); // dist/src/studio
const VENDOR_TFJS = path.resolve(HERE, '../../studio-web/vendor/tfjs.js');

/**
 * Writes a generator any web page can load: manifest.json (what the run's family declares, see manifest.ts),
 * the TF.js layers model(s), tfjs.js (the vendored TF.js the studio page uses, with ganforge's layers
 * registered), generator_core.js, generator.js (an ES module exporting `info` and `generate(z, label?)`, for
 * translators `translate(pixels, direction?)`, for style-based generators `generate(z, { truncation, label })`,
 * `mapping`, `synthesize` and `mix`) and index.html, a demo page: a few samples, for translators the studio's
 * draw/upload page (translate_page.js), for style-based generators the studio's style explorer (style_page.js).
 *
 * Layout: a noise generator's model.json + weights.bin at the top (as before translators existed); a
 * translator's generators in one folder per direction (AtoB/, BtoA/); a style-based generator's two halves in
 * mapping/ and synthesis/ instead of G. The written manifest names those.
 */
export async function exportGenerator(target: string, out: string): Promise<{ dir: string; checkpoint: string; info: GeneratorManifest }> {
  const checkpoint = await resolveCheckpoint(target);
  const state = await readCheckpointState(checkpoint);
  let manifest: GeneratorManifest;
  let styleFiles: StyleExport['files'] | undefined;
  let textFiles: ModelFiles | undefined;
  try {
    ({ manifest, files: styleFiles, textFiles } = await styledManifest(state, checkpoint, { mapping: 'mapping', synthesis: 'synthesis' }));
  } catch (e) {
    throw new UserError(`export: '${target}': ${(e as Error).message}`);
  }
  await checkVendor();
  await fs.mkdir(out, { recursive: true });
  const copyNet = async (folder: string, to: string) => {
    await fs.mkdir(path.join(out, to), { recursive: true });
    for (const f of ['model.json', 'weights.bin']) await fs.copyFile(path.join(checkpoint, folder, f), path.join(out, to, f));
  };
  const info: GeneratorManifest = { ...manifest };
  if (manifest.directions) {
    info.directions = {};
    for (const [d, dir] of Object.entries(manifest.directions) as [Direction, NonNullable<GeneratorManifest['directions']>[Direction]][]) {
      await copyNet(dir!.generator, d);
      info.directions[d] = { ...dir!, generator: d };
    }
  } else if (textFiles) {
    await fs.mkdir(path.join(out, manifest.text!.model), { recursive: true });
    for (const [f, bytes] of Object.entries(textFiles)) await fs.writeFile(path.join(out, manifest.text!.model, f), bytes);
  } else if (styleFiles) {
    await writeStyleModels(out, styleFiles); // the two halves replace G: generate() runs mapping, then synthesis
    delete info.generator;
  } else {
    await copyNet(manifest.generator!, '.');
    info.generator = '.';
  }
  await writeWebFiles(out, info, `${state.config.model}, ${path.basename(checkpoint)}`);
  return { dir: out, checkpoint, info };
}

async function checkVendor(): Promise<void> {
  try {
    await fs.access(VENDOR_TFJS);
  } catch {
    throw new UserError(`export: the vendored TF.js (${VENDOR_TFJS}) is not built; run 'npm run build:studio' (scripts/setup.sh does it)`);
  }
}

/** A style space's halves as `out`/mapping and `out`/synthesis (the folders styledManifest was told). */
export async function writeStyleModels(out: string, files: StyleExport['files']): Promise<void> {
  for (const part of ['mapping', 'synthesis'] as const) {
    await fs.mkdir(path.join(out, part), { recursive: true });
    for (const [f, bytes] of Object.entries(files[part])) await fs.writeFile(path.join(out, part, f), bytes);
  }
}

/**
 * Everything but the models: tfjs.js, the browser modules, manifest.json, generator.js and index.html for the
 * manifest's kind (translator, style-based or plain generator). `source` names the run in their comments.
 */
export async function writeWebFiles(out: string, info: GeneratorManifest, source: string): Promise<void> {
  await checkVendor();
  await fs.mkdir(out, { recursive: true });
  await fs.copyFile(VENDOR_TFJS, path.join(out, 'tfjs.js'));
  for (const f of ['generator_core.js', 'translate_page.js', 'inpaint_page.js', 'upscale_page.js', 'style_core.js', 'style_page.js', 'text_page.js']) await copyCompiled(f, out);
  // The tokenizer the run was trained with (it has no run-time imports): pages encode sentences exactly as `sample --text` does.
  if (info.condition === 'text') await copyCompiled('../data/tokenizer.js', out, 'tokenizer.js');
  await fs.writeFile(path.join(out, 'manifest.json'), JSON.stringify(info, null, 2) + '\n');
  const kind = info.condition === 'image' ? 'translator' : info.condition === 'text' ? 'text' : info.style ? 'style' : 'generator';
  const modules = { translator: translatorModule, style: styleModule, generator: generatorModule, text: textModule };
  const demos = { translator: TRANSLATOR_DEMO, style: STYLE_DEMO, generator: GENERATOR_DEMO, text: TEXT_DEMO };
  await fs.writeFile(path.join(out, 'generator.js'), modules[kind](info, source));
  await fs.writeFile(path.join(out, 'index.html'), demos[kind]);
}

/** A browser-side module tsc compiled next to this file, without its source-map comment (the map stays behind). */
async function copyCompiled(name: string, out: string, as = name): Promise<void> {
  const code = await fs.readFile(path.join(HERE, name), 'utf8');
  await fs.writeFile(path.join(out, as), code.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n'));
}
