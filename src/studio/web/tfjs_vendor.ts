// The one TF.js build the page and exported generators share (dist/studio-web/vendor/tfjs.js): core ops,
// the layers-model loader, and both browser backends. Everything in the page reaches TF.js through here, so
// rollup keeps all of TF.js in this one self-contained file.
export * from '@tensorflow/tfjs-core';
export { loadLayersModel } from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
// ganforge's own layers register themselves with tfjs's serialization when imported. Imported here, they
// register with this bundle's tfjs-layers, the instance loadLayersModel above deserializes with; a model
// holding them (pix2pix's SeededDropout, CycleGAN's InstanceNormalization and ReflectionPadding2D, SNGAN's
// spectral-norm layers, BigGAN's conditional batch norm, self-attention and upsampling, StyleGAN2's style
// layers, the SR generators' pixel shuffle and scaled residual) would otherwise fail to load with "Unknown layer".
import '../../nn/seeded_dropout.js';
import '../../nn/instance_norm.js';
import '../../nn/reflection_padding.js';
import '../../nn/conditional_batch_norm.js';
import '../../nn/hierarchical_latent.js';
import '../../nn/self_attention.js';
import '../../nn/projection_discriminator.js';
import '../../nn/upsample.js';
import '../../nn/spectral_norm.js';
import '../../nn/minibatch.js';
import '../../nn/equalized.js';
import '../../nn/mapping.js';
import '../../nn/modulated_conv.js';
import '../../nn/synthesis_inputs.js';
import '../../nn/residual_block.js';
import '../../nn/w_plus.js';
import '../../nn/sr_layers.js';
import '../../nn/last_states.js';
import '../../nn/fused_gru.js';
import '../../nn/fused_lstm.js';
import '../../nn/glu.js';
import '../../nn/conditioning_augmentation.js';
import '../../nn/word_attention.js';
import '../../nn/text_fusion.js';
