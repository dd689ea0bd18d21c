// Shared plumbing of the aten addon: the handle table that owns ATen tensors, argument
// decoding, result encoding and the error guard every binding runs inside.
#pragma once
#include <ATen/ATen.h>
#include <napi.h>

#include <string>
#include <vector>

namespace aten_backend {

// tfjs dtypes as the JS side numbers them (see src/native.ts).
enum DtypeCode : int32_t { kFloat32 = 0, kInt32 = 1, kBool = 2 };

at::ScalarType toScalarType(int32_t code);
int32_t toDtypeCode(at::ScalarType t);

// Device every tensor lives on (GANFORGE_DEVICE); set once by init().
const at::Device& device();
at::TensorOptions options(int32_t dtypeCode);

// The handle table: JS holds small integers, native holds the tensors. Integers avoid
// creating a JS object with a finalizer per tensor; tfjs disposes explicitly anyway.
const at::Tensor& tensorAt(uint32_t id);
uint32_t storeTensor(at::Tensor t);
void freeTensor(uint32_t id);
// Re-stores a handle's tensor in another memory layout (same sizes, dtype and values): tfjs tensors are
// immutable values, so only speed can tell. Used to keep conv filters in the layout oneDNN wants.
void relayoutTensor(uint32_t id, at::Tensor t);

// Outputs: the id is returned and the dtype/shape written into the shared meta buffer
// (dtype, rank, dims...) so that JS learns the output shape without extra N-API calls.
Napi::Value returnTensor(Napi::Env env, at::Tensor t);
Napi::Value returnTensors(Napi::Env env, const std::vector<at::Tensor>& ts);

// Argument decoding.
const at::Tensor& argTensor(const Napi::CallbackInfo& info, size_t i);
int64_t argInt(const Napi::CallbackInfo& info, size_t i);
double argDouble(const Napi::CallbackInfo& info, size_t i);
bool argBool(const Napi::CallbackInfo& info, size_t i);
std::string argString(const Napi::CallbackInfo& info, size_t i);
std::vector<int64_t> argInts(const Napi::CallbackInfo& info, size_t i);
std::vector<double> argDoubles(const Napi::CallbackInfo& info, size_t i);

// Runs a binding body and turns every C++ failure into a JS Error naming the kernel,
// so that bad input from JS can never abort the process.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* kernel, F&& body) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), std::string("aten ") + kernel + ": " + e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), std::string("aten ") + kernel + ": " + e.what());
  }
}

// Declares `static Napi::Value NAME(info)` whose body runs guarded, reported as KERNEL.
#define ATEN_BINDING(NAME, KERNEL)                                                   \
  static Napi::Value NAME##_body(const Napi::CallbackInfo& info);                    \
  static Napi::Value NAME(const Napi::CallbackInfo& info) {                          \
    return guarded(info, KERNEL, [&] { return NAME##_body(info); });                 \
  }                                                                                  \
  static Napi::Value NAME##_body(const Napi::CallbackInfo& info)

// Each kernel family adds its functions to the module exports.
void registerTensorTable(Napi::Env env, Napi::Object exports);
void registerElementwise(Napi::Env env, Napi::Object exports);
void registerMatmul(Napi::Env env, Napi::Object exports);
void registerConv(Napi::Env env, Napi::Object exports);
void registerPoolResize(Napi::Env env, Napi::Object exports);
void registerReduceNorm(Napi::Env env, Napi::Object exports);
void registerShapeOps(Napi::Env env, Napi::Object exports);
void registerIndexOps(Napi::Env env, Napi::Object exports);
void registerOptim(Napi::Env env, Napi::Object exports);
void registerDistributed(Napi::Env env, Napi::Object exports);
void registerRnn(Napi::Env env, Napi::Object exports);
void registerStyleOps(Napi::Env env, Napi::Object exports);
void registerTapMix(Napi::Env env, Napi::Object exports);

// NHWC <-> NCHW as views: ATen sees a channels-last NCHW tensor, no copy is made.
inline at::Tensor nhwcToNchw(const at::Tensor& t) { return t.permute({0, 3, 1, 2}); }
inline at::Tensor nchwToNhwc(const at::Tensor& t) { return t.permute({0, 2, 3, 1}); }

}  // namespace aten_backend

namespace aten_backend {
// Fused activations of _FusedMatMul / FusedConv2D, by tfjs name (linear, relu, relu6, prelu,
// elu, sigmoid, leakyrelu). preluWeights is only read for prelu.
at::Tensor applyActivation(const at::Tensor& t, const std::string& activation, double leakyAlpha,
                           const at::Tensor* preluWeights);
// Optional tensor argument: handle 0 means absent.
const at::Tensor* argOptionalTensor(const Napi::CallbackInfo& info, size_t i);
}  // namespace aten_backend
