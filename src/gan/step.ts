import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import type { AdversarialLoss } from './losses.js';
import type { GanNetworks } from './family.js';

/** What one adversarial step reports. Means of D's sigmoid output show who is winning. */
export interface StepStats {
  lossD: number;
  lossG: number;
  /** mean D(x) on the real batch, in (0, 1) */
  dReal: number;
  /** mean D(G(z)) on the generated batch, before D's update */
  dFake: number;
}

export interface Optimizers {
  g: tf.Optimizer;
  d: tf.Optimizer;
}

export function trainableVariables(model: tfl.LayersModel): tf.Variable[] {
  return model.trainableWeights.map((w) => w.read() as tf.Variable);
}

const TRAINING = { training: true };

/**
 * One step of Algorithm 1 (Goodfellow et al. 2014) with k = 1: a discriminator update on a real batch and a
 * generated batch, then a generator update on the same latents. Everything runs inside minimize/tidy, so no
 * tensor outlives the step except the optimizers' own state.
 */
export function adversarialStep(nets: GanNetworks, opt: Optimizers, loss: AdversarialLoss, real: tf.Tensor, z: tf.Tensor): StepStats {
  const { generator: G, discriminator: D } = nets;
  const vars = { g: trainableVariables(G), d: trainableVariables(D) };

  // Phase 1 — D step: raise D on x, lower it on G(z). G's output is a constant here.
  const fake = tf.tidy(() => G.apply(z, TRAINING) as tf.Tensor); // [B, ...shape]
  let dReal!: tf.Scalar, dFake!: tf.Scalar, realLogits!: tf.Tensor;
  const lossD = opt.d.minimize(() => {
    const lr = D.apply(real, TRAINING) as tf.Tensor; // [B, 1]
    const lf = D.apply(fake, TRAINING) as tf.Tensor;
    dReal = tf.keep(tf.mean(tf.sigmoid(lr)));
    dFake = tf.keep(tf.mean(tf.sigmoid(lf)));
    realLogits = tf.keep(lr); // read by relativistic G losses; no gradient flows through it there
    return loss.d(lr, lf);
  }, true, vars.d)!;
  fake.dispose();

  // Phase 2 — G step: raise D(G(z)); only G's variables move.
  const lossG = opt.g.minimize(() => loss.g(D.apply(G.apply(z, TRAINING), TRAINING) as tf.Tensor, realLogits), true, vars.g)!;

  const [ld, lg, dr, df] = [lossD, lossG, dReal, dFake].map((t) => t.dataSync()[0]);
  tf.dispose([lossD, lossG, dReal, dFake, realLogits]);
  return { lossD: ld, lossG: lg, dReal: dr, dFake: df };
}
