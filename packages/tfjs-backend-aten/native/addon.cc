// Module entry: every kernel family adds its bindings.
#include <cstdlib>
#include <cstring>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common.h"

namespace aten_backend {

// Tensor buffers of a training step are megabytes each, allocated and freed thousands of times per step.
// glibc serves blocks above its mmap threshold (128 KiB at first) with fresh mmap'd pages and unmaps them
// on free, so every such tensor page-faults all its pages in again; the threshold only grows on its own
// after certain frees, and in Node it often stayed low: a StyleGAN2 step at 32 px, batch 32 (15,000
// tensors) took 300,000-600,000 minor faults per 8 steps and a quarter of its CPU time in the kernel,
// against ~15,000 faults with the settings below (PyTorch's own process: none measurable). So the
// threshold is fixed where glibc's own adjustment would end (32 MiB, its 64-bit maximum), with the heap
// trimmed only past 64 MiB of free top (glibc's rule: twice the threshold). Freed memory is then kept
// for reuse, up to the step's peak. GANFORGE_MALLOC_TUNE=0, or any MALLOC_*_ / GLIBC_TUNABLES setting,
// leaves glibc's defaults alone.
static void tuneMalloc() {
#if defined(__GLIBC__)
  const char* off = std::getenv("GANFORGE_MALLOC_TUNE");
  if (off && std::strcmp(off, "0") == 0) return;
  for (const char* chosen : {"MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"}) {
    if (std::getenv(chosen)) return;
  }
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  tuneMalloc();
  registerTensorTable(env, exports);
  registerElementwise(env, exports);
  registerMatmul(env, exports);
  registerConv(env, exports);
  registerPoolResize(env, exports);
  registerReduceNorm(env, exports);
  registerShapeOps(env, exports);
  registerIndexOps(env, exports);
  registerOptim(env, exports);
  registerDistributed(env, exports);
  return exports;
}
}  // namespace aten_backend

static Napi::Object InitAtenBackend(Napi::Env env, Napi::Object exports) { return aten_backend::InitModule(env, exports); }
NODE_API_MODULE(aten_backend, InitAtenBackend)
