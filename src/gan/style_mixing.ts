import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../util/rng.js';
import { readTidy } from '../util/tensors.js';
import { UserError } from '../util/errors.js';
import type { SampleResult, StyleSpace } from './family.js';
import { broadcastW, latents, truncateW } from './sampling.js';

/** Which style inputs a mix copies: w+ indices a..b inclusive (0 is the coarsest, 4×4). */
export type LayerRange = [number, number];

/** `--mix-layers a-b` (or a single index) checked against the network's style inputs. */
export function parseMixLayers(spec: string, space: Pick<StyleSpace, 'numWs' | 'resolutions'>): LayerRange {
  const m = /^\s*(\d+)\s*(?:-\s*(\d+))?\s*$/.exec(spec);
  const range = m ? ([Number(m[1]), Number(m[2] ?? m[1])] as LayerRange) : null;
  const help = `the network has ${space.numWs} style inputs, 0–${space.numWs - 1} (resolutions ${space.resolutions.join(', ')})`;
  if (!range) throw new UserError(`--mix-layers takes a range a-b of style inputs, e.g. 0-3; got '${spec}'; ${help}`);
  if (range[0] > range[1] || range[1] >= space.numWs) throw new UserError(`--mix-layers ${spec} is outside the network: ${help}`);
  return range;
}

/** `--style-mix ROW_SEEDS COL_SEEDS`: two comma-separated lists of integer seeds. */
export function parseSeedList(spec: string, flag: string): number[] {
  const seeds = spec.split(',').map((s) => s.trim());
  if (seeds.length === 0 || seeds.some((s) => !/^\d+$/.test(s))) throw new UserError(`${flag} takes comma-separated integer seeds, e.g. 1,2,3; got '${spec}'`);
  return seeds.map(Number);
}

/**
 * The style-mixing figure of Karras et al. 2019 (Fig. 3): the column seeds' images along the top, the row
 * seeds' down the left, and at (r, c) the row's w+ with the style inputs `layers` taken from the column's w.
 * Copying coarse inputs (0–3: 4–8 px) brings the column's pose and shape; fine ones only its colours. One
 * noise draw (from the first row seed) serves every cell. The top-left cell is blank.
 * `shape` is one image's [H, W, C].
 */
export function styleMixGrid(
  space: StyleSpace, request: { rows: number[]; cols: number[]; layers: LayerRange; truncation?: number }, shape: number[], classes?: tf.Tensor2D,
): SampleResult {
  const { rows, cols, layers, truncation } = request;
  const wOf = (seeds: number[]) => tf.tidy(() => {
    const z = tf.concat(seeds.map((s) => latents(new Rng(s), 1, space.zDim))); // [n, zDim]
    const c = classes ? tf.tile(tf.slice(classes, [0, 0], [1, -1]), [seeds.length, 1]) as tf.Tensor2D : undefined;
    const w = space.mapping(z, c);
    return truncation !== undefined && truncation !== 1 ? truncateW(w, space.meanW(c), truncation) : w;
  });
  const values = readTidy(() => {
    const wr = wOf(rows); // [R, wDim]
    const wc = wOf(cols); // [C, wDim]
    const [R, C, L] = [rows.length, cols.length, space.numWs];
    // Cell (r, c): w+ of row r with inputs a..b replaced by column c's w: a mask over the style inputs.
    const mask = tf.tensor3d(Array.from({ length: L }, (_, l) => (l >= layers[0] && l <= layers[1] ? 1 : 0)), [1, L, 1]);
    const rowPlus = tf.reshape(tf.tile(tf.expandDims(broadcastW(wr, L), 1), [1, C, 1, 1]), [R * C, L, -1]);
    const colPlus = tf.reshape(tf.tile(tf.expandDims(broadcastW(wc, L), 0), [R, 1, 1, 1]), [R * C, L, -1]);
    const mixed = tf.add(tf.mul(colPlus, mask), tf.mul(rowPlus, tf.sub(1, mask))) as tf.Tensor3D;
    // One noise map per input, [1, H, W, 1], broadcast over every cell: only the styles differ across the grid.
    const rng = new Rng(rows[0]);
    const noise = { noise: space.noiseShapes.map(([h, w]) => tf.tensor4d(rng.normals(h * w), [1, h, w, 1])) };
    const top = space.synthesis(broadcastW(wc, L), noise); // [C, H, W, ch]
    const left = space.synthesis(broadcastW(wr, L), noise); // [R, H, W, ch]
    const cells = space.synthesis(mixed, noise); // [R·C, H, W, ch]
    const [h, w, ch] = top.shape.slice(1);
    const blank = tf.fill([1, h, w, ch], 1); // white
    const grid: tf.Tensor[] = [blank, top];
    for (let r = 0; r < R; r++) grid.push(tf.slice(left, [r, 0, 0, 0], [1, -1, -1, -1]), tf.slice(cells, [r * C, 0, 0, 0], [C, -1, -1, -1]));
    return tf.concat(grid);
  });
  const count = (rows.length + 1) * (cols.length + 1);
  return { values, count, shape, cols: cols.length + 1 };
}
