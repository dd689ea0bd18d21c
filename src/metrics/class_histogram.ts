export interface ClassHistogram {
  /** Samples per predicted class (argmax of the classifier's logits). */
  counts: number[];
  /** KL(histogram ‖ uniform) in nats = log C − H(histogram); 0 when every class is equally frequent. */
  klToUniform: number;
  /** Classes predicted for at least one sample. */
  classesPresent: number;
}

/**
 * The generated samples' predicted-class histogram and its KL divergence to the uniform distribution, a
 * mode-collapse check for labelled image data with balanced classes (as used with MNIST by Metz et al. 2017,
 * "Unrolled GANs", and Srivastava et al. 2017, "VEEGAN"). A collapsed generator concentrates on few classes
 * and the KL grows towards log C.
 */
export function classHistogram(logits: Float32Array, n: number, classes: number): ClassHistogram {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < n; i++) counts[predictedClass(logits, i, classes)]++;
  let kl = 0;
  for (const k of counts) {
    if (k === 0) continue;
    const p = k / n;
    kl += p * Math.log(p * classes);
  }
  return { counts, klToUniform: kl, classesPresent: counts.filter((k) => k > 0).length };
}

/** Argmax of sample i's logits (rows of `classes`). */
function predictedClass(logits: Float32Array, i: number, classes: number): number {
  let best = 0;
  for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
  return best;
}

/**
 * For a class-conditional generator: the share of samples the classifier puts in the class they were drawn for
 * (label i for sample i), in [0, 1]. A histogram alone can look balanced while G ignores its label (with labels
 * cycled evenly, each class's share is 1/C either way); agreement tells the two apart.
 */
export function labelAgreement(logits: Float32Array, labels: ArrayLike<number>, classes: number): number {
  let agree = 0;
  for (let i = 0; i < labels.length; i++) if (predictedClass(logits, i, classes) === labels[i]) agree++;
  return labels.length === 0 ? NaN : agree / labels.length;
}
