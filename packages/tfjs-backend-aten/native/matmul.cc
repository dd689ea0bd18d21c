// MatMul, BatchMatMul and _FusedMatMul. Transposes are strided views: BLAS reads them directly.
#include "common.h"

namespace aten_backend {

const at::Tensor* argOptionalTensor(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber() || info[i].As<Napi::Number>().Uint32Value() == 0) return nullptr;
  return &argTensor(info, i);
}

at::Tensor applyActivation(const at::Tensor& t, const std::string& activation, double leakyAlpha,
                           const at::Tensor* preluWeights) {
  if (activation.empty() || activation == "linear") return t;
  if (activation == "relu") return at::relu(t);
  if (activation == "relu6") return at::clamp(t, 0, 6);
  if (activation == "elu") return at::elu(t);
  if (activation == "sigmoid") return at::sigmoid(t);
  if (activation == "leakyrelu") return at::leaky_relu(t, leakyAlpha);
  if (activation == "prelu") {
    if (!preluWeights) throw std::invalid_argument("prelu activation without preluActivationWeights");
    return at::where(t < 0, t * *preluWeights, t);
  }
  throw std::invalid_argument("unknown activation " + activation);
}

// matMul(a, b, transposeA, transposeB, bias|0, activation, leakyreluAlpha, prelu|0)
ATEN_BINDING(MatMul, "BatchMatMul") {
  at::Tensor a = argTensor(info, 0), b = argTensor(info, 1);
  if (argBool(info, 2)) a = a.transpose(-1, -2);
  if (argBool(info, 3)) b = b.transpose(-1, -2);
  const at::Tensor* bias = argOptionalTensor(info, 4);
  std::string activation = info.Length() > 5 ? argString(info, 5) : "linear";
  at::Tensor out;
  if (bias && a.dim() == 2 && b.dim() == 2 && bias->dim() <= 1 && a.is_floating_point()) {
    out = at::addmm(*bias, a, b);  // bias is added by the GEMM itself (beta = 1)
  } else if (!a.is_floating_point() && !a.is_cpu()) {
    // CUDA's GEMMs take no integers; doubles hold int32 products and their sums exactly up to 2^53.
    out = at::matmul(a.to(at::kDouble), b.to(at::kDouble)).to(a.scalar_type());
    if (bias) out = out + *bias;
  } else {
    out = at::matmul(a, b);
    if (bias) out = out + *bias;
  }
  double alpha = info.Length() > 6 ? argDouble(info, 6) : 0.2;
  return returnTensor(info.Env(), applyActivation(out, activation, alpha, argOptionalTensor(info, 7)));
}

void registerMatmul(Napi::Env env, Napi::Object exports) {
  exports.Set("matMul", Napi::Function::New(env, MatMul));
}

}  // namespace aten_backend
