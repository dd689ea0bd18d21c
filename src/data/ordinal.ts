import { UserError } from '../util/errors.js';
import type { DataSource } from './types.js';

/** A leading number of a folder name ('3-adult' → 3, '10_old' → 10, '0.5x' → 0.5), or undefined. */
function numericPrefix(name: string): number | undefined {
  const m = /^\d+(?:\.\d+)?/.exec(name);
  return m ? Number(m[0]) : undefined;
}

/**
 * The order of a folder's class names as ordinal bins: by their numeric prefix when every name has one
 * ('2-child' before '10-adult'), else by name (a plain sort, so '0_baby', '1_child', …). Returns the class
 * ids in bin order.
 */
export function binOrder(classNames: readonly string[]): number[] {
  const ids = classNames.map((_, i) => i);
  const numbers = classNames.map(numericPrefix);
  if (numbers.every((n) => n !== undefined)) return ids.sort((a, b) => numbers[a]! - numbers[b]! || (classNames[a] < classNames[b] ? -1 : 1));
  return ids.sort((a, b) => (classNames[a] < classNames[b] ? -1 : classNames[a] > classNames[b] ? 1 : 0));
}

/**
 * `folder:PATH --ordinal`: the sub-folders of PATH are the bins of one ordered attribute, in the order of
 * `binOrder`; labels are renumbered to that order and the data is marked ordinal (DatasetInfo.ordinal).
 */
export function asOrdinal(src: DataSource): DataSource {
  const names = src.info.classNames;
  if (!names || names.length < 2 || src.kind === 'sampler' || !src.labels) {
    throw new UserError(`--ordinal needs a folder whose sub-folders are the bins of one attribute in order (e.g. 0-baby, 1-child, 2-adult); ${src.info.name} has ${names ? `${names.length} class` : 'no sub-folders of images'}`);
  }
  const order = binOrder(names);
  const rank = new Int32Array(names.length);
  order.forEach((id, r) => (rank[id] = r));
  const labels = Int32Array.from(src.labels, (l) => rank[l]);
  const classNames = order.map((id) => names[id]);
  const notice = `${src.info.name}: ordinal bins ${classNames.join(' < ')} (${names.every((n) => numericPrefix(n) !== undefined) ? 'by numeric prefix' : 'by name'})`;
  return { ...src, labels, info: { ...src.info, classNames, ordinal: true }, notices: [...(src.notices ?? []), notice] };
}
