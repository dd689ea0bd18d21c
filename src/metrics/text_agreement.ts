import { BRIGHTNESS_WORDS, FASHION_CLASS_WORDS, SIZE_WORDS, garmentSentences, measureGarment, sentenceAttributes } from '../data/fashion_captions.js';
import type { FeatureNetwork, ImageSet } from './features.js';

/**
 * How well images drawn for sentences of captions:fashion-mnist do what the sentences ask: the shipped
 * classifier's agreement with the class word, and the measured brightness and size of images drawn for
 * the opposite bin words ("a dark …" against "a light …", "small" against "large").
 */
export interface TextAgreement {
  /** Fraction of images whose predicted class is the sentence's class word (sentences with a class word only). */
  classAgreement: number;
  classCounted: number;
  /** Mean measured brightness (0–1) of images for 'dark' and for 'light' sentences, and light − dark: > 0 when the word steers brightness. */
  brightness: { dark: number; light: number; gap: number; nDark: number; nLight: number };
  /** Mean measured foreground area (0–1) for 'small' and 'large' sentences, and large − small. */
  size: { small: number; large: number; gap: number; nSmall: number; nLarge: number };
}

/** Fraction of rows whose argmax is `wanted[i]`, over the rows with wanted[i] ≥ 0 (NaN when none). */
export function classAgreement(logits: Float32Array, classes: number, wanted: ArrayLike<number>): { agreement: number; counted: number } {
  let hits = 0;
  let counted = 0;
  for (let i = 0; i < wanted.length; i++) {
    if (wanted[i] < 0) continue;
    let best = 0;
    for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
    counted++;
    if (best === wanted[i]) hits++;
  }
  return { agreement: counted > 0 ? hits / counted : NaN, counted };
}

/** Mean measured brightness and area of the images for each bin word of `sentences` (images[i] drawn for sentences[i]). */
export function attributeDirection(images: ImageSet, sentences: readonly string[]): Pick<TextAgreement, 'brightness' | 'size'> {
  if (sentences.length !== images.n) throw new Error(`${images.n} images for ${sentences.length} sentences`);
  const per = images.h * images.w * images.c;
  const acc = { dark: [0, 0], light: [0, 0], small: [0, 0], large: [0, 0] };
  sentences.forEach((s, i) => {
    const a = sentenceAttributes(s);
    const m = measureGarment(images.values, i * per, [images.h, images.w, images.c]);
    if (a.brightness === 0) (acc.dark[0] += m.brightness, acc.dark[1]++);
    if (a.brightness === BRIGHTNESS_WORDS.length - 1) (acc.light[0] += m.brightness, acc.light[1]++);
    if (a.size === 0) (acc.small[0] += m.area, acc.small[1]++);
    if (a.size === SIZE_WORDS.length - 1) (acc.large[0] += m.area, acc.large[1]++);
  });
  const mean = ([s, n]: number[]) => (n > 0 ? s / n : NaN);
  const [dark, light, small, large] = [mean(acc.dark), mean(acc.light), mean(acc.small), mean(acc.large)];
  return {
    brightness: { dark, light, gap: light - dark, nDark: acc.dark[1], nLight: acc.light[1] },
    size: { small, large, gap: large - small, nSmall: acc.small[1], nLarge: acc.large[1] },
  };
}

/**
 * Sentences to draw for the score, balanced: every class × {dark, light} × {small, large}, in the first
 * phrasing ("a dark small sneaker"), `repeat` times over (the generator's noise differs per row).
 */
export function agreementSentences(repeat = 1): string[] {
  const out: string[] = [];
  for (let r = 0; r < repeat; r++) {
    for (let label = 0; label < FASHION_CLASS_WORDS.length; label++) {
      for (const brightness of [0, BRIGHTNESS_WORDS.length - 1]) for (const size of [0, SIZE_WORDS.length - 1]) out.push(garmentSentences({ label, brightness, size })[0]);
    }
  }
  return out;
}

/**
 * The whole score of images drawn for `sentences` (images[i] for sentences[i], uint8 0–255 or float32 in
 * [-1, 1]) with a classifier of Fashion-MNIST's 10 classes (the shipped one: loadClassifierNet('fashion-mnist')).
 */
export function textAgreement(images: ImageSet, sentences: readonly string[], classifier: FeatureNetwork): TextAgreement {
  const { logits } = classifier.embed(images);
  if (!logits || classifier.info.classes !== FASHION_CLASS_WORDS.length) throw new Error(`${classifier.info.name} gives no ${FASHION_CLASS_WORDS.length}-class logits`);
  const { agreement, counted } = classAgreement(logits, FASHION_CLASS_WORDS.length, sentences.map((s) => sentenceAttributes(s).label));
  return { classAgreement: agreement, classCounted: counted, ...attributeDirection(images, sentences) };
}
