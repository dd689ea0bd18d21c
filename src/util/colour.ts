import { UserError } from './errors.js';

/** An opaque colour, 0–255 per channel. */
export type Rgb = [number, number, number];

export const WHITE: Rgb = [255, 255, 255];

const COLOUR_NAMES: Record<string, Rgb> = { white: WHITE, black: [0, 0, 0], grey: [128, 128, 128], gray: [128, 128, 128] };

/**
 * '#rrggbb', '#rgb' (the '#' may be left out) or white | black | grey → [r, g, b]; anything else is an
 * error naming `flag`.
 * @example parseColour('#f80') // [255, 136, 0]
 */
export function parseColour(text: string, flag = '--background'): Rgb {
  const s = text.trim().toLowerCase();
  if (s in COLOUR_NAMES) return [...COLOUR_NAMES[s]];
  const m = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/.exec(s);
  if (!m) throw new UserError(`${flag} '${text}' is not a colour: give #rrggbb, #rgb or one of ${Object.keys(COLOUR_NAMES).join(', ')}`);
  const hex = m[1].length === 3 ? [...m[1]].map((d) => d + d).join('') : m[1];
  return [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16)) as Rgb;
}

export function isColour(text: string): boolean {
  try {
    parseColour(text);
    return true;
  } catch {
    return false;
  }
}

/** '#rrggbb' of a colour, for messages and cache keys. */
export function colourHex(c: Rgb): string {
  return '#' + c.map((v) => v.toString(16).padStart(2, '0')).join('');
}
