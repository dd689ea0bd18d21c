import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { z } from 'zod';
import { discriminatorOf, extraNetwork, samplingGenerator, type GanFamily, type GanNetworks, type SampleResult } from '../gan/family.js';
import { settingsOf, type RunConfig, type SettingsTable } from '../gan/config.js';
import { HONOURS, honourList } from '../gan/settings.js';
import { latents } from '../gan/sampling.js';
import { trainableVariables, untaped, type StepContext, type StepStats } from '../gan/step.js';
import { dOptimizer } from '../gan/optimizers.js';
import type { DatasetInfo, TextBatch } from '../data/types.js';
import { SeededInit } from '../nn/init.js';
import { NearestUpsample2D, upsampleNearest2x } from '../nn/upsample.js';
import { TEXT_ENCODER, buildTextEncoder } from '../text/encoders.js';
import { requestCaptions } from '../text/sampling.js';
import { TEXT_ENCODER_SETTINGS, caKl, rollBatch, sentenceFeatures, textDataProblem, textEncoderSpecOf, textGeneratorModel, textPicture } from '../text/conditioning.js';
import { Rng } from '../util/rng.js';
import { readTidy } from '../util/tensors.js';
import { UserError } from '../util/errors.js';
import { baseGrid, discriminatorParts, stackganDiscriminator, stackganGenerator, stackganLatents, stackganStages, stageOneSide, type StackGanSize } from './nets/text_nets.js';

/** Which stages a run trains: stage I alone, stage II alone on a trained stage I (--init), or both jointly. */
export type StackGanStage = '1' | '2' | 'both';

/** stackgan's own settings (flags --stage, --c-dim, --kl-weight, --res-blocks, and the text encoder's --word-dim, --text-dim). */
export interface StackGanSettings {
  stage: StackGanStage;
  cDim: number;
  klWeight: number;
  resBlocks: number;
  wordDim: number;
  textDim: number;
}

export const STACKGAN_SETTINGS: SettingsTable = {
  stage: { default: 'both', schema: z.enum(['1', '2', 'both']), help: "stages to train: 1 (stage I alone, the paper's first run), 2 (stage II on the stage I of --init RUN, the paper's second run), both (jointly, as StackGAN++)" },
  cDim: { default: 128, schema: z.number().int().positive(), help: 'size N_c of the compressed text c of Conditioning Augmentation (StackGAN: 128)' },
  klWeight: { default: 1, schema: z.number().nonnegative().finite(), help: "weight λ of Conditioning Augmentation's KL(N(μ, σ²) ‖ N(0, I)) in G's loss (StackGAN: 1)" },
  resBlocks: { default: 4, schema: z.number().int().nonnegative(), help: 'residual blocks of the stage-II generator (StackGAN: 4)' },
  ...TEXT_ENCODER_SETTINGS,
};

/** Name of the stage-I discriminator among GanNetworks.extra (the stage-II one is the run's discriminator). */
export const STAGE1_DISCRIMINATOR = 'stage1-discriminator';

const TRAINING = { training: true };

/**
 * StackGAN (Zhang, Xu, Li, Zhang, Wang, Huang & Metaxas 2017, "StackGAN: Text to Photo-realistic Image Synthesis
 * with Stacked Generative Adversarial Networks"):
 *
 *   e = sentence feature (frozen text encoder); Conditioning Augmentation per stage: μ, log σ² = FC(e), c = μ + σ·ε
 *   stage I:  G₀(z, c₀) → a low-resolution image (the data's side / 2, / 4 from 64 px); D₀(x, μ₀)
 *   stage II: G(s₀, c) → the data's side: s₀ downsampled, c joined, residual blocks, upsampled; D(x, μ)
 *   each D is matching-aware (§3.3): (real, matching text) → real; (real, mismatched text) and (fake, text) → fake:
 *       L_D = E[log D(x, μ)] + ½(E[log(1 − D(x, μ̂))] + E[log(1 − D(G(z, c), μ))])     (μ̂: the batch rolled by one)
 *   L_G = −E[log D(G(z, c), μ)] + λ·KL(N(μ, σ²) ‖ N(0, I)),  λ = 1;  Adam lr 2e-4, β1 0.5
 *
 * z = [z_G, ε₁, ε₂]: the generator's noise and both stages' ε come from the run's latent, so one z draws one image
 * (--latent-dim counts all three: the paper's 100 + 2 × 128 by default).
 *
 * The paper trains stage I, then stage II with stage I fixed: `--stage 1`, then `--stage 2 --init RUN`. The default,
 * `--stage both`, trains the two stages jointly end to end (StackGAN++, Zhang et al. 2018), G's loss summing both
 * stages' terms and stage II's gradient reaching stage I. The KL is averaged over c's dimensions, as the authors'
 * code does. D reads μ (the compressed text without noise), as in their code.
 */
export const stackgan: GanFamily = {
  name: 'stackgan',
  summary: 'text-to-image StackGAN (Zhang et al. 2017): Conditioning Augmentation, stage I and stage II, matching-aware D; --stage 1|2|both; sample --text',
  paper: 'Zhang, Xu, Li, Zhang, Wang, Huang & Metaxas 2017, StackGAN: Text to Photo-realistic Image Synthesis with Stacked Generative Adversarial Networks, arXiv:1612.03242',
  condition: 'text',
  // Its own loss (the matching-aware BCE); --init starts stage II from a stage-I run's generator; the text settings.
  honours: honourList('latentDim', 'width', 'init', HONOURS.text),
  initFrom: ['stackgan'],
  settings: STACKGAN_SETTINGS,

  // z holds G's noise (the paper's 100) and the ε of both Conditioning Augmentations (128 each).
  defaults: () => ({ latentDim: 100 + 2 * 128, width: 64, batchSize: 64, optimizer: 'adam', lrG: 2e-4, lrD: 2e-4, beta1: 0.5, beta2: 0.999, loss: 'non-saturating' }),

  check(data, config) {
    const problem = textDataProblem('stackgan', data);
    if (problem) return problem;
    const [h, w] = data.shape;
    const side1 = stageOneSide(h);
    if (h !== w || !Number.isInteger(side1) || baseGrid(side1).n === 0 || !Number.isInteger(Math.log2(h / side1))) {
      return `stackgan's stage I draws at half the side (a quarter from 64 px) and grows by doubling, so it needs square images of a side base·2ⁿ ≥ 16 (16, 32, 64, 128 …), got ${h}×${w}; pass --image-size 32 (or 64)`;
    }
    if (config.latentDim <= 2 * s(config).cDim) return `--latent-dim ${config.latentDim} leaves no noise for G: z holds G's noise and the ε of both stages' Conditioning Augmentation (2 × --c-dim ${s(config).cDim}); raise --latent-dim above ${2 * s(config).cDim}`;
    if (s(config).stage === '2' && !config.init) return '--stage 2 trains stage II on a trained stage I: pass --init RUN, a run of --stage 1 (or both) with the same settings';
    return null;
  },

  build(data, config, rng) {
    const init = new SeededInit(rng);
    const size = sizeOf(data, config);
    const side1 = stageOneSide(size.side);
    return {
      generator: stackganGenerator(size, init),
      discriminator: stackganDiscriminator(size.side, size.channels, size.cDim, size.width, init, 'discriminator'),
      extra: {
        [STAGE1_DISCRIMINATOR]: stackganDiscriminator(side1, size.channels, size.cDim, size.width, init, STAGE1_DISCRIMINATOR),
        [TEXT_ENCODER]: buildTextEncoder(data.text!, textEncoderSpecOf(config), rng),
      },
    };
  },

  step: stackganStep,

  sample(nets, request, run) {
    if (request.class !== undefined || request.code?.length || request.vary !== undefined || request.input) throw new UserError('stackgan draws from sentences: give --text, not --class, --code, --vary or input images');
    const text = requestCaptions(run.data, request.text, request.count);
    const z = latents(new Rng(request.seed), request.count, run.config.latentDim);
    try {
      return generateFromText(nets, run.config, z, text);
    } finally {
      tf.dispose([z, text.tokens, text.lengths]);
    }
  },

  textGenerator: (nets, run) => textGeneratorModel(extraNetwork(nets, TEXT_ENCODER, 'stackgan'), run.config.latentDim, run.data.text!.maxLen, (z, sentence) => {
    const generator = samplingGenerator(nets);
    if (s(run.config).stage !== '1') return generator.apply([z, sentence]) as tfl.SymbolicTensor;
    // A stage-I run draws its stage-I images, enlarged (nearest) to the data's side.
    const [zG, e1] = [generator.getLayer('z_g'), generator.getLayer('eps1')].map((l) => l.apply(z) as tfl.SymbolicTensor);
    let image = (stackganStages(generator).stage1.apply([zG, sentence, e1]) as tfl.SymbolicTensor[])[0];
    for (let i = 0; image.shape[1]! < run.data.shape[0]; i++) image = new NearestUpsample2D({ name: `enlarge${i}` }).apply(image) as tfl.SymbolicTensor;
    return image;
  }),

  picture: (nets, probe, run) => textPicture(probe, (z, text) => generateFromText(nets, run.config, z, text)),
};

function s(config: RunConfig): RunConfig & StackGanSettings {
  return settingsOf<StackGanSettings>(config);
}

function sizeOf(data: DatasetInfo, config: RunConfig): StackGanSize {
  const own = s(config);
  return { side: data.shape[0], channels: data.shape[2], zDim: config.latentDim, textDim: own.textDim, cDim: own.cDim, width: config.width, resBlocks: own.resBlocks };
}

function take(t: tf.Tensor): number {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
}

/** One stage's generated batch: the image, and its Conditioning Augmentation's μ and log σ² [B, cDim]. */
interface StageOutput {
  image: tf.Tensor;
  mu: tf.Tensor2D;
  logVar: tf.Tensor2D;
}

/** One stage as D sees it: its discriminator, the real batch at its side, and the generated batch. */
interface StageGame {
  name: '1' | '2';
  d: tfl.LayersModel;
  real: tf.Tensor;
  fake: StageOutput;
}

/**
 * The matching-aware D loss of one stage (§3.3, the authors' weights): −log D(x, μ) − ½[log(1 − D(x, μ̂)) +
 * log(1 − D(G(z, c), μ))], with −log σ(l) = softplus(−l) and −log(1 − σ(l)) = softplus(l). x is encoded once.
 */
function matchingAwareD(game: StageGame): { loss: tf.Scalar; dReal: tf.Scalar; dFake: tf.Scalar } {
  const { features, head } = discriminatorParts(game.d);
  const mu = game.fake.mu; // a constant to D
  const hReal = features.apply(game.real, TRAINING) as tf.Tensor;
  const mismatched = rollBatch(mu);
  const lReal = head.apply([hReal, mu], TRAINING) as tf.Tensor; // [B, 1]
  const lMis = head.apply([hReal, mismatched], TRAINING) as tf.Tensor;
  const lFake = head.apply([features.apply(game.fake.image, TRAINING) as tf.Tensor, mu], TRAINING) as tf.Tensor;
  const loss = tf.add(tf.mean(tf.softplus(tf.neg(lReal))), tf.mul(0.5, tf.add(tf.mean(tf.softplus(lMis)), tf.mean(tf.softplus(lFake))))) as tf.Scalar;
  return { loss, dReal: tf.mean(tf.sigmoid(lReal)), dFake: tf.mean(tf.sigmoid(lFake)) };
}

/**
 * One StackGAN iteration over the stages --stage trains. G runs forward once: D's update happens inside G's
 * gradient scope with G's tape paused (untaped), on G's outputs as constants; G's loss then reads the updated
 * discriminators: −log D(G(z, c), μ) per stage plus λ·KL of that stage's Conditioning Augmentation.
 */
export function stackganStep(ctx: StepContext): StepStats {
  const { nets, opt } = ctx;
  const own = s(ctx.config);
  const { stage1, stage2 } = stackganStages(nets.generator);
  const d1 = extraNetwork(nets, STAGE1_DISCRIMINATOR, 'stackgan');
  const d2 = discriminatorOf(nets);
  const trainOne = own.stage !== '2', trainTwo = own.stage !== '1';
  const sentence = sentenceFeatures(nets, ctx.text, 'stackgan'); // e [B, D], constant to both players
  const [zG, eps1, eps2] = stackganLatents(ctx.z, own.cDim); // G's noise, and ε of each stage's Conditioning Augmentation
  const factor = ctx.real.shape[1]! / stageOneSide(ctx.real.shape[1]!);
  const real1 = trainOne ? tf.tidy(() => tf.avgPool(ctx.real as tf.Tensor4D, factor, factor, 'valid')) : null; // stage I's real batch [B, side/f, side/f, C]
  const gVars = trainableVariables(own.stage === '1' ? stage1 : own.stage === '2' ? stage2 : nets.generator);
  const dVars = [...(trainOne ? trainableVariables(d1) : []), ...(trainTwo ? trainableVariables(d2) : [])];
  const extra: Record<string, number> = {};
  let lossD = 0, dReal = 0, dFake = 0;

  const lossG = take(opt.g.minimize(() => {
    // With --stage 2, stage I is fixed: it runs in inference mode, its batch-norm statistics those it was trained with.
    const [image1, mu1, logVar1] = stage1.apply([zG, sentence, eps1], { training: trainOne }) as [tf.Tensor, tf.Tensor2D, tf.Tensor2D];
    const games: StageGame[] = [];
    if (trainOne) games.push({ name: '1', d: d1, real: real1!, fake: { image: image1, mu: mu1, logVar: logVar1 } });
    if (trainTwo) {
      const [image2, mu2, logVar2] = stage2.apply([image1, sentence, eps2], TRAINING) as [tf.Tensor, tf.Tensor2D, tf.Tensor2D];
      games.push({ name: '2', d: d2, real: ctx.real, fake: { image: image2, mu: mu2, logVar: logVar2 } });
    }
    // D step: every trained stage's matching-aware loss, one update of their discriminators.
    untaped(() => {
      const kept: tf.Scalar[] = [];
      lossD = take(dOptimizer(opt).minimize(() => {
        const losses = games.map((game) => {
          const r = matchingAwareD(game);
          kept.push(tf.keep(r.dReal), tf.keep(r.dFake));
          return r.loss;
        });
        return tf.addN(losses) as tf.Scalar;
      }, true, dVars)!);
      const values = kept.map(take);
      [dReal, dFake] = values.slice(-2); // the last trained stage's
    });
    // G step: fool each stage's updated D on its own text, plus each stage's KL term.
    const terms = games.map((game) => {
      const { features, head } = discriminatorParts(game.d);
      const adversarial = tf.mean(tf.softplus(tf.neg(head.apply([features.apply(game.fake.image, TRAINING) as tf.Tensor, game.fake.mu], TRAINING) as tf.Tensor)));
      const kl = caKl(game.fake.mu, game.fake.logVar);
      extra[`loss/kl${game.name}`] = kl.dataSync()[0];
      return tf.add(adversarial, tf.mul(own.klWeight, kl));
    });
    return tf.addN(terms) as tf.Scalar;
  }, true, gVars)!);

  tf.dispose([sentence, zG, eps1, eps2, ...(real1 ? [real1] : [])]);
  return { lossD, lossG, dReal, dFake, extra };
}

/**
 * Images for captions, in inference mode, 64 at a time: the stage-II output, or for a run that trained stage I
 * alone its stage-I images enlarged (nearest neighbour) to the data's side. Every noise comes from z.
 */
function generateFromText(nets: GanNetworks, config: RunConfig, z: tf.Tensor2D, text: TextBatch): SampleResult {
  const own = s(config);
  const generator = samplingGenerator(nets);
  const { stage1 } = stackganStages(generator);
  const n = z.shape[0];
  const chunk = 64;
  let values: Float32Array | null = null;
  let shape: number[] = [];
  for (let start = 0; start < n; start += chunk) {
    const size = Math.min(chunk, n - start);
    const part = readTidy(() => {
      const rows = <T extends tf.Tensor>(t: T) => tf.slice(t, start, size) as T;
      const e = sentenceFeatures(nets, { tokens: rows(text.tokens), lengths: rows(text.lengths) }, 'stackgan');
      let out: tf.Tensor;
      if (own.stage === '1') {
        const [zG, e1] = stackganLatents(rows(z), own.cDim);
        out = (stage1.apply([zG, e, e1], { training: false }) as tf.Tensor[])[0];
        while (out.shape[1]! < generator.outputs[0].shape[1]!) out = upsampleNearest2x(out as tf.Tensor4D);
      } else {
        out = generator.apply([rows(z), e], { training: false }) as tf.Tensor; // [size, H, W, C]
      }
      shape = out.shape.slice(1);
      return out;
    });
    values ??= new Float32Array((part.length / size) * n);
    values.set(part, (part.length / size) * start);
  }
  return { values: values ?? new Float32Array(0), count: n, shape };
}
