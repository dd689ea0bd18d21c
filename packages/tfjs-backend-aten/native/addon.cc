// Module entry: every kernel family adds its bindings.
#include "common.h"

namespace aten_backend {
static Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
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
  registerRnn(env, exports);
  registerStyleOps(env, exports);
  registerTapMix(env, exports);
  return exports;
}
}  // namespace aten_backend

static Napi::Object InitAtenBackend(Napi::Env env, Napi::Object exports) { return aten_backend::InitModule(env, exports); }
NODE_API_MODULE(aten_backend, InitAtenBackend)
