// The one TF.js build the page and exported generators share (dist/studio-web/vendor/tfjs.js): core ops,
// the layers-model loader, and both browser backends. Everything in the page reaches TF.js through here, so
// rollup keeps all of TF.js in this one self-contained file.
export * from '@tensorflow/tfjs-core';
export { loadLayersModel } from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
