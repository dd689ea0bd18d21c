// Where the commands that write one PNG per input image (translate, upscale, refine) put each result. Decided before
// any work, so that a wrong --out costs nothing and never overwrites what the user gave.
import * as path from 'node:path';
import { UserError } from '../util/errors.js';

/** An input image: the file it came from (absent for a named dataset's examples) and the name its output takes. */
export interface OutputSource {
  file?: string;
  name: string;
}

const OTHER_IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.bmp', '.avif']);

/**
 * `--out` as a folder gives OUT/NAME.png per input; as a `.png` file name it takes exactly one input. Refused, naming
 * the fix: another image format (results are PNG), a file name for several inputs, two inputs that would write one
 * output (a.jpg and a.png, or the same name in two folders), and an output that is one of the inputs.
 */
export function outputPaths(out: string, sources: OutputSource[], flag = '--out'): { folder: string; paths: string[] } {
  const ext = path.extname(out).toLowerCase();
  if (OTHER_IMAGE_EXTENSIONS.has(ext)) throw new UserError(`${flag} ${out}: results are written as PNG; name a folder or a .png file`);
  let folder: string, paths: string[];
  if (ext === '.png') {
    if (sources.length !== 1) throw new UserError(`${flag} ${out} names one file, but there are ${sources.length} inputs; name a folder for them instead`);
    folder = path.dirname(out);
    paths = [out];
  } else {
    folder = out;
    paths = sources.map((s) => path.join(out, `${s.name}.png`));
  }
  const inputs = new Set(sources.flatMap((s) => (s.file ? [path.resolve(s.file)] : [])));
  const first = new Map<string, number>();
  for (const [i, p] of paths.entries()) {
    const key = path.resolve(p);
    if (inputs.has(key)) throw new UserError(`${flag} ${out} would overwrite the input ${p}; choose another ${ext === '.png' ? 'file' : 'folder'}`);
    const j = first.get(key);
    if (j !== undefined) {
      const label = (k: number) => sources[k].file ?? sources[k].name;
      throw new UserError(`inputs ${label(j)} and ${label(i)} would both be written to ${p}; rename one, or run them separately`);
    }
    first.set(key, i);
  }
  return { folder, paths };
}
