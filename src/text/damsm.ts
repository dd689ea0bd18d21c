import * as tf from '@tensorflow/tfjs-core';

/**
 * The Deep Attentional Multimodal Similarity Model's loss (AttnGAN, Xu et al. 2018, §3.3): how well a batch of
 * captions and images match, word by word (each word against the image regions it attends to) and sentence
 * against image. Pure functions of features, so that the encoders' pretraining and AttnGAN's G loss share them.
 *
 * Shapes: word features [M, T, D] with their mask [M, T] (1 = a word, 0 = padding), sentence features [M, D];
 * image region features [N, R, D] (a feature map's R = h·w positions) and global features [N, D]. Relevance
 * matrices are [N images, M captions].
 */

/** The smoothing factors γ1 (attention over regions), γ2 (word-relevance pooling) and γ3 (batch posterior). */
export interface DamsmGammas {
  gamma1: number;
  gamma2: number;
  gamma3: number;
}

/**
 * The paper's values (§4: γ1 = 5, γ2 = 5, γ3 = 10), used here. AttnGAN's released DAMSM configs use γ1 = 4 for
 * birds (and 5 for COCO), with the same γ2 and γ3.
 */
export const DAMSM_GAMMAS: Readonly<DamsmGammas> = { gamma1: 5, gamma2: 5, gamma3: 10 };

/** The DAMSM loss: L_w = L1w + L2w (words), L_s = L1s + L2s (sentences), total = L_w + L_s. */
export interface DamsmLoss {
  words: tf.Scalar;
  sentence: tf.Scalar;
  total: tf.Scalar;
}

/** Inputs of the DAMSM loss and relevances: a caption's features and an image's. */
export interface DamsmFeatures {
  /** Word features [M, T, D]. */
  words: tf.Tensor3D;
  /** 1 where a word is, 0 at padding [M, T]. */
  mask: tf.Tensor2D;
  /** Sentence features [M, D]. */
  sentence: tf.Tensor2D;
  /** Image region features [N, R, D]. */
  regions: tf.Tensor3D;
  /** Global image features [N, D]. */
  global: tf.Tensor2D;
}

/** Taken from logits at padding so that a softmax or log-sum-exp over words ignores it (exp(−1e4) is 0 in float32). */
const PAD_PENALTY = 1e4;
/** Floor on norms in cosine similarities, as the released code's 1e-8. */
const EPS = 1e-8;

/**
 * The word-level relevance R(Q, D) of every image n with every caption m, [N, M] (Eqs. 7–10):
 *   s = e_mᵀ v_n                  [T, R]  word–region dot products
 *   s̄_{i,j} = softmax over words i of s_{·,j}                (Eq. 8, padding left out)
 *   α_{i,j} = softmax over regions j of γ1 s̄_{i,·}           (Eq. 9)
 *   c_i = Σ_j α_{i,j} v_j         the region context of word i
 *   R(Q, D) = (1/γ2) log Σ_i exp(γ2 cos(c_i, e_i))           (Eq. 10, over the caption's words)
 * The released code leaves out the 1/γ2; the paper's form is used, so γ3 acts on a cosine-like scale.
 */
export function wordRelevance(words: tf.Tensor3D, mask: tf.Tensor2D, regions: tf.Tensor3D, gammas: DamsmGammas = DAMSM_GAMMAS): tf.Tensor2D {
  return tf.tidy(() => {
    const [m, t, d] = words.shape;
    const [n, r] = regions.shape;
    if (regions.shape[2] !== d) throw new Error(`DAMSM: word features have size ${d} and image regions ${regions.shape[2]}; the encoders must share the feature size`);
    // Every word of every caption against every region of every image in one product: [M·T, D] · [D, N·R].
    const s = tf.transpose(tf.reshape(tf.matMul(tf.reshape(words, [m * t, d]), tf.reshape(regions, [n * r, d]), false, true), [m, t, n, r]), [2, 0, 1, 3]); // [N, M, T, R]
    const padding = tf.reshape(tf.mul(tf.sub(1, mask), PAD_PENALTY), [1, m, t, 1]);
    const sBar = tf.softmax(tf.transpose(tf.sub(s, padding), [0, 1, 3, 2])); // over words: [N, M, R, T]
    const alpha = tf.softmax(tf.mul(tf.transpose(sBar, [0, 1, 3, 2]), gammas.gamma1)); // over regions: [N, M, T, R]
    const context = tf.reshape(tf.matMul(tf.reshape(alpha, [n, m * t, r]), regions), [n, m, t, d]); // [N, M, T, D]
    const cos = cosine(context, tf.reshape(words, [1, m, t, d])); // [N, M, T]
    const pooled = tf.logSumExp(tf.sub(tf.mul(cos, gammas.gamma2), tf.reshape(tf.mul(tf.sub(1, mask), PAD_PENALTY), [1, m, t])), 2); // [N, M]
    return tf.div(pooled, gammas.gamma2) as tf.Tensor2D;
  });
}

/** The sentence-level relevance R(Q, D) = cos(ē, v̄) of every image n with every caption m, [N, M] (§3.3, Eq. 13). */
export function sentenceRelevance(sentence: tf.Tensor2D, global: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [n, d] = global.shape;
    const m = sentence.shape[0];
    return cosine(tf.reshape(global, [n, 1, d]), tf.reshape(sentence, [1, m, d])) as tf.Tensor2D;
  });
}

/** Both relevance matrices [N images, M captions]: what R-precision ranks captions by, and what the loss turns into posteriors. */
export function relevance(f: DamsmFeatures, gammas: DamsmGammas = DAMSM_GAMMAS): { words: tf.Tensor2D; sentence: tf.Tensor2D } {
  return { words: wordRelevance(f.words, f.mask, f.regions, gammas), sentence: sentenceRelevance(f.sentence, f.global) };
}

/**
 * The DAMSM loss of B matching pairs (caption i describes image i), Eqs. 11–14: with the posteriors over the
 * batch P(D_i | Q_i) = softmax_j(γ3 R(Q_i, D_j)) and P(Q_i | D_i) = softmax_j(γ3 R(Q_j, D_i)),
 *   L1 = −Σ log P(D_i | Q_i),  L2 = −Σ log P(Q_i | D_i),
 * for the word relevance (L1w, L2w) and the sentence one (L1s, L2s). The sums are means over the batch here
 * (as the released code's cross-entropy), so the loss does not grow with the batch size. Each scalar is new.
 */
export function damsmLoss(f: DamsmFeatures, gammas: DamsmGammas = DAMSM_GAMMAS): DamsmLoss {
  const b = f.words.shape[0];
  if (f.regions.shape[0] !== b) throw new Error(`DAMSM loss: ${b} captions and ${f.regions.shape[0]} images; the loss takes matching pairs`);
  return tf.tidy(() => {
    const rel = relevance(f, gammas);
    const words = bothDirections(rel.words, gammas.gamma3);
    const sentence = bothDirections(rel.sentence, gammas.gamma3);
    return { words, sentence, total: tf.add(words, sentence) as tf.Scalar };
  });
}

/** −mean log P(image i | caption i) − mean log P(caption i | image i) for a relevance matrix [B images, B captions] with matches on the diagonal. */
function bothDirections(rel: tf.Tensor2D, gamma3: number): tf.Scalar {
  const logits = tf.mul(rel, gamma3);
  const diagonal = tf.sum(tf.mul(logits, tf.eye(rel.shape[0])), 1); // γ3 R(Q_i, D_i)
  const overImages = tf.logSumExp(logits, 0); // per caption i: log Σ_j exp(γ3 R(Q_i, D_j))
  const overCaptions = tf.logSumExp(logits, 1); // per image i: log Σ_j exp(γ3 R(Q_j, D_i))
  return tf.add(tf.mean(tf.sub(overImages, diagonal)), tf.mean(tf.sub(overCaptions, diagonal))) as tf.Scalar;
}

/** Cosine similarity along the last axis, broadcasting the others; norms floored at EPS. */
function cosine(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const dot = tf.sum(tf.mul(a, b), -1);
  const norms = tf.mul(tf.sqrt(tf.sum(tf.square(a), -1)), tf.sqrt(tf.sum(tf.square(b), -1)));
  return tf.div(dot, tf.maximum(norms, EPS));
}
