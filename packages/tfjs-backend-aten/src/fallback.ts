// Generic fallback: any kernel the CPU backend has and aten does not runs on a private
// MathBackendCPU. Inputs are copied over, the CPU kernelFunc runs, outputs are copied back
// into aten tensors and every temporary is disposed. Which kernels fell back is recorded
// so that tests can assert hot paths stay native.
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import {
  backend_util, DataId, getKernel, getKernelsForBackend, KernelConfig, NamedTensorInfoMap, registerKernel, TensorInfo,
} from '@tensorflow/tfjs-core';
import type { KernelFunc } from '@tensorflow/tfjs-core';
import type { AtenBackend } from './backend.js';
import { BACKEND_NAME } from './name.js';

type KernelArgs = Parameters<KernelFunc>[0];

let cpu: MathBackendCPU | undefined;
const fellBack = new Set<string>();

function cpuBackend(): MathBackendCPU {
  if (!cpu) {
    cpu = new MathBackendCPU();
    // Its first write prints an advert for tfjs-node; this instance is an implementation detail.
    (cpu as unknown as { firstUse: boolean }).firstUse = false;
  }
  return cpu;
}

/** Kernel names that ran through the CPU fallback since the process started (sorted). */
export function fallbackKernels(): string[] {
  return [...fellBack].sort();
}

/** Runs the 'cpu' registration of `kernelName` on copies of the inputs. */
export function runOnCpu(kernelName: string, args: KernelArgs, aten: AtenBackend): TensorInfo | TensorInfo[] {
  const config = getKernel(kernelName, 'cpu');
  if (!config) throw new Error(`aten ${kernelName}: no native kernel and no CPU kernel to fall back to`);
  fellBack.add(kernelName);
  const cpuB = cpuBackend();
  const temporaries = new Set<DataId>();
  const cpuInputs: NamedTensorInfoMap = {};
  try {
    for (const [name, t] of Object.entries(args.inputs)) {
      if (t == null) continue;
      const copy = toCpu(t, aten, cpuB, temporaries);
      cpuInputs[name] = copy;
    }
    const result = config.kernelFunc({ inputs: cpuInputs, attrs: args.attrs, backend: cpuB });
    const outs = Array.isArray(result) ? result : [result];
    for (const o of outs) temporaries.add(o.dataId);
    const back = outs.map((o) => aten.makeTensorInfo(o.shape, o.dtype, cpuB.readSync(o.dataId)));
    return Array.isArray(result) ? back : back[0];
  } finally {
    for (const id of temporaries) cpuB.disposeData(id, true);
  }
}

function toCpu(t: TensorInfo, aten: AtenBackend, cpuB: MathBackendCPU, temporaries: Set<DataId>): TensorInfo {
  const values = aten.readSync(t.dataId);
  if (t.dtype === 'complex64') {
    // The CPU backend keeps complex tensors as a pair of float32 tensors.
    const [real, imag] = splitComplex(values as Float32Array);
    const realInfo = cpuB.makeTensorInfo(t.shape, 'float32', real);
    const imagInfo = cpuB.makeTensorInfo(t.shape, 'float32', imag);
    temporaries.add(realInfo.dataId).add(imagInfo.dataId);
    const complex = getKernel('Complex', 'cpu')!.kernelFunc({ inputs: { real: realInfo, imag: imagInfo }, backend: cpuB, attrs: {} }) as TensorInfo;
    temporaries.add(complex.dataId);
    return complex;
  }
  const dataId = cpuB.write(values, t.shape, t.dtype);
  temporaries.add(dataId);
  return { dataId, shape: t.shape, dtype: t.dtype };
}

function splitComplex(interleaved: Float32Array): [Float32Array, Float32Array] {
  const parts = backend_util.splitRealAndImagArrays(interleaved);
  return [parts.real, parts.imag];
}

/** Registers a CPU-fallback wrapper for every 'cpu' kernel aten lacks. */
export function registerFallbacks(aten: () => AtenBackend): void {
  for (const config of getKernelsForBackend('cpu')) {
    if (getKernel(config.kernelName, BACKEND_NAME)) continue;
    const wrapper: KernelConfig = {
      kernelName: config.kernelName,
      backendName: BACKEND_NAME,
      kernelFunc: (args) => runOnCpu(config.kernelName, args, args.backend as AtenBackend ?? aten()),
    };
    registerKernel(wrapper);
  }
}
