import * as tf from '@tensorflow/tfjs-core';

/** BigGAN's strength when the regulariser is on (Brock et al. 2019 §3.1); the released models train without it. */
export const ORTHOGONAL_REG_BETA = 1e-4;

/**
 * BigGAN's orthogonal regularisation (Brock et al. 2019, §3.1; a relaxation of the
 * orthogonal regularisation of Brock et al. 2017, β‖WᵀW − I‖²_F):
 *
 *   R_β = β Σ_W ‖WᵀW ⊙ (1 − I)‖²_F
 *
 * summed over the given weights, each flattened to W [fanIn, out] (a conv kernel [kh, kw, cIn, out] to
 * [kh·kw·cIn, out]), so that W's columns are the layer's filters and WᵀW [out, out] holds their pairwise
 * inner products. Masking the diagonal leaves the filters' norms free and pushes only their pairwise cosine
 * similarity toward zero, which the paper finds makes G amenable to the truncation trick. Weights of rank < 2
 * (biases, gains) are skipped; leave out what should not be regularised (BigGAN's shared class embedding).
 *
 * A pure function: add it to G's loss inside the step's gradient scope.
 *
 * @example
 * const lossG = tf.add(hinge.g(fake), orthogonalRegularization(G.trainableWeights.map((w) => w.read()), ORTHOGONAL_REG_BETA));
 */
export function orthogonalRegularization(weights: readonly tf.Tensor[], beta = ORTHOGONAL_REG_BETA): tf.Scalar {
  return tf.tidy(() => {
    const terms = weights.filter((w) => w.rank >= 2).map((w) => {
      const out = w.shape[w.rank - 1];
      const flat = tf.reshape(w, [-1, out]) as tf.Tensor2D; // [fanIn, out]
      const offDiagonal = tf.mul(tf.matMul(flat, flat, true, false), tf.sub(1, tf.eye(out))); // [out, out], zero diagonal
      return tf.sum(tf.square(offDiagonal));
    });
    return tf.mul(beta, terms.length === 0 ? tf.scalar(0) : tf.addN(terms)) as tf.Scalar;
  });
}
