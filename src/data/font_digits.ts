import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { UserError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { ArraySource } from './types.js';
import { cachedImages, stderrLog, type Log } from './package_data.js';
import { MNIST_CLASSES } from './mnist.js';

/** A Debian font package, the faces font-digits draws from it, and the licence line printed when it is installed. */
export interface FontPackage {
  name: string;
  licence: string;
  /** [fontconfig family, weight, style, the file that proves it is installed] */
  faces: readonly (readonly [string, 'normal' | 'bold', 'normal' | 'italic', string])[];
}

const DEJAVU = '/usr/share/fonts/truetype/dejavu';
const LIBERATION = '/usr/share/fonts/truetype/liberation';
const FREEFONT = '/usr/share/fonts/truetype/freefont';

/** The fonts of the synthetic digits: sans, serif and monospace faces in regular, bold and slanted cuts. */
export const FONT_PACKAGES: readonly FontPackage[] = [
  {
    name: 'fonts-dejavu-core',
    licence: 'DejaVu fonts: Bitstream Vera licence with DejaVu changes in the public domain (permissive)',
    faces: [
      ['DejaVu Sans', 'normal', 'normal', `${DEJAVU}/DejaVuSans.ttf`],
      ['DejaVu Sans', 'bold', 'normal', `${DEJAVU}/DejaVuSans-Bold.ttf`],
      ['DejaVu Serif', 'normal', 'normal', `${DEJAVU}/DejaVuSerif.ttf`],
      ['DejaVu Serif', 'bold', 'normal', `${DEJAVU}/DejaVuSerif-Bold.ttf`],
      ['DejaVu Sans Mono', 'normal', 'normal', `${DEJAVU}/DejaVuSansMono.ttf`],
      ['DejaVu Sans Mono', 'bold', 'normal', `${DEJAVU}/DejaVuSansMono-Bold.ttf`],
    ],
  },
  {
    name: 'fonts-liberation',
    licence: 'Liberation fonts: SIL Open Font License 1.1',
    faces: [
      ['Liberation Sans', 'normal', 'normal', `${LIBERATION}/LiberationSans-Regular.ttf`],
      ['Liberation Sans', 'bold', 'italic', `${LIBERATION}/LiberationSans-BoldItalic.ttf`],
      ['Liberation Serif', 'normal', 'normal', `${LIBERATION}/LiberationSerif-Regular.ttf`],
      ['Liberation Serif', 'normal', 'italic', `${LIBERATION}/LiberationSerif-Italic.ttf`],
      ['Liberation Mono', 'normal', 'normal', `${LIBERATION}/LiberationMono-Regular.ttf`],
      ['Liberation Mono', 'bold', 'normal', `${LIBERATION}/LiberationMono-Bold.ttf`],
    ],
  },
  {
    name: 'fonts-freefont-ttf',
    licence: 'GNU FreeFont: GPL-3+ with the font exception',
    faces: [
      ['FreeSans', 'normal', 'normal', `${FREEFONT}/FreeSans.ttf`],
      ['FreeSans', 'bold', 'italic', `${FREEFONT}/FreeSansBoldOblique.ttf`],
      ['FreeSerif', 'normal', 'normal', `${FREEFONT}/FreeSerif.ttf`],
      ['FreeSerif', 'normal', 'italic', `${FREEFONT}/FreeSerifItalic.ttf`],
      ['FreeMono', 'bold', 'normal', `${FREEFONT}/FreeMonoBold.ttf`],
    ],
  },
];

/** Runs `apt-get install` of the packages; replaceable in tests. */
export type AptInstaller = (packages: string[]) => Promise<void>;

const aptInstall: AptInstaller = async (packages) => {
  const sudo = process.getuid?.() === 0 ? [] : ['sudo', '-n'];
  const [cmd, ...args] = [...sudo, 'apt-get', 'install', '-y', '--no-install-recommends', ...packages];
  try {
    await promisify(execFile)(cmd, args, { maxBuffer: 16 << 20, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const why = (err.stderr ?? err.message).trim().split('\n').slice(-2).join(' ');
    throw new UserError(`could not install ${packages.join(' ')} with apt-get (${why}); install them yourself with: sudo apt-get install ${packages.join(' ')}`);
  }
};

/** Install the font packages whose files are missing (one progress line before, the licences after). */
export async function ensureFontPackages(packages = FONT_PACKAGES, opts: { log?: Log; install?: AptInstaller } = {}): Promise<void> {
  const missing = packages.filter((p) => p.faces.some((f) => !existsSync(f[3])));
  if (missing.length === 0) return;
  const log = opts.log ?? stderrLog;
  const names = missing.map((p) => p.name);
  log(`ganforge: installing ${names.join(', ')} with apt-get for font-digits (first use only)…`);
  await (opts.install ?? aptInstall)(names);
  for (const p of missing) {
    const absent = p.faces.find((f) => !existsSync(f[3]));
    if (absent) throw new UserError(`${p.name} is installed but ${absent[3]} is missing; reinstall it with: sudo apt-get install --reinstall ${p.name}`);
    log(p.licence);
  }
}

/** How each synthetic digit is drawn: the renderer's random parameters and their ranges. */
export interface DigitStyle {
  /** Rotation in degrees, uniform in ±rotation. */
  rotation: number;
  /** Horizontal shear (skewX) in degrees, uniform in ±shear. */
  shear: number;
  /** Overall scale, uniform in [scale[0], scale[1]] (1: the glyph about 20 px tall, as MNIST's digits). */
  scale: [number, number];
  /** Width / height stretch, uniform in [aspect[0], aspect[1]]. */
  aspect: [number, number];
  /** Shift of the centre in pixels, uniform in ±translate on each axis. */
  translate: number;
  /** Outline stroke added to the glyph in pixels, uniform in [0, stroke] (thicker pen). */
  stroke: number;
}

export const DEFAULT_DIGIT_STYLE: DigitStyle = { rotation: 15, shear: 15, scale: [0.8, 1.05], aspect: [0.8, 1.1], translate: 2, stroke: 2.5 };

/** The synthetic set's sizes: the train split and the test split, each drawn from its own seed. */
export const FONT_DIGITS_SIZES = { train: 20_000, test: 2_000 } as const;
const SPLIT_SEEDS = { train: 14_001, test: 14_002 } as const;
const SIDE = 28;
/** Font size for scale 1: a lining digit is about 0.73 em tall, so 27 px gives MNIST's ~20 px digit box. */
const BASE_FONT_PX = 27;
/** Cells per rendered sheet (one SVG → one sharp call), as a grid of SHEET_COLS columns. */
const SHEET_CELLS = 1000;
const SHEET_COLS = 40;

export interface FontDigitsOptions {
  split?: 'train' | 'test';
  limit?: number;
  /** Render this many instead of the split's size (tests). */
  count?: number;
  seed?: number;
  style?: DigitStyle;
  packages?: readonly FontPackage[];
  log?: Log;
  install?: AptInstaller;
  /** Cache folder (default cacheDir()); null renders without caching. */
  cache?: string | null;
}

/**
 * "font-digits": the digits 0–9 set in Debian's fonts under random affine transforms and pen widths, 28×28
 * grey, white on black like MNIST, labelled by construction — the synthetic domain of SimGAN (Shrivastava et
 * al. 2017), whose refiner learns to make them look like MNIST. Deterministic given the seed and fonts; rendered
 * once by librsvg (through sharp) and cached.
 */
export async function loadFontDigits(opts: FontDigitsOptions = {}): Promise<ArraySource> {
  const split = opts.split ?? 'train';
  const packages = opts.packages ?? FONT_PACKAGES;
  await ensureFontPackages(packages, { log: opts.log, install: opts.install });
  const count = opts.count ?? FONT_DIGITS_SIZES[split];
  const seed = opts.seed ?? SPLIT_SEEDS[split];
  const style = opts.style ?? DEFAULT_DIGIT_STYLE;
  const faces = packages.flatMap((p) => p.faces);
  const key = `font-digits-v1-${split}-${count}-${seed}-${hashString(JSON.stringify([style, faces.map((f) => f.slice(0, 3))]))}`;
  const make = async () => renderDigits(count, seed, style, faces);
  const made = opts.cache === null ? await make() : await cachedImages(key, make, opts.cache);
  const n = Math.min(count, opts.limit ?? count);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = Number(made.names[i].split('-')[1]);
  return {
    kind: 'array',
    info: { name: 'font-digits', kind: 'image', shape: [SIDE, SIDE, 1], numClasses: 10, classNames: [...MNIST_CLASSES], count: n },
    count: n,
    values: made.values.subarray(0, n * SIDE * SIDE),
    labels,
    names: made.names.slice(0, n),
  };
}

/** Draw `count` digits (label i mod 10, so classes are balanced) and render them sheet by sheet. */
async function renderDigits(count: number, seed: number, style: DigitStyle, faces: readonly FontPackage['faces'][number][]) {
  const rng = new Rng(seed);
  const values = new Uint8Array(count * SIDE * SIDE);
  const names: string[] = [];
  for (let start = 0; start < count; start += SHEET_CELLS) {
    const cells: string[] = [];
    const n = Math.min(SHEET_CELLS, count - start);
    for (let j = 0; j < n; j++) {
      const i = start + j;
      const digit = i % 10;
      const [family, weight, fontStyle] = faces[rng.int(faces.length)];
      const u = (lo: number, hi: number) => lo + (hi - lo) * rng.uniform();
      const scale = u(style.scale[0], style.scale[1]);
      const aspect = u(style.aspect[0], style.aspect[1]);
      const [rot, shear] = [u(-style.rotation, style.rotation), u(-style.shear, style.shear)];
      const [dx, dy] = [u(-style.translate, style.translate), u(-style.translate, style.translate)];
      const stroke = u(0, style.stroke);
      const [x, y] = [(j % SHEET_COLS) * SIDE, Math.floor(j / SHEET_COLS) * SIDE];
      // A nested <svg> is a viewport that clips, so a glyph pushed past its cell never marks a neighbour.
      // Transforms apply right to left: stretch, shear, rotate about the glyph's centre, then move to the cell's centre.
      const transform = `translate(${f(SIDE / 2 + dx)} ${f(SIDE / 2 + dy)}) rotate(${f(rot)}) skewX(${f(shear)}) scale(${f(scale * aspect)} ${f(scale)})`;
      cells.push(
        `<svg x="${x}" y="${y}" width="${SIDE}" height="${SIDE}"><g transform="${transform}">` +
          `<text font-family="${family}" font-weight="${weight}" font-style="${fontStyle}" font-size="${BASE_FONT_PX}" text-anchor="middle" dominant-baseline="central" ` +
          `fill="white" stroke="white" stroke-width="${f(stroke / scale)}" stroke-linejoin="round">${digit}</text></g></svg>`,
      );
      names.push(`${i}-${digit}`);
    }
    const rows = Math.ceil(n / SHEET_COLS);
    const [w, h] = [SHEET_COLS * SIDE, rows * SIDE];
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><rect width="${w}" height="${h}" fill="black"/>${cells.join('')}</svg>`;
    const sheet = await sharp(Buffer.from(svg), { limitInputPixels: false }).greyscale().raw().toBuffer();
    for (let j = 0; j < n; j++) {
      const [x, y] = [(j % SHEET_COLS) * SIDE, Math.floor(j / SHEET_COLS) * SIDE];
      for (let r = 0; r < SIDE; r++) {
        const from = (y + r) * w + x;
        values.set(sheet.subarray(from, from + SIDE), (start + j) * SIDE * SIDE + r * SIDE);
      }
    }
  }
  return { shape: [count, SIDE, SIDE, 1], values, names };
}

/** Numbers in SVG attributes: 3 decimals, so the text (and the render) is the same on every platform. */
const f = (v: number): string => v.toFixed(3);

/** FNV-1a, for cache keys. */
function hashString(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}
