import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { discriminatorOf, extraNetwork, type GanFamily, type GanNetworks, type SampleRequest } from '../gan/family.js';
import { settingsOf, type RunConfig, type SettingsTable } from '../gan/config.js';
import { trainableVariables, untaped, type StepContext, type StepStats } from '../gan/step.js';
import { dOptimizer } from '../gan/optimizers.js';
import { HONOURS } from '../gan/settings.js';
import type { AdversarialLoss } from '../gan/losses.js';
import { imageRows, latents } from '../gan/sampling.js';
import type { DatasetInfo, TextBatch } from '../data/types.js';
import { SeededInit } from '../nn/init.js';
import { caKlDivergence } from '../nn/conditioning_augmentation.js';
import { upsampleNearest2x } from '../nn/upsample.js';
import { PaddingMask } from '../nn/word_attention.js';
import { IMAGE_ENCODER, TEXT_ENCODER, buildImageEncoder, buildTextEncoder, encodeImages, encodeText, type TextFeatures } from '../text/encoders.js';
import { damsmLoss } from '../text/damsm.js';
import { requestCaptions } from '../text/sampling.js';
import { TEXT_ENCODER_SETTINGS, rollBatch, textGeneratorModel, type TextEncoderSettings } from '../text/conditioning.js';
import { Rng } from '../util/rng.js';
import { UserError } from '../util/errors.js';
import { attnDiscriminators, attnGenerator, generatorOutputs, stageLogits, stagesProblem, type AttnGanSpec } from './nets/attn_nets.js';

/** attngan's own settings (flags --lambda-damsm, --kl-weight, --cond-dim, --stages, --res-blocks, --d-width, --word-dim, --text-dim). */
export interface AttnGanSettings extends TextEncoderSettings {
  lambdaDamsm: number;
  klWeight: number;
  condDim: number;
  stages: number;
  resBlocks: number;
  dWidth: number;
}

export const ATTNGAN_SETTINGS: SettingsTable = {
  lambdaDamsm: { default: 5, schema: z.number().nonnegative().finite(), help: "weight λ of the DAMSM loss in G's loss (AttnGAN: 5 for CUB birds, the default; 50 for COCO; 0 = no DAMSM term)" },
  klWeight: { default: 1, schema: z.number().nonnegative().finite(), help: "weight of Conditioning Augmentation's KL term in G's loss (AttnGAN's code: 1)" },
  condDim: { default: 100, schema: z.number().int().positive(), help: "size of the augmented sentence condition ĉ (AttnGAN: 100); its noise ε is z's last cond-dim numbers" },
  stages: { default: 0, schema: z.number().int().min(0).max(4), help: 'generator stages, each doubling the side (0 = by image size: 3 from 64 px, 16 → 32 → 64; else 2)' },
  resBlocks: { default: 2, schema: z.number().int().nonnegative(), help: 'residual blocks in each refining stage (AttnGAN: 2)' },
  dWidth: { default: 64, schema: z.number().int().positive(), help: "channels of each stage discriminator's first layer, doubled per halving up to 8× (AttnGAN's DF_DIM: 64)" },
  ...TEXT_ENCODER_SETTINGS,
};

const FAMILY = 'attngan';
const TRAINING = { training: true };

/**
 * AttnGAN (Xu, Zhang, Huang, Zhang, Gan, Huang & He 2018, "AttnGAN: Fine-Grained Text to Image Generation with
 * Attentional Generative Adversarial Networks"): a sentence and its words in, an image out, refined in stages.
 *
 *   e, ē = text encoder(caption)         words [B, T, D] and sentence [B, D] (frozen; DAMSM-pretrained)
 *   ĉ = F^ca(ē)                           Conditioning Augmentation, with its KL term; its ε is z's tail, so that
 *                                         z = [F0's noise, ε] fixes a sample (--latent-dim 200 = the paper's 100 + 100)
 *   h0 = F0(z, ĉ);  hi = Fi(h(i−1), F^attn_i(e, h(i−1)));  x̂i = Gi(hi)        (eq. 1; attn_nets.ts)
 *   D_i: unconditional and conditional logits at each stage; real images with another caption count as fake
 *   L_G = Σ_i [L_adv(D_i(x̂i)) + L_adv(D_i(x̂i, ē))] + λ·L_DAMSM(x̂_last, caption) + KL     (eq. 3–5)
 *   Adam, lr 2·10⁻⁴, β (0.5, 0.999); λ = 5 (birds; COCO: 50); batch 20
 *
 * The text encoder and the image encoder of the DAMSM loss are in GanNetworks.extra (TEXT_ENCODER,
 * IMAGE_ENCODER), in no player: they stay as built, or as pretrained ones copied in before the first step.
 */
export const attngan: GanFamily = {
  name: FAMILY,
  summary: 'text to image in stages with word-level attention and the DAMSM loss (Xu et al. 2018); sample --text',
  paper: 'Xu, Zhang, Huang, Zhang, Gan, Huang & He 2018, AttnGAN: Fine-Grained Text to Image Generation with Attentional Generative Adversarial Networks, arXiv:1711.10485',
  condition: 'text',
  // --width is the generator's hidden channels (GF_DIM); --latent-dim is z's size: F0's noise and CA's ε (--cond-dim).
  // --max-words, --text-encoder, --text-encoder-steps: the captions' length and the DAMSM encoders (pretrained or a phase).
  honours: ['loss', 'latentDim', 'width', ...HONOURS.text],
  settings: ATTNGAN_SETTINGS,

  defaults: () => ({ lrG: 2e-4, lrD: 2e-4, beta1: 0.5, beta2: 0.999, batchSize: 20, latentDim: 200, width: 32, loss: 'non-saturating' }),

  check(data, config) {
    if (data.kind !== 'image') return `${FAMILY} draws images from sentences, and ${data.name} is 2-D points; train it on captioned images (--data captions:DIR)`;
    if (!data.text) return `${FAMILY} draws images from sentences, and ${data.name} has no captions; train it on captioned images (--data captions:DIR, a folder of NAME.png beside NAME.txt, or captions:fashion-mnist)`;
    const [h, w] = data.shape;
    const { condDim } = settingsOf<AttnGanSettings>(config);
    if (config.latentDim <= condDim) return `--latent-dim ${config.latentDim} must exceed --cond-dim ${condDim}: z holds the generator's noise and then Conditioning Augmentation's ε (AttnGAN: 100 + 100)`;
    if (h !== w) return `${FAMILY} needs square images, got ${h}×${w}; pass --image-size N`;
    const problem = stagesProblem(h, stagesOf(data, config));
    return problem ? `${problem}; pass --image-size 16, 32, 64, … or fewer --stages` : null;
  },

  build(data, config, rng) {
    const s = settingsOf<AttnGanSettings>(config);
    const spec = specOf(data, config);
    const init = new SeededInit(rng);
    const generator = attnGenerator(spec, init, rng);
    const discriminator = attnDiscriminators(spec, init);
    const textEncoder = buildTextEncoder(data.text!, { embedDim: s.wordDim, featureDim: s.textDim }, rng);
    const imageEncoder = buildImageEncoder(data.shape, s.textDim, rng);
    return { generator, discriminator, extra: { [TEXT_ENCODER]: textEncoder, [IMAGE_ENCODER]: imageEncoder } };
  },

  step: attnGanStep,

  /** The request's sentences (cycled), or with --text-to one latent for all and the text features moving from one sentence to the other. */
  sample(nets, request, run) {
    refuseOtherRequests(request);
    const n = request.count;
    const rng = new Rng(request.seed);
    const interpolate = request.textTo !== undefined;
    const captions = requestCaptions(run.data, interpolate ? [request.text?.[0] ?? '', request.textTo!] : request.text, interpolate ? 2 : n);
    const ends = interpolate ? textFeatures(extraNetwork(nets, TEXT_ENCODER, FAMILY), captions) : undefined;
    const zs = interpolate ? tf.tidy(() => tf.tile(latents(rng, 1, run.config.latentDim), [n, 1]) as tf.Tensor2D) : latents(rng, n, run.config.latentDim);
    try {
      const images = drawWith(nets, ends ? interpolatedRows(ends, n) : captionRows(nets, captions), zs, run, 'images');
      const last = images.pop()!;
      tf.dispose(images);
      try {
        return { values: last.dataSync() as Float32Array, count: n, shape: run.data.shape };
      } finally {
        last.dispose();
      }
    } finally {
      tf.dispose([zs, captions.tokens, captions.lengths, ...(ends ? Object.values(ends) : [])]);
    }
  },

  /** The probe's captions with the probe's z: each row shows every stage (enlarged to the final side) and the real image. */
  picture(nets, probe, run) {
    const batch = probe.batch;
    if (!batch?.text) throw new Error(`${FAMILY}: the probe batch carries no captions`);
    const n = batch.x.shape[0];
    const zs = tf.slice(probe.z, 0, n);
    const images = drawStages(nets, batch.text, zs, run);
    try {
      const enlarged = images.map((x) => tf.tidy(() => enlarge(x, run.data.shape[0])));
      try {
        return imageRows([...enlarged, batch.x]);
      } finally {
        tf.dispose(enlarged);
      }
    } finally {
      tf.dispose([...images, zs]);
    }
  },

  /** [z, token ids] → the last stage's images: the text encoder, its sentence feature and padding mask, and G, sharing their weights. */
  textGenerator(nets, run) {
    const stages = stagesOf(run.data, run.config);
    return textGeneratorModel(extraNetwork(nets, TEXT_ENCODER, FAMILY), run.config.latentDim, run.data.text!.maxLen, (z, sentence, words, tokens) => {
      const mask = new PaddingMask({ name: 'word_mask' }).apply(tokens) as tfl.SymbolicTensor;
      return (nets.generator.apply([z, sentence, words, mask]) as tfl.SymbolicTensor[])[stages - 1]; // the final stage's image
    });
  },
};

/** The number of generator stages on this data: --stages, or 3 from 64 px and 2 below. */
export function stagesOf(data: DatasetInfo, config: RunConfig): number {
  const s = settingsOf<AttnGanSettings>(config).stages;
  return s > 0 ? s : data.shape[0] >= 64 ? 3 : 2;
}

function specOf(data: DatasetInfo, config: RunConfig): AttnGanSpec {
  const s = settingsOf<AttnGanSettings>(config);
  const [size, , channels] = data.shape;
  return {
    size, channels, stages: stagesOf(data, config), latentDim: config.latentDim, condDim: s.condDim,
    textDim: s.textDim, maxLen: data.text!.maxLen, ngf: config.width, ndf: s.dWidth, resBlocks: s.resBlocks,
  };
}

/**
 * One AttnGAN iteration: the stage discriminators' update on real images (with their own and with mismatched
 * captions) and the generated ones, then G's on L_G. As in adversarialStep, G runs forward once and D's update
 * runs inside G's gradient scope with the tape paused, on G's output as a constant.
 */
export function attnGanStep(ctx: StepContext): StepStats {
  const { nets, opt, loss } = ctx;
  const s = settingsOf<AttnGanSettings>(ctx.config);
  if (!ctx.text) throw new Error(`${FAMILY}: the batch carries no captions`);
  const stages = stagesOf(ctx.data, ctx.config);
  const text = textFeatures(extraNetwork(nets, TEXT_ENCODER, FAMILY), ctx.text); // constants to both players
  const mismatched = rollBatch(text.sentence); // each real image with the next example's sentence
  const reals = realPyramid(ctx.real as tf.Tensor4D, stages); // [B, s_i, s_i, C] per stage
  const imageEncoder = extraNetwork(nets, IMAGE_ENCODER, FAMILY);
  const kept: Record<string, tf.Scalar> = {};
  let d!: DResult;
  const lossG = opt.g.minimize(() => {
    const out = generatorOutputs(nets.generator.apply([ctx.z, text.sentence, text.words, text.mask], TRAINING) as tf.Tensor[], stages);
    // Phase 1 — the stage discriminators' update (G's output a constant to it).
    d = untaped(() => discriminatorUpdate(nets, dOptimizer(ctx.opt), loss, reals, out.images, text.sentence, mismatched));
    // Phase 2 — G: fool every D_i, unconditionally and conditionally, under the updated D's.
    const logits = discriminatorOf(nets).apply([...out.images, text.sentence], TRAINING) as tf.Tensor[];
    let adversarial: tf.Tensor = tf.scalar(0);
    for (let i = 0; i < stages; i++) {
      const f = stageLogits(logits, i);
      const r = d.real[i];
      adversarial = tf.add(adversarial, tf.add(loss.g(f.uncond, r.uncond), loss.g(f.cond, r.cond)));
    }
    const kl = caKlDivergence(out.mu, out.logVar);
    kept['loss/G_GAN'] = tf.keep(adversarial as tf.Scalar);
    kept['loss/G_KL'] = tf.keep(kl);
    const terms = [adversarial, tf.mul(s.klWeight, kl)];
    if (s.lambdaDamsm > 0) {
      const image = encodeImages(imageEncoder, out.images[stages - 1] as tf.Tensor4D); // the final image's regions and global feature
      const damsm = damsmLoss({ words: text.words, mask: text.mask, sentence: text.sentence, regions: image.regions, global: image.global });
      kept['loss/G_DAMSM'] = tf.keep(damsm.total);
      kept['loss/G_DAMSM_words'] = tf.keep(damsm.words);
      terms.push(tf.mul(s.lambdaDamsm, damsm.total));
    }
    return tf.addN(terms) as tf.Scalar;
  }, true, trainableVariables(nets.generator))!;
  const lossValue = lossG.dataSync()[0];
  const extra = Object.fromEntries(Object.entries(kept).map(([k, t]) => [k, t.dataSync()[0]]));
  tf.dispose([lossG, ...Object.values(kept), ...d.real.flatMap((r) => [r.uncond, r.cond]), text.words, text.sentence, text.mask, mismatched, ...reals]);
  return { lossD: d.lossD, lossG: lossValue, dReal: d.dReal, dFake: d.dFake, extra: { ...extra, ...d.stages } };
}

interface DResult {
  lossD: number;
  /** mean σ of the last stage's conditional logits on real and generated images (monitoring). */
  dReal: number;
  dFake: number;
  /** Each stage's D loss, by report name. */
  stages: Record<string, number>;
  /** Each stage's logits on the real batch with its captions, kept for relativistic G losses; the caller frees them. */
  real: { uncond: tf.Tensor; cond: tf.Tensor }[];
}

/**
 * The update of D0 … D(m−1) (§2.1, eq. 4; the released code's weighting): per stage, the real image counts as
 * real to the unconditional and to the conditional head, and the generated image (both heads) and the real
 * image with a mismatched sentence count as fake: L_D_i = L_d([u_r, c_r], [u_f, c_f, c_mis]), where a mean over
 * the concatenated logits weighs each real term ½ and each fake term ⅓. The stages' losses are summed. The
 * mismatched logits come from a pass of their own over the real images (the released code reuses the real
 * pass's image features: the same function, computed once more here so that no layer is shared in the graph).
 */
function discriminatorUpdate(nets: GanNetworks, opt: tf.Optimizer, loss: AdversarialLoss, reals: tf.Tensor[], fakes: tf.Tensor[], sentence: tf.Tensor, mismatched: tf.Tensor): DResult {
  const D = discriminatorOf(nets);
  const stages = reals.length;
  const keptStages: tf.Scalar[] = [];
  let real: DResult['real'] = [];
  let dReal!: tf.Scalar, dFake!: tf.Scalar;
  const lossD = opt.minimize(() => {
    const r = D.apply([...reals, sentence], TRAINING) as tf.Tensor[];
    const w = D.apply([...reals, mismatched], TRAINING) as tf.Tensor[];
    const f = D.apply([...fakes, sentence], TRAINING) as tf.Tensor[];
    const perStage = Array.from({ length: stages }, (_, i) => {
      const [ri, wi, fi] = [stageLogits(r, i), stageLogits(w, i), stageLogits(f, i)];
      return loss.d(tf.concat([ri.uncond, ri.cond]), tf.concat([fi.uncond, fi.cond, wi.cond]));
    });
    keptStages.push(...perStage.map((t) => tf.keep(t)));
    real = Array.from({ length: stages }, (_, i) => ({ uncond: tf.keep(stageLogits(r, i).uncond), cond: tf.keep(stageLogits(r, i).cond) }));
    dReal = tf.keep(tf.mean(tf.sigmoid(stageLogits(r, stages - 1).cond)));
    dFake = tf.keep(tf.mean(tf.sigmoid(stageLogits(f, stages - 1).cond)));
    return tf.addN(perStage) as tf.Scalar;
  }, true, trainableVariables(D))!;
  const values = [lossD, dReal, dFake].map((t) => t.dataSync()[0]);
  const perStage = Object.fromEntries(keptStages.map((t, i) => [`loss/D${i}`, t.dataSync()[0]]));
  tf.dispose([lossD, dReal, dFake, ...keptStages]);
  return { lossD: values[0], dReal: values[1], dFake: values[2], stages: perStage, real };
}

/** The frozen text encoder's features of captions (no tape: constants to both players). */
function textFeatures(encoder: tfl.LayersModel, captions: TextBatch): TextFeatures {
  const [words, sentence, mask] = tf.tidy(() => {
    const t = encodeText(encoder, captions);
    return [t.words, t.sentence, t.mask];
  });
  return { words: words as tf.Tensor3D, sentence: sentence as tf.Tensor2D, mask: mask as tf.Tensor2D };
}

/** The real batch at each stage's side, coarse to fine: 2×2 means repeatedly (a box filter, exact for halving). */
function realPyramid(x: tf.Tensor4D, stages: number): tf.Tensor4D[] {
  const out = [x.clone()];
  for (let i = 1; i < stages; i++) out.unshift(tf.tidy(() => tf.avgPool(out[0], 2, 2, 'valid')));
  return out;
}

/** Nearest-neighbour enlargement of images [B, s, s, C] to [B, side, side, C] (side/s a power of two). */
function enlarge(x: tf.Tensor, side: number): tf.Tensor {
  let y = x as tf.Tensor4D;
  while (y.shape[1] < side) y = upsampleNearest2x(y);
  return y;
}

const CHUNK = 64;

/**
 * Every stage's images [n, s_i, s_i, C] for captions and latents z [n, latentDim] (CA's ε is z's tail), with G in
 * inference mode (batch norm on its moving statistics), in chunks. The tensors are the caller's.
 */
export function drawStages(nets: GanNetworks, captions: TextBatch, zs: tf.Tensor2D, run: { config: RunConfig; data: DatasetInfo }): tf.Tensor[] {
  return drawWith(nets, captionRows(nets, captions), zs, run, 'images');
}

/**
 * The attention maps β of each refining stage for captions (AttnGAN's Fig. 2 and 5): [n, s_i, s_i, T] per stage
 * i ≥ 1, where β[·, y, x, t] is how much the region at (y, x) draws on word t (0 at padding; each region's weights
 * sum to 1). Drawn with the same latents as the images they belong to. The tensors are the caller's.
 */
export function attentionMaps(nets: GanNetworks, captions: TextBatch, zs: tf.Tensor2D, run: { config: RunConfig; data: DatasetInfo }): tf.Tensor[] {
  return drawWith(nets, captionRows(nets, captions), zs, run, 'attention');
}

/** The text features of rows [start, start + size) of a sampling batch. */
type FeatureRows = (start: number, size: number) => TextFeatures;

/** Rows of captions through the frozen text encoder. */
function captionRows(nets: GanNetworks, captions: TextBatch): FeatureRows {
  const encoder = extraNetwork(nets, TEXT_ENCODER, FAMILY);
  return (start, size) => encodeText(encoder, { tokens: tf.slice(captions.tokens, start, size), lengths: tf.slice(captions.lengths, start, size) });
}

/**
 * Row k of n: the features of two captions ([2, …], `ends`) mixed (1 − t)·a + t·b with t = k/(n − 1), words as well
 * as the sentence, and the word masks too (WordAttention weighs a word by its mask), so that the ends are the two
 * captions exactly.
 */
function interpolatedRows(ends: TextFeatures, n: number): FeatureRows {
  return (start, size) => {
    const t = tf.tensor1d(Array.from({ length: size }, (_, i) => (n === 1 ? 0 : (start + i) / (n - 1))));
    const mix = <T extends tf.Tensor>(x: T): T => {
      const [a, b] = tf.split(x, 2);
      const w = tf.reshape(t, [size, ...x.shape.slice(1).map(() => 1)]);
      return tf.add(tf.mul(a, tf.sub(1, w)), tf.mul(b, w)) as T;
    };
    return { words: mix(ends.words), sentence: mix(ends.sentence), mask: mix(ends.mask) };
  };
}

function drawWith(nets: GanNetworks, features: FeatureRows, zs: tf.Tensor2D, run: { config: RunConfig; data: DatasetInfo }, what: 'images' | 'attention'): tf.Tensor[] {
  const stages = stagesOf(run.data, run.config);
  const n = zs.shape[0];
  const parts: tf.Tensor[][] = [];
  for (let start = 0; start < n; start += CHUNK) {
    const size = Math.min(CHUNK, n - start);
    parts.push(tf.tidy(() => {
      const text = features(start, size);
      const out = generatorOutputs(nets.generator.apply([tf.slice(zs, start, size), text.sentence, text.words, text.mask], { training: false }) as tf.Tensor[], stages);
      return what === 'images' ? out.images : out.attention;
    }));
  }
  if (parts.length === 1) return parts[0];
  const joined = parts[0].map((_, i) => tf.concat(parts.map((p) => p[i])));
  tf.dispose(parts.flat());
  return joined;
}

function refuseOtherRequests(request: SampleRequest): void {
  if (request.input) throw new UserError(`${FAMILY} draws images from sentences (--text); it takes no input images`);
  if (request.class !== undefined) throw new UserError(`${FAMILY} draws from sentences; it takes no --class (write the class into the --text sentence)`);
  if (request.code?.length || request.vary !== undefined) throw new UserError(`--code/--vary set the latent codes of a model that has them (infogan); ${FAMILY} has none`);
  if (request.direction) throw new UserError(`--direction chooses a translator's generator; ${FAMILY} has one generator`);
}

