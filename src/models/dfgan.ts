import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { discriminatorOf, extraNetwork, samplingGenerator, type GanFamily, type GanNetworks, type SampleResult } from '../gan/family.js';
import { settingsOf, type RunConfig, type SettingsTable } from '../gan/config.js';
import { HONOURS, honourList } from '../gan/settings.js';
import { matchingAwareGradientPenalty } from '../gan/regularizers.js';
import { latents } from '../gan/sampling.js';
import { trainableVariables, untaped, type StepContext, type StepStats } from '../gan/step.js';
import { dOptimizer } from '../gan/optimizers.js';
import type { DatasetInfo, TextBatch } from '../data/types.js';
import { SeededInit } from '../nn/init.js';
import { TEXT_ENCODER, buildTextEncoder } from '../text/encoders.js';
import { requestCaptions } from '../text/sampling.js';
import { TEXT_ENCODER_SETTINGS, rollBatch, sentenceFeatures, textDataProblem, textEncoderSpecOf, textGeneratorModel, textPicture } from '../text/conditioning.js';
import { Rng } from '../util/rng.js';
import { readTidy } from '../util/tensors.js';
import { UserError } from '../util/errors.js';
import { baseGrid, dfganDiscriminator, dfganGenerator, discriminatorParts, type DfGanSize } from './nets/text_nets.js';

/** dfgan's own settings (flags --magp-weight, --magp-power, and the text encoder's --word-dim, --text-dim). */
export interface DfGanSettings {
  magpWeight: number;
  magpPower: number;
  wordDim: number;
  textDim: number;
}

export const DFGAN_SETTINGS: SettingsTable = {
  magpWeight: { default: 2, schema: z.number().nonnegative().finite(), help: "weight k of the matching-aware gradient penalty on real images and their sentences (DF-GAN: 2; 0 = off)" },
  magpPower: { default: 6, schema: z.number().positive().finite(), help: 'power p of the gradient norm in the matching-aware gradient penalty (DF-GAN: 6)' },
  ...TEXT_ENCODER_SETTINGS,
};

const TRAINING = { training: true };

/**
 * DF-GAN (Tao, Tang, Wu, Jing, Bao & Xu 2022, "DF-GAN: A Simple and Effective Baseline for Text-to-Image
 * Synthesis"): one generator, one discriminator, the sentence fused into every up-block.
 *
 *   e = sentence feature of the caption (frozen bidirectional-LSTM text encoder); ê = another example's (the batch rolled by one)
 *   G(z, e): z ~ N(0, I)¹⁰⁰ → FC → base×base map; UPBlocks of deep fusion blocks (affine γ, β from MLPs of [z, e])
 *   D(x, e): downsampling residual blocks on x, then e replicated over the grid and joined before the logit
 *   L_D = E[max(0, 1 − D(x, e))] + ½E[max(0, 1 + D(G(z, e), e))] + ½E[max(0, 1 + D(x, ê))]
 *         + k·E[‖(∇ₓD(x, e), ∇ₑD(x, e))‖^p]                (MA-GP, k = 2, p = 6)
 *   L_G = −E[D(G(z, e), e)]
 *   Adam β = (0, 0.9), lr 1e-4 for G and 4e-4 for D (two time-scale); one D then one G update per batch
 *
 * --width is the paper's nf (32 at 256 px): G and D have nf·min(2^k, 8) channels k halvings below the full size.
 * The text encoder is built fresh in GanNetworks.extra and stays frozen (in no player).
 */
export const dfgan: GanFamily = {
  name: 'dfgan',
  summary: 'text-to-image DF-GAN (Tao et al. 2022): deep fusion blocks, hinge loss with mismatched texts, MA-GP; sample --text',
  paper: 'Tao, Tang, Wu, Jing, Bao & Xu 2022, DF-GAN: A Simple and Effective Baseline for Text-to-Image Synthesis, arXiv:2008.05865',
  condition: 'text',
  // Its own loss (hinge with mismatched texts) and penalty (MA-GP, --magp-weight): the shared loss and penalties do
  // not apply. The text settings: caption length, pretrained or pretraining DAMSM encoders.
  honours: honourList('latentDim', 'width', HONOURS.text),
  settings: DFGAN_SETTINGS,

  defaults: () => ({ latentDim: 100, width: 32, batchSize: 32, optimizer: 'adam', lrG: 1e-4, lrD: 4e-4, beta1: 0, beta2: 0.9, loss: 'hinge' }),

  check(data) {
    const problem = textDataProblem('dfgan', data);
    if (problem) return problem;
    const [h, w] = data.shape;
    if (h !== w || baseGrid(h).n === 0) return `dfgan grows a small grid by doubling, so it needs square images of a side base·2ⁿ with base ≥ 4 (16, 32, 64, 128 …), got ${h}×${w}; pass --image-size 32 (or 64)`;
    return null;
  },

  build(data, config, rng) {
    const init = new SeededInit(rng);
    const size = sizeOf(data, config);
    const textEncoder = buildTextEncoder(data.text!, textEncoderSpecOf(config), rng);
    return { generator: dfganGenerator(size, init), discriminator: dfganDiscriminator(size, init), extra: { [TEXT_ENCODER]: textEncoder } };
  },

  step: dfganStep,

  sample(nets, request, run) {
    if (request.class !== undefined || request.code?.length || request.vary !== undefined || request.input) throw new UserError('dfgan draws from sentences: give --text, not --class, --code, --vary or input images');
    const text = requestCaptions(run.data, request.text, request.count);
    const z = latents(new Rng(request.seed), request.count, run.config.latentDim);
    try {
      return generateFromText(nets, z, text);
    } finally {
      tf.dispose([z, text.tokens, text.lengths]);
    }
  },

  textGenerator: (nets, run) => textGeneratorModel(extraNetwork(nets, TEXT_ENCODER, 'dfgan'), run.config.latentDim, run.data.text!.maxLen,
    (z, sentence) => samplingGenerator(nets).apply([z, sentence]) as tfl.SymbolicTensor),

  picture: (nets, probe) => textPicture(probe, (z, text) => generateFromText(nets, z, text)),
};

function s(config: RunConfig): RunConfig & DfGanSettings {
  return settingsOf<DfGanSettings>(config);
}

function sizeOf(data: DatasetInfo, config: RunConfig): DfGanSize {
  return { side: data.shape[0], channels: data.shape[2], zDim: config.latentDim, textDim: s(config).textDim, width: config.width };
}

/** A scalar's value; frees it. */
function take(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/**
 * One DF-GAN iteration. G runs forward once: D's update happens inside G's gradient scope with G's tape paused
 * (untaped, as adversarialStep does), on G's output as a constant; G's loss then reads the updated D.
 */
export function dfganStep(ctx: StepContext): StepStats {
  const { nets, opt } = ctx;
  const own = s(ctx.config);
  const { features, head } = discriminatorParts(discriminatorOf(nets));
  const critic = (x: tf.Tensor, e: tf.Tensor) => head.apply([features.apply(x, TRAINING) as tf.Tensor, e], TRAINING) as tf.Tensor; // [B, 1]
  const sentence = sentenceFeatures(nets, ctx.text, 'dfgan'); // e [B, D], constant to both players
  const mismatched = rollBatch(sentence); // ê: example i gets caption i + 1's
  const extra: Record<string, number> = {};
  let lossD = 0, dReal = 0, dFake = 0;

  const lossG = take(opt.g.minimize(() => {
    const fake = nets.generator.apply([ctx.z, sentence], TRAINING) as tf.Tensor; // G(z, e) [B, H, W, C]
    // D step: hinge on (x, e) → real, (G(z, e), e) and (x, ê) → fake, weights 1, ½, ½; plus MA-GP on (x, e).
    untaped(() => {
      let parts!: Record<string, tf.Tensor>;
      const held: tf.Tensor[] = []; // kept past the penalty's own gradient scope (D's loss reads them), freed after the update
      lossD = take(dOptimizer(opt).minimize(() => {
        let hReal!: tf.Tensor;
        const gp = matchingAwareGradientPenalty((x, e) => {
          hReal = tf.keep(features.apply(x, TRAINING) as tf.Tensor); // encoded once, scored with e and with ê
          held.push(hReal);
          return head.apply([hReal, e], TRAINING) as tf.Tensor;
        }, ctx.real, sentence, own.magpWeight, own.magpPower);
        const lMis = head.apply([hReal, mismatched], TRAINING) as tf.Tensor;
        const lFake = critic(fake, sentence);
        const real = tf.mean(tf.relu(tf.sub(1, gp.logits)));
        const wrong = tf.mean(tf.relu(tf.add(1, lMis)));
        const generated = tf.mean(tf.relu(tf.add(1, lFake)));
        parts = {
          'reg/magp': tf.keep(gp.penalty), 'loss/D_mismatch': tf.keep(wrong),
          dReal: tf.keep(tf.mean(tf.sigmoid(gp.logits))), dFake: tf.keep(tf.mean(tf.sigmoid(lFake))),
        };
        held.push(gp.logits);
        return tf.add(tf.add(real, tf.mul(0.5, tf.add(generated, wrong))), gp.penalty) as tf.Scalar;
      }, true, trainableVariables(discriminatorOf(nets)))!);
      tf.dispose(held);
      dReal = take(parts.dReal);
      dFake = take(parts.dFake);
      extra['reg/magp'] = take(parts['reg/magp']);
      extra['loss/D_mismatch'] = take(parts['loss/D_mismatch']);
    });
    // G step: raise D(G(z, e), e) under the updated D; only G's variables move.
    return tf.neg(tf.mean(critic(fake, sentence))) as tf.Scalar;
  }, true, trainableVariables(nets.generator))!);

  tf.dispose([sentence, mismatched]);
  return { lossD, lossG, dReal, dFake, extra };
}

/** G(z, e) for captions (the text encoder's sentence features), in inference mode, 64 at a time. */
function generateFromText(nets: GanNetworks, z: tf.Tensor2D, text: TextBatch): SampleResult {
  const G = samplingGenerator(nets);
  const n = z.shape[0];
  const chunk = 64;
  let values: Float32Array | null = null;
  let shape: number[] = [];
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const part = readTidy(() => {
      const captions = { tokens: tf.slice(text.tokens, start, size), lengths: tf.slice(text.lengths, start, size) };
      const e = sentenceFeatures(nets, captions, 'dfgan');
      const out = G.apply([tf.slice(z, start, size), e], { training: false }) as tf.Tensor; // [size, H, W, C]
      shape = out.shape.slice(1);
      return out;
    });
    values ??= new Float32Array((part.length / size) * n);
    values.set(part, (part.length / size) * start);
  }
  return { values: values ?? new Float32Array(0), count: n, shape };
}
