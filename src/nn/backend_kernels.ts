import * as tf from '@tensorflow/tfjs-core';

/**
 * Whether the current backend registers the kernel `name`. The fused kernels the layers here can use (tfjs-backend-
 * aten's: BatchNormTraining, BiasAct, ChannelScale, …) exist on no other backend, so each layer composes tfjs ops
 * where this says no (the cpu backend, the browser).
 */
export function backendHas(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/** The backend's kernel `name` on float32 inputs, or null where the backend lacks it or an input is not float32. */
export function runBackendKernel<T extends tf.Tensor | tf.Tensor[] = tf.Tensor>(name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): T | null {
  if (!backendHas(name) || Object.values(inputs).some((t) => t.dtype !== 'float32')) return null;
  return tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as T;
}
