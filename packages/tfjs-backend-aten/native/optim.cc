// Optimizer updates done in place on the optimizer's own tensors: one pass over memory instead of the
// dozen elementwise kernels (each with a fresh output buffer) that tfjs's Adam issues per variable.
#include <ATen/Parallel.h>
#include <cmath>

#include "common.h"

namespace aten_backend {
namespace {

// adamUpdate(value, m, v, grad, lr, beta1, beta2, epsilon, oneMinusAccBeta1, oneMinusAccBeta2)
// Overwrites m, v and value with tfjs's Adam step, op for op in float32:
//   m ← m·β1 + g·(1−β1);  v ← v·β2 + g²·(1−β2);
//   value ← (m/(1−β1ᵗ)) / (sqrt(v/(1−β2ᵗ)) + ε) · (−lr) + value
// Returns false, changing nothing, when another tensor shares the storage of value, m or v (a view made by
// Reshape, say, which the JS side cannot see): writing in place would change that tensor too.
ATEN_BINDING(AdamUpdate, "AdamUpdate") {
  at::Tensor value = tensorAt(info[0].As<Napi::Number>().Uint32Value());
  const uint32_t mId = info[1].As<Napi::Number>().Uint32Value(), vId = info[2].As<Napi::Number>().Uint32Value();
  at::Tensor m = tensorAt(mId);
  at::Tensor v = tensorAt(vId);
  at::Tensor g = argTensor(info, 3);
  const float lr = static_cast<float>(argDouble(info, 4)), b1 = static_cast<float>(argDouble(info, 5)),
              b2 = static_cast<float>(argDouble(info, 6)), eps = static_cast<float>(argDouble(info, 7)),
              oma1 = static_cast<float>(argDouble(info, 8)), oma2 = static_cast<float>(argDouble(info, 9));
  for (const at::Tensor* t : std::initializer_list<const at::Tensor*>{&value, &m, &v, &g}) {
    TORCH_CHECK(t->scalar_type() == at::kFloat, "expected float32 tensors, got ", t->scalar_type());
    TORCH_CHECK(t->sizes() == value.sizes(), "shape mismatch: ", t->sizes(), " vs ", value.sizes());
  }
  for (const at::Tensor* t : std::initializer_list<const at::Tensor*>{&value, &m, &v}) {
    if (t->storage().use_count() != 1) return Napi::Boolean::New(info.Env(), false);
  }
  // 1 − β as tfjs computes it (in double, then rounded to float32), not 1 − float(β): for β2 = 0.999 the two differ
  // by 1.3e-5 relative, and this update must give the same bits as tfjs's own Adam (FusedAdam falls back to it for
  // a variable whose buffer is shared), or a run's weights would depend on which path each step happened to take.
  const float c1 = static_cast<float>(1.0 - argDouble(info, 5)), c2 = static_cast<float>(1.0 - argDouble(info, 6)),
              negLr = -lr;
  // Moments restored from a checkpoint are contiguous while a conv filter kept channels-last is not: give them
  // (and the gradient) the value's layout first, so that every step takes the same one-pass arithmetic and a
  // resumed run stays bit-for-bit the uninterrupted one.
  if (value.is_cpu() && value.is_non_overlapping_and_dense()) {
    const auto like = [&](const at::Tensor& t) { return at::empty_like(value).copy_(t); };
    if (m.strides() != value.strides()) relayoutTensor(mId, m = like(m));
    if (v.strides() != value.strides()) relayoutTensor(vId, v = like(v));
    if (g.strides() != value.strides()) g = like(g);
  }
  // One pass over memory when all four are dense with the same strides (contiguous, or conv filters kept
  // channels-last, whose gradients and moments share that layout).
  const bool flat = value.is_cpu() && value.is_non_overlapping_and_dense() && m.strides() == value.strides() &&
                    v.strides() == value.strides() && g.strides() == value.strides();
  if (flat) {
    float *pv = value.data_ptr<float>(), *pm = m.data_ptr<float>(), *ps = v.data_ptr<float>();
    const float* pg = g.data_ptr<float>();
    at::parallel_for(0, value.numel(), 32768, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        const float gi = pg[i];
        const float mi = pm[i] * b1 + gi * c1;
        const float si = ps[i] * b2 + (gi * gi) * c2;
        pm[i] = mi;
        ps[i] = si;
        pv[i] = ((mi / oma1) / (std::sqrt(si / oma2) + eps)) * negLr + pv[i];
      }
    });
  } else {
    // Strided views or a GPU: the same arithmetic as in-place ATen ops (TensorIterator aligns the strides).
    m.mul_(b1).add_(g * c1);
    v.mul_(b2).add_(g * g * c2);
    value.add_((m / oma1).div_((v / oma2).sqrt_().add_(eps)).mul_(negLr));
  }
  return Napi::Boolean::New(info.Env(), true);
}

}  // namespace

void registerOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate));
}

}  // namespace aten_backend
