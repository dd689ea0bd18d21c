import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';

/** Which domain is the input: AtoB (default) translates A into B; BtoA swaps the roles. */
export type Direction = 'AtoB' | 'BtoA';
export const DIRECTIONS: readonly Direction[] = ['AtoB', 'BtoA'];

/** One side of a translation task: uint8 images [count, ...shape] with what travels with them. */
export interface Domain {
  /** For messages and pictures, e.g. 'A', 'edges', 'openmoji-black'. */
  name: string;
  values: Uint8Array;
  /** [H, W, C] */
  shape: number[];
  count: number;
  labels?: Int32Array;
  classNames?: string[];
  names?: string[];
}

export function checkDirection(d: unknown): Direction {
  if (d === undefined) return 'AtoB';
  if (!DIRECTIONS.includes(d as Direction)) throw new UserError(`direction must be AtoB or BtoA, got '${String(d)}'`);
  return d as Direction;
}

/** The domain view of a plain image source (its targets), to pair it with another. */
export function domainOf(src: ArraySource, name = src.info.name): Domain {
  if (src.info.kind !== 'image') throw new UserError(`${src.info.name} is not image data, so it cannot be one side of a translation`);
  if (src.info.input) throw new UserError(`${src.info.name} is already a translation dataset; use a plain image dataset here`);
  return {
    name, values: src.values as Uint8Array, shape: src.info.shape, count: src.count,
    labels: src.labels, classNames: src.info.classNames, names: src.names,
  };
}

/**
 * Assemble a translation ArraySource: the target x is domain B, the input is domain A (swapped for BtoA).
 * Paired data keeps one index for both; the target's labels and class names stay on the source.
 */
export function translationSource(o: {
  name: string;
  a: Domain;
  b: Domain;
  pairing: 'paired' | 'unpaired';
  direction?: Direction;
  notices?: string[];
  skipped?: number;
  /** The domains may differ in size (lowres: inputs are the targets / scale); augmentation then refuses them. */
  scaled?: boolean;
}): ArraySource {
  const [inp, tgt] = checkDirection(o.direction) === 'BtoA' ? [o.b, o.a] : [o.a, o.b];
  // Augmentation crops both domains at one offset, so they must share a height and width (a bug if not).
  if (!o.scaled && (inp.shape[0] !== tgt.shape[0] || inp.shape[1] !== tgt.shape[1])) {
    throw new Error(`${o.name}: domains differ in size, [${inp.shape}] vs [${tgt.shape}]`);
  }
  if (o.pairing === 'paired' && inp.count !== tgt.count) throw new Error(`${o.name}: ${inp.count} inputs for ${tgt.count} targets`);
  const classes = tgt.classNames && tgt.labels ? { numClasses: tgt.classNames.length, classNames: tgt.classNames } : {};
  return {
    kind: 'array',
    info: {
      name: o.name,
      kind: 'image',
      shape: tgt.shape,
      count: tgt.count,
      ...classes,
      input: { shape: inp.shape, pairing: o.pairing, domains: [inp.name, tgt.name] },
    },
    count: tgt.count,
    values: tgt.values,
    ...(tgt.labels ? { labels: tgt.labels } : {}),
    ...(tgt.names ? { names: tgt.names } : {}),
    inputs: { values: inp.values, count: inp.count, ...(inp.names ? { names: inp.names } : {}), ...(inp.labels ? { labels: inp.labels } : {}) },
    ...(o.notices && o.notices.length > 0 ? { notices: o.notices } : {}),
    ...(o.skipped ? { skipped: o.skipped } : {}),
  };
}
