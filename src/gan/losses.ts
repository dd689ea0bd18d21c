import * as tf from '@tensorflow/tfjs-core';

/**
 * An adversarial loss: pure functions of the discriminator's logits. `d` is what D minimises, `g` what G
 * minimises. `real` and `fake` are D's raw outputs (logits) on real and generated batches, any shape.
 * Losses that compare real and fake logits (relativistic) read `real` in `g` too.
 */
export interface AdversarialLoss {
  name: string;
  d(real: tf.Tensor, fake: tf.Tensor): tf.Scalar;
  g(fake: tf.Tensor, real: tf.Tensor): tf.Scalar;
  /**
   * Where D's raw output separates "real" from "fake": the output of the optimal D where the two densities are
   * equal. Absent where only differences of outputs enter the loss (wasserstein, relativistic), so the level is
   * free. ADA's overfitting heuristic r_t = E[sign(D(x) − level)] needs it.
   */
  level?: number;
  /**
   * G's objective is the game's own value, −d(real, fake) up to terms G cannot move (minimax, the f-divergences),
   * rather than a practical substitute. Read where both sides move (see `bothSidesLoss`).
   */
  saddle?: true;
}

/**
 * The objective of players that move both distributions D compares (BiGAN's G and E: the "real" pair (x, E(x))
 * and the "fake" pair (G(z), z)). Their §3.4 inverts the labels, d(fake, real): the non-saturating reading of
 * the game, and for wasserstein, hinge, least squares and relativistic losses the form G's own loss takes. For a
 * saddle loss the labels are not exchangeable: inverted, an f-divergence's players would descend the divergence
 * with P and Q exchanged (KL's fit would seek modes, reverse KL's cover them), so those players minimise the
 * game's value itself, −d(real, fake).
 */
export function bothSidesLoss(loss: AdversarialLoss, real: tf.Tensor, fake: tf.Tensor): tf.Scalar {
  return loss.saddle ? tf.neg(loss.d(real, fake)) : loss.d(fake, real);
}

// With logit l and D = sigmoid(l):  -log D = softplus(-l)  and  -log(1 - D) = softplus(l).
// softplus is evaluated stably for any l, where log(sigmoid(l)) underflows to -Inf near l = -100.

/** D's side of the original GAN game (Goodfellow et al. 2014, eq. 1): maximise log D(x) + log(1 − D(G(z))). */
function discriminatorBce(real: tf.Tensor, fake: tf.Tensor): tf.Scalar {
  return tf.add(tf.mean(tf.softplus(tf.neg(real))), tf.mean(tf.softplus(fake))) as tf.Scalar;
}

/** The minimax game as written in the paper: G minimises log(1 − D(G(z))) = −softplus(l). Saturates early. */
export const minimax: AdversarialLoss = {
  name: 'minimax',
  d: discriminatorBce,
  g: (fake) => tf.neg(tf.mean(tf.softplus(fake))) as tf.Scalar,
  level: 0,
  saddle: true,
};

/** The paper's practical variant (§3): G maximises log D(G(z)), i.e. minimises softplus(−l). */
export const nonSaturating: AdversarialLoss = {
  name: 'non-saturating',
  d: discriminatorBce,
  g: (fake) => tf.mean(tf.softplus(tf.neg(fake))),
  level: 0,
};

/**
 * Wasserstein loss (Arjovsky, Chintala & Bottou 2017, "Wasserstein GAN", eq. 3): by Kantorovich–Rubinstein
 * duality W(P_r, P_g) = sup over 1-Lipschitz f of E_r[f] − E_g[f]. The critic maximises E[D(x)] − E[D(G(z))],
 * i.e. minimises mean(fake) − mean(real); G minimises −mean(fake). The outputs are raw scores, not logits of a
 * probability, and the loss is linear in them: it only means something with a Lipschitz constraint on D
 * (weight clipping, a gradient penalty, spectral norm), which the family supplies.
 */
export const wasserstein: AdversarialLoss = {
  name: 'wasserstein',
  d: (real, fake) => tf.sub(tf.mean(fake), tf.mean(real)) as tf.Scalar,
  g: (fake) => tf.neg(tf.mean(fake)) as tf.Scalar,
  saddle: true,
};

/**
 * Hinge loss (Lim & Ye 2017, "Geometric GAN"; used by Miyato et al. 2018 for SN-GAN, eq. 16–17):
 * D minimises E[max(0, 1 − D(x))] + E[max(0, 1 + D(G(z)))] — a margin: real scores above 1 and fake scores
 * below −1 cost nothing, so D stops pushing once it is confident. G minimises −E[D(G(z))] as in WGAN.
 */
export const hinge: AdversarialLoss = {
  name: 'hinge',
  d: (real, fake) => tf.add(tf.mean(tf.relu(tf.sub(1, real))), tf.mean(tf.relu(tf.add(1, fake)))) as tf.Scalar,
  g: (fake) => tf.neg(tf.mean(fake)) as tf.Scalar,
  level: 0,
};

/**
 * Least-squares loss (Mao et al. 2017, "Least Squares Generative Adversarial Networks", eq. 2) with the
 * a-b-c = 0-1-1 coding of their §3.2.2 experiments: D regresses fake to a = 0 and real to b = 1, G pushes its
 * samples to c = 1:  min_D ½E[(D(x) − 1)²] + ½E[D(G(z))²],  min_G ½E[(D(G(z)) − 1)²].
 * (The −1, 1, 0 coding, b − c = 1 and b − a = 2, is the one for which the paper proves G minimises the
 * Pearson χ² divergence; 0-1-1 is what they train with.) D's output is used raw: a squared error instead of
 * a sigmoid cross-entropy still penalises samples that are on the correct side but far from the real data,
 * which is where the non-saturating loss's gradient vanishes.
 */
export const leastSquares: AdversarialLoss = {
  name: 'least-squares',
  d: (real, fake) => tf.mul(0.5, tf.add(tf.mean(tf.square(tf.sub(real, 1))), tf.mean(tf.square(fake)))) as tf.Scalar,
  g: (fake) => tf.mul(0.5, tf.mean(tf.square(tf.sub(fake, 1)))) as tf.Scalar,
  level: 0.5,
};

/**
 * Relativistic average GAN, standard (BCE) form — RaSGAN (Jolicoeur-Martineau 2018, "The relativistic
 * discriminator: a key element missing from standard GAN", eq. 11–12). D estimates the probability that real
 * data is *more realistic than the average fake*: D̃(x_r) = σ(C(x_r) − E C(x_f)), D̃(x_f) = σ(C(x_f) − E C(x_r)).
 *   L_D = −E log D̃(x_r) − E log(1 − D̃(x_f)) = E softplus(−(r − f̄)) + E softplus(f − r̄)
 *   L_G = −E log D̃(x_f) − E log(1 − D̃(x_r)) = E softplus(−(f − r̄)) + E softplus(r − f̄)
 * with r, f the real and fake logits and r̄, f̄ their batch means (softplus as above, stable for any logit).
 * G's loss needs the real logits: the step passes D's real logits from its D phase (constants for G).
 */
export const relativisticAverage: AdversarialLoss = {
  name: 'relativistic-average',
  d: (real, fake) =>
    tf.add(tf.mean(tf.softplus(tf.neg(tf.sub(real, tf.mean(fake))))), tf.mean(tf.softplus(tf.sub(fake, tf.mean(real))))) as tf.Scalar,
  g: (fake, real) =>
    tf.add(tf.mean(tf.softplus(tf.neg(tf.sub(fake, tf.mean(real))))), tf.mean(tf.softplus(tf.sub(real, tf.mean(fake))))) as tf.Scalar,
};

// ---------------------------------------------------------------------------------------------------------------
// f-GAN (Nowozin, Cseke & Tomioka 2016, "f-GAN: Training Generative Neural Samplers using Variational Divergence
// Minimization"). For a convex f, D_f(P‖Q) = ∫ q f(p/q) ≥ sup_T E_P[T(x)] − E_Q[f*(T(x))] (eq. 4), f* the convex
// conjugate, with equality at T*(x) = f'(p(x)/q(x)) (eq. 5); D_f is f(1) at P = Q (0, or −log 4 for the GAN's f). D's raw output V is mapped into f*'s
// domain by an output activation, T = g_f(V) (Table 2); the saddle objective (eq. 6) is
//   F(θ, ω) = E_P[g_f(V_ω(x))] − E_Q[f*(g_f(V_ω(G_θ(z))))],
// which D maximises and G minimises (Algorithm 1, the single-step gradient method). So D minimises −F and G
// minimises −E_Q[f*(g_f(V))], each written below through the composite f*∘g_f, which for every divergence here
// is a simple, stably computable function of V.
//
// G's objective is the saddle one, not §3.2's "practical" substitute (G maximises E_Q[g_f(V)]). The substitute
// keeps the fixed point Q = P but changes which divergence G descends when Q cannot reach P: at the optimal
// critic, the substitute's gradient for the KL divergence is −∇E_Q[log p − log q], reverse KL's, so f-kl would
// seek modes instead of covering them. With the saddle objective G descends D_f itself (test/gan/fgan.test.ts
// fits one Gaussian to two modes and sees KL cover and reverse KL seek). For the GAN divergence the saddle
// objective is the saturating minimax loss; `--loss non-saturating` is the practical one.
// ---------------------------------------------------------------------------------------------------------------

/**
 * exp(x), continued by its tangent line above x = EXP_KNEE. An f-GAN critic's exponential terms would overflow
 * float32 near x = 88 (and their gradients sooner, in a batch sum); past the knee the value and slope stay
 * continuous and finite and the function stays convex and increasing, so each player still gets a gradient of
 * the right sign. exp(20) ≈ 4.9e8: a critic that far out has long separated the two sets.
 */
const EXP_KNEE = 20;
function safeExp(x: tf.Tensor): tf.Tensor {
  const below = tf.exp(tf.minimum(x, EXP_KNEE));
  const beyond = tf.relu(tf.sub(x, EXP_KNEE)); // 0 below the knee
  return tf.mul(below, tf.add(1, beyond)); // e^k (1 + (x − k)) above it
}

/**
 * One f-divergence as an adversarial loss, from two pure functions of D's raw output v:
 * `activation` = g_f(v) (the real term) and `conjugate` = f*(g_f(v)) (the fake term).
 * D minimises E_Q[f*(g_f(V))] − E_P[g_f(V)]; G minimises −E_Q[f*(g_f(V))].
 */
function fDivergence(name: string, activation: (v: tf.Tensor) => tf.Tensor, conjugate: (v: tf.Tensor) => tf.Tensor, level: number): AdversarialLoss {
  return {
    name,
    d: (real, fake) => tf.sub(tf.mean(conjugate(fake)), tf.mean(activation(real))) as tf.Scalar,
    g: (fake) => tf.neg(tf.mean(conjugate(fake))) as tf.Scalar,
    level,
    saddle: true,
  };
}

/**
 * Kullback–Leibler, KL(P‖Q) = ∫ p log(p/q) (Nowozin et al. 2016, Table 2 with Table 6's f*):
 * f(u) = u log u, g_f(v) = v, f*(t) = exp(t − 1), so f*(g_f(v)) = exp(v − 1) (safeExp above v = 21).
 * Optimal critic v* = 1 + log(p/q); mode-covering: Q is penalised wherever p > 0 and q ≈ 0.
 */
export const fKl = fDivergence('f-kl', (v) => v, (v) => safeExp(tf.sub(v, 1)), 1);

/**
 * Reverse KL, KL(Q‖P) = ∫ q log(q/p) (Table 2): f(u) = −log u, g_f(v) = −exp(−v), f*(t) = −1 − log(−t), so
 * f*(g_f(v)) = v − 1 exactly (no exp in the fake term). Optimal v* = log(p/q); mode-seeking: Q is penalised
 * wherever q > 0 and p ≈ 0.
 */
export const fReverseKl = fDivergence('f-reverse-kl', (v) => tf.neg(safeExp(tf.neg(v))), (v) => tf.sub(v, 1), 0);

/**
 * Pearson χ², ∫ (p − q)²/q (Table 2): f(u) = (u − 1)², g_f(v) = v, f*(t) = t²/4 + t. The table's f* is the
 * conjugate of (u − 1)² over all of ℝ; over u ≥ 0, where density ratios live, it is t²/4 + t for t ≥ −2 and −1
 * below, i.e. f*(t) = relu(t + 2)²/4 − 1, used here. The two agree where the optimal critic lies
 * (v* = 2(p/q − 1) ≥ −2), but the table's form falls again below t = −2, so G's saddle objective −E_Q[f*(v)] would
 * reward G for making D score its samples lower still (a bench run of vanilla on grid25 diverged so); this one
 * is increasing, as every other f*∘g_f here, so G only ever gains by raising D's score.
 */
export const fPearson = fDivergence('f-pearson', (v) => v, (v) => tf.sub(tf.mul(0.25, tf.square(tf.relu(tf.add(v, 2)))), 1), 0);

/**
 * Squared Hellinger, ∫ (√p − √q)² (Table 2): f(u) = (√u − 1)², g_f(v) = 1 − exp(−v), f*(t) = t/(1 − t) on
 * t < 1, so f*(g_f(v)) = exp(v) − 1; g_f keeps t < 1 for every v. Optimal v* = ½ log(p/q).
 */
export const fHellinger = fDivergence('f-hellinger', (v) => tf.sub(1, safeExp(tf.neg(v))), (v) => tf.sub(safeExp(v), 1), 0);

/**
 * Jensen–Shannon as the paper's table writes it (Table 2): f(u) = −(u + 1) log((1 + u)/2) + u log u,
 * g_f(v) = log 2 − log(1 + exp(−v)) = log 2 − softplus(−v), f*(t) = −log(2 − exp(t)), so
 * f*(g_f(v)) = softplus(v) − log 2. This f gives KL(P‖M) + KL(Q‖M) with M = (P + Q)/2, twice the ½-weighted JS,
 * and differs from f-gan's objective by the constant log 4 alone: the two train identically. Optimal v* = log(p/q).
 */
export const fJs = fDivergence('f-js', (v) => tf.sub(Math.LN2, tf.softplus(tf.neg(v))), (v) => tf.sub(tf.softplus(v), Math.LN2), 0);

/**
 * The GAN divergence, 2·JS(P‖Q) − log 4 (Table 2): f(u) = u log u − (u + 1) log(u + 1),
 * g_f(v) = −log(1 + exp(−v)) = −softplus(−v), f*(t) = −log(1 − exp(t)), so f*(g_f(v)) = softplus(v). D's loss is
 * the original GAN's cross-entropy and G's is the saturating minimax loss (`--loss minimax`), now read as an
 * estimate of the divergence. Optimal v* = log(p/q).
 */
export const fGan = fDivergence('f-gan', (v) => tf.neg(tf.softplus(tf.neg(v))), (v) => tf.softplus(v), 0);

export const LOSSES = {
  minimax,
  'non-saturating': nonSaturating,
  wasserstein,
  hinge,
  'least-squares': leastSquares,
  'relativistic-average': relativisticAverage,
  'f-kl': fKl,
  'f-reverse-kl': fReverseKl,
  'f-pearson': fPearson,
  'f-hellinger': fHellinger,
  'f-js': fJs,
  'f-gan': fGan,
} as const satisfies Record<string, AdversarialLoss>;

export type LossName = keyof typeof LOSSES;
export const LOSS_NAMES = Object.keys(LOSSES) as LossName[];

