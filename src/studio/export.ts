import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCheckpointState, resolveCheckpoint } from '../gan/checkpoint.js';
import { UserError } from '../util/errors.js';
import type { Direction, GeneratorManifest } from './generator_core.js';
import { checkpointManifest } from './manifest.js';
import { generatorModule, translatorModule, GENERATOR_DEMO, TRANSLATOR_DEMO } from './export_files.js';

const HERE = path.dirname(fileURLToPath(import.meta.url)); // dist/src/studio
const VENDOR_TFJS = path.resolve(HERE, '../../studio-web/vendor/tfjs.js');

/**
 * Writes a generator any web page can load: manifest.json (what the run's family declares, see manifest.ts),
 * the TF.js layers model(s), tfjs.js (the vendored TF.js the studio page uses, with ganforge's layers
 * registered), generator_core.js, generator.js (an ES module exporting `info` and `generate(z, label?)`, or for
 * translators `translate(pixels, direction?)`) and index.html, a demo page: a few samples, or for translators
 * the studio's draw/upload page (translate_page.js).
 *
 * Layout: a noise generator's model.json + weights.bin at the top (as before translators existed); a
 * translator's generators in one folder per direction (AtoB/, BtoA/). The written manifest names those.
 */
export async function exportGenerator(target: string, out: string): Promise<{ dir: string; checkpoint: string; info: GeneratorManifest }> {
  const checkpoint = await resolveCheckpoint(target);
  const state = await readCheckpointState(checkpoint);
  let manifest: GeneratorManifest;
  try {
    manifest = checkpointManifest(state, checkpoint);
  } catch (e) {
    throw new UserError(`export: '${target}': ${(e as Error).message}`);
  }
  try {
    await fs.access(VENDOR_TFJS);
  } catch {
    throw new UserError(`export: the vendored TF.js (${VENDOR_TFJS}) is not built; run 'npm run build:studio' (scripts/setup.sh does it)`);
  }
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
  } else {
    await copyNet(manifest.generator!, '.');
    info.generator = '.';
  }
  await fs.copyFile(VENDOR_TFJS, path.join(out, 'tfjs.js'));
  for (const f of ['generator_core.js', 'translate_page.js']) await copyCompiled(f, out);
  await fs.writeFile(path.join(out, 'manifest.json'), JSON.stringify(info, null, 2) + '\n');
  const source = `${state.config.model}, ${path.basename(checkpoint)}`;
  const translator = info.condition === 'image';
  await fs.writeFile(path.join(out, 'generator.js'), translator ? translatorModule(info, source) : generatorModule(info, source));
  await fs.writeFile(path.join(out, 'index.html'), translator ? TRANSLATOR_DEMO : GENERATOR_DEMO);
  return { dir: out, checkpoint, info };
}

/** A browser-side module tsc compiled next to this file, without its source-map comment (the map stays behind). */
async function copyCompiled(name: string, out: string): Promise<void> {
  const code = await fs.readFile(path.join(HERE, name), 'utf8');
  await fs.writeFile(path.join(out, name), code.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n'));
}
