import { UserError } from '../util/errors.js';
import type { ArraySource } from './types.js';
import { captionedSource, textSettings, type CaptionedItem, type CaptionOptions } from './captions.js';
import { loadFashionMnist } from './fashion_mnist.js';
import { tokenize } from './tokenizer.js';
import { adaptImages } from './transform.js';

/**
 * The word of each Fashion-MNIST class in sentences, by label. Each holds one word no other class has (its
 * last), which is how a sentence's class is read back: 'top' for T-shirt/top, since 'shirt' is class 6's.
 */
export const FASHION_CLASS_WORDS = ['top', 'trousers', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'ankle boot'] as const;
/** Brightness bins, darkest first: the class's lower, middle and upper third of measured brightness. */
export const BRIGHTNESS_WORDS = ['dark', 'medium', 'light'] as const;
/** Size bins: below or above the class's median foreground area. */
export const SIZE_WORDS = ['small', 'large'] as const;

/** A pixel brighter than this (0–255) is the garment; Fashion-MNIST's background is 0. */
export const FOREGROUND_LEVEL = 24;

/** What is measured of one garment image. */
export interface GarmentMeasure {
  /** Mean grey level of the garment's pixels, 0–1 (0 when no pixel is foreground). */
  brightness: number;
  /** Fraction of the image the garment covers, 0–1. */
  area: number;
}

/**
 * Brightness and size of the image at `offset` of `values` ([h, w, c] per image; channels averaged):
 * uint8 values are 0–255, float32 ones are in the generator's [-1, 1]. Foreground = grey level above
 * FOREGROUND_LEVEL.
 */
export function measureGarment(values: Uint8Array | Float32Array, offset: number, [h, w, c]: readonly number[]): GarmentMeasure {
  const bytes = values instanceof Uint8Array;
  let sum = 0;
  let fg = 0;
  for (let p = 0; p < h * w; p++) {
    let v = 0;
    for (let k = 0; k < c; k++) v += values[offset + p * c + k];
    v /= c;
    const level = bytes ? v : (v + 1) * 127.5;
    if (level > FOREGROUND_LEVEL) {
      sum += level;
      fg++;
    }
  }
  return { brightness: fg > 0 ? sum / fg / 255 : 0, area: fg / (h * w) };
}

/** Per-class bin edges, measured on the training split: brightness tertiles [lo, hi] and the median area. */
export interface FashionBins {
  brightness: [number, number][];
  area: number[];
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The bin edges of each class from measured images (the training split's, so that every split uses the same). */
export function fashionBins(measures: readonly GarmentMeasure[], labels: Int32Array, classes = FASHION_CLASS_WORDS.length): FashionBins {
  const bright: number[][] = Array.from({ length: classes }, () => []);
  const area: number[][] = Array.from({ length: classes }, () => []);
  measures.forEach((m, i) => {
    bright[labels[i]].push(m.brightness);
    area[labels[i]].push(m.area);
  });
  const asc = (a: number, b: number) => a - b;
  return {
    brightness: bright.map((b) => (b.sort(asc), [quantile(b, 1 / 3), quantile(b, 2 / 3)] as [number, number])),
    area: area.map((a) => quantile(a.sort(asc), 0.5)),
  };
}

/** The words that describe a garment: its brightness bin (0 dark, 1 medium, 2 light) and size bin (0 small, 1 large). */
export interface GarmentAttributes {
  label: number;
  brightness: number;
  size: number;
}

export function garmentAttributes(m: GarmentMeasure, label: number, bins: FashionBins): GarmentAttributes {
  const [lo, hi] = bins.brightness[label];
  return { label, brightness: m.brightness < lo ? 0 : m.brightness < hi ? 1 : 2, size: m.area < bins.area[label] ? 0 : 1 };
}

const an = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');

/** Four phrasings of one garment: "a dark small sneaker", "this is a sneaker, dark in colour", "a small sneaker in a dark shade", "a picture of a dark sneaker". */
export function garmentSentences({ label, brightness, size }: GarmentAttributes): string[] {
  const g = FASHION_CLASS_WORDS[label];
  const b = BRIGHTNESS_WORDS[brightness];
  const s = SIZE_WORDS[size];
  return [`${an(b)} ${b} ${s} ${g}`, `this is ${an(g)} ${g}, ${b} in colour`, `${an(s)} ${s} ${g} in a ${b} shade`, `a picture of ${an(b)} ${b} ${g}`];
}

/** What a sentence asks for, read from its words: the class (-1 when no class word), and the brightness and size bins it names. */
export function sentenceAttributes(sentence: string): { label: number; brightness?: number; size?: number } {
  const words = tokenize(sentence);
  const label = FASHION_CLASS_WORDS.findIndex((g) => words.includes(g.split(' ').pop()!));
  const brightness = BRIGHTNESS_WORDS.findIndex((b) => words.includes(b));
  const size = SIZE_WORDS.findIndex((s) => words.includes(s));
  return { label, ...(brightness >= 0 ? { brightness } : {}), ...(size >= 0 ? { size } : {}) };
}

/**
 * The bins of the 60,000 training images (fashionBins of their measures; a test recomputes them), fixed here so
 * that loading any split, or a few images, needs no pass over the training set.
 */
export const FASHION_BINS: FashionBins = {
  brightness: [
    [0.5219471166482679, 0.725036524413687], [0.6302340290955092, 0.7507541478129713], [0.5257943177270908, 0.7414724380318165],
    [0.5970904490828589, 0.7599521203830369], [0.6550406020994256, 0.7698768002776332], [0.4699754901960784, 0.567258382642998],
    [0.4616967579110852, 0.6878942881500426], [0.5319738562091504, 0.6316148080853964], [0.6252508515143147, 0.7290633793380679],
    [0.6569754338517015, 0.7371831659493066],
  ],
  area: [426, 250, 479, 307, 451, 193, 464, 223, 422, 337].map((px) => px / 784),
};

/**
 * Every sentence the set can hold (each class × bin × phrasing), the source of its vocabulary and caption
 * length: the same for every split and limit, and no pass over 240,000 training captions to find it.
 */
export function fashionVocabSentences(): string[] {
  const out: string[] = [];
  for (let label = 0; label < FASHION_CLASS_WORDS.length; label++) {
    for (let brightness = 0; brightness < BRIGHTNESS_WORDS.length; brightness++) {
      for (let size = 0; size < SIZE_WORDS.length; size++) out.push(...garmentSentences({ label, brightness, size }));
    }
  }
  return out;
}

export interface FashionCaptionOptions extends CaptionOptions {
  /** Folder of the idx files (default as fashion-mnist). */
  dir?: string;
}

/** A split's captioned source with what its sentences were made of. */
export interface FashionCaptionData {
  source: ArraySource;
  /** Per example of `source`: its class and bins, the words its sentences use. */
  attributes: GarmentAttributes[];
  measures: GarmentMeasure[];
}

/**
 * captions:fashion-mnist with what each sentence was made from. Every image gets four sentences naming its class,
 * its brightness bin and its size bin, the bins cut at the training split's per-class thirds (brightness) and
 * median (area), FASHION_BINS, so a bin word means the same in every split and every class has each word about
 * equally often.
 */
export async function fashionCaptionData(opts: FashionCaptionOptions = {}): Promise<FashionCaptionData> {
  const split = opts.split ?? 'train';
  const full = await loadFashionMnist({ split, dir: opts.dir, limit: opts.limit });
  if (full.count === 0) throw new UserError(`captions:fashion-mnist: limit ${opts.limit} leaves no images`);
  const labels = full.labels!;
  const measures = Array.from({ length: full.count }, (_, i) => measureGarment(full.values as Uint8Array, i * 784, [28, 28, 1]));
  const attributes = measures.map((m, i) => garmentAttributes(m, labels[i], FASHION_BINS));
  const items: CaptionedItem[] = attributes.map((a, i) => ({ name: `${split}-${i}`, captions: garmentSentences(a), where: `fashion-mnist ${split} image ${i}` }));
  const source = captionedSource({
    name: 'captions:fashion-mnist',
    shape: full.info.shape,
    values: full.values as Uint8Array,
    items,
    labels,
    classNames: [...(full.info.classNames ?? [])],
    text: textSettings(fashionVocabSentences(), opts),
    notices: [`captions:fashion-mnist: sentences of the class word, brightness (${BRIGHTNESS_WORDS.join('/')}: per-class thirds) and size (${SIZE_WORDS.join('/')}: per-class median area), 4 phrasings per image`],
  });
  return { source: adaptImages(source, { imageSize: opts.imageSize, channels: opts.channels }), attributes, measures };
}

/** `captions:fashion-mnist`: see fashionCaptionData. 28×28 grey unless imageSize/channels say otherwise. */
export async function loadFashionCaptions(opts: FashionCaptionOptions = {}): Promise<ArraySource> {
  return (await fashionCaptionData(opts)).source;
}
