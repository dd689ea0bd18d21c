import * as tf from '@tensorflow/tfjs-core';

type Gradients = Parameters<tf.AdamOptimizer['applyGradients']>[0];
interface NamedTensor { name: string; tensor: tf.Tensor }

/** What a backend offers to update one variable in place (tfjs-backend-aten's AtenBackend does). */
interface InPlaceAdamBackend {
  adamUpdateInPlace(value: tf.TensorInfo, m: tf.TensorInfo, v: tf.TensorInfo, grad: tf.TensorInfo, hyper: {
    learningRate: number; beta1: number; beta2: number; epsilon: number; oneMinusAccBeta1: number; oneMinusAccBeta2: number;
  }): boolean;
}

/** tfjs's AdamOptimizer fields this subclass reads (private in its typings, stable in its code since 1.x). */
interface AdamInternals {
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  incrementIterations(): void;
}

/**
 * tfjs's Adam (Kingma & Ba 2015) with the same state, checkpoint format and float32 arithmetic, whose update
 * runs in place on a backend that can: tfjs issues about a dozen elementwise kernels per variable, each with
 * a fresh output buffer, which cost the DCGAN step more than its convolutions' weight gradients on aten.
 * On other backends, or when a buffer is shared with another tensor, it is tfjs's own update.
 */
export class FusedAdam extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Gradients): void {
    const backend = tf.backend() as unknown as Partial<InPlaceAdamBackend>;
    if (typeof backend.adamUpdateInPlace !== 'function') return super.applyGradients(variableGradients);
    const self = this as unknown as AdamInternals;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    // The bias corrections as tfjs computes them: float32 1 − βᵗ from the accumulated β powers.
    const [oneMinusAccBeta1, oneMinusAccBeta2] = tf.tidy(() => [tf.sub(1, self.accBeta1), tf.sub(1, self.accBeta2)].map((t) => t.dataSync()[0]));
    const hyper = { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, oneMinusAccBeta1, oneMinusAccBeta2 };
    const leftover: NamedTensor[] = [];
    names.forEach((name, i) => {
      const value = tf.engine().registeredVariables[name];
      // Moments are created on first use exactly as tfjs names them, so getWeights/setWeights are unchanged.
      self.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      self.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
      const gradient = Array.isArray(variableGradients) ? variableGradients[i].tensor : variableGradients[name];
      if (gradient == null) return;
      const m = self.accumulatedFirstMoment[i].variable;
      const v = self.accumulatedSecondMoment[i].variable;
      if (!backend.adamUpdateInPlace!(value, m, v, gradient, hyper)) leftover.push({ name, tensor: gradient });
    });
    if (leftover.length > 0) this.updateOrdinarily(leftover, names);
    tf.tidy(() => {
      self.accBeta1.assign(tf.mul(self.accBeta1, this.beta1));
      self.accBeta2.assign(tf.mul(self.accBeta2, this.beta2));
    });
    self.incrementIterations();
  }

  /** tfjs's per-variable arithmetic for the variables the backend could not update in place. */
  private updateOrdinarily(leftover: NamedTensor[], names: string[]): void {
    const self = this as unknown as AdamInternals;
    tf.tidy(() => {
      const oneMinusAccBeta1 = tf.sub(1, self.accBeta1);
      const oneMinusAccBeta2 = tf.sub(1, self.accBeta2);
      for (const { name, tensor: gradient } of leftover) {
        const i = names.indexOf(name);
        const value = tf.engine().registeredVariables[name];
        const m = self.accumulatedFirstMoment[i].variable;
        const v = self.accumulatedSecondMoment[i].variable;
        const newM = tf.add(tf.mul(m, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const newV = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        m.assign(newM);
        v.assign(newV);
        const step = tf.div(tf.div(newM, oneMinusAccBeta1), tf.add(tf.sqrt(tf.div(newV, oneMinusAccBeta2)), this.epsilon));
        value.assign(tf.add(tf.mul(step, -this.learningRate), value));
      }
    });
  }
}

/** Adam with the in-place update where the backend has one (see FusedAdam). */
export function adam(learningRate: number, beta1: number, beta2: number): tf.AdamOptimizer {
  return new FusedAdam(learningRate, beta1, beta2);
}
