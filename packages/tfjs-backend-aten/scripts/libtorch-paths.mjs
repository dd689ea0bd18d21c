// Locates libtorch and prints the compiler/linker settings binding.gyp needs.
// Used two ways: imported by build-native.mjs (findLibtorch) and run by gyp's
// command expansion (`node scripts/libtorch-paths.mjs <what>`), so that the
// detection logic exists once.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DEBIAN_LIB_DIR = '/usr/lib/x86_64-linux-gnu';

/** Returns a description of the libtorch to build against, or null when none is installed. */
export function findLibtorch(env = process.env) {
  const dir = env.LIBTORCH_DIR;
  if (dir) {
    // A PyTorch install's torch/ folder (pip wheel or the libtorch zip).
    const include = path.join(dir, 'include');
    const lib = path.join(dir, 'lib');
    if (!fs.existsSync(path.join(include, 'ATen', 'ATen.h')) || !fs.existsSync(lib)) {
      return { error: `LIBTORCH_DIR=${dir} has no include/ATen/ATen.h or lib/` };
    }
    const hasCuda = fs.existsSync(path.join(lib, 'libtorch_cuda.so'));
    const dist = distributedSettings(include, hasCuda, env);
    return {
      source: `LIBTORCH_DIR=${dir}`,
      includeDirs: [include, path.join(include, 'torch', 'csrc', 'api', 'include'), ...dist.includeDirs],
      libDir: lib,
      libs: ['-ltorch', '-ltorch_cpu', '-lc10', ...(hasCuda ? ['-ltorch_cuda', '-lc10_cuda'] : [])],
      // The wheels of some PyTorch versions use the pre-C++11 libstdc++ ABI; mixing ABIs fails at link time.
      defines: [...cxx11AbiDefine(dir), ...dist.defines],
      hasCuda,
    };
  }
  if (fs.existsSync('/usr/include/ATen/ATen.h') && fs.existsSync(path.join(DEBIAN_LIB_DIR, 'libtorch_cpu.so'))) {
    return {
      source: 'Debian libtorch-dev',
      includeDirs: ['/usr/include', '/usr/include/torch/csrc/api/include'],
      libDir: null,
      libs: ['-ltorch', '-ltorch_cpu', '-lc10'],
      defines: distributedSettings('/usr/include', false, env).defines,
      hasCuda: false,
    };
  }
  return null;
}

/**
 * c10d's backends are compiled out of its headers unless USE_C10D_GLOO / USE_C10D_NCCL are defined, and each
 * needs headers libtorch itself may not ship: Gloo's (Debian: libgloo-dev in /usr/include; PyTorch wheels ship
 * include/gloo), NCCL's and CUDA's (a wheel's NCCL comes from the nvidia-nccl package next to torch/). The
 * symbols are in libtorch_cpu / libtorch_cuda, so no extra library is linked. Without the headers the addon
 * still builds and its distributed module reports itself unavailable.
 */
function distributedSettings(include, hasCuda, env) {
  const defines = [];
  const includeDirs = [];
  if (fs.existsSync(path.join(include, 'gloo', 'algorithm.h'))) defines.push('USE_C10D_GLOO');
  if (hasCuda && fs.existsSync(path.join(include, 'torch', 'csrc', 'distributed', 'c10d', 'ProcessGroupNCCL.hpp'))) {
    const site = path.dirname(path.dirname(include));  // .../site-packages when include is .../torch/include
    const cudaHome = env.CUDA_HOME ?? env.CUDA_PATH ?? '/usr/local/cuda';
    const nccl = firstWith('nccl.h', [env.NCCL_INCLUDE_DIR, path.join(site, 'nvidia', 'nccl', 'include'),
      ...subdirs(path.join(site, 'nvidia')).map((d) => path.join(d, 'include')), path.join(cudaHome, 'include'), '/usr/include']);
    const cuda = firstWith('cuda_runtime_api.h', [path.join(cudaHome, 'include'), path.join(site, 'nvidia', 'cuda_runtime', 'include'),
      ...subdirs(path.join(site, 'nvidia')).map((d) => path.join(d, 'include'))]);
    if (nccl && cuda) {
      defines.push('USE_C10D_NCCL');
      // ProcessGroupNCCL.hpp reaches ATen's CUDA context, which includes cuBLAS', cuSPARSE's and cuSOLVER's headers
      // too: a CUDA toolkit may lack them where the wheels (nvidia/cu13/include, nvidia/cusparse/include, …) have them.
      const wheels = subdirs(path.join(site, 'nvidia')).map((d) => path.join(d, 'include')).filter((d) => fs.existsSync(d));
      for (const d of [cuda, nccl, ...wheels]) if (d !== '/usr/include' && !includeDirs.includes(d)) includeDirs.push(d);
    }
  }
  return { defines, includeDirs };
}

function firstWith(file, dirs) {
  return dirs.find((d) => d && fs.existsSync(path.join(d, file)));
}

function subdirs(dir) {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => path.join(dir, e.name));
  } catch {
    return [];
  }
}

function cxx11AbiDefine(dir) {
  const cmake = path.join(dir, 'share', 'cmake', 'Torch', 'TorchConfig.cmake');
  try {
    const m = /_GLIBCXX_USE_CXX11_ABI=(\d)/.exec(fs.readFileSync(cmake, 'utf8'));
    return m ? [`_GLIBCXX_USE_CXX11_ABI=${m[1]}`] : [];
  } catch {
    return [];
  }
}

/** The values gyp asks for, one per line (gyp's <!@ expansion splits on whitespace). */
function gypValue(what, lt) {
  if (!lt || lt.error) return [];
  switch (what) {
    case 'include': return lt.includeDirs;
    case 'libs':
      // --no-as-needed keeps torch_cuda linked even though no symbol of it is referenced directly:
      // loading it is what registers the CUDA backend with ATen.
      return ['-Wl,--no-as-needed', ...lt.libs, '-Wl,--as-needed'];
    case 'ldflags': return lt.libDir ? [`-L${lt.libDir}`, `-Wl,-rpath,${lt.libDir}`] : [];
    case 'defines': return lt.defines;
    default: throw new Error(`unknown query ${what}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  console.log(gypValue(process.argv[2], findLibtorch()).join('\n'));
}
