// TapMix and its adjoint TapScatter: rows of a [R, C] source mixed by a fixed number of weighted taps,
// out[n] = Σ_t weight[n, t] · source[index[n, t]]. Resampling by interpolation is this with 4 taps (bilinear) per
// output pixel and C colour channels. Composed, it is a gather of N·T narrow rows, a product and a sum, and its
// gradient a product, a broadcast and a scatter: five passes over N·T·C floats where these make one.
#include <ATen/Parallel.h>

// As in style_ops.cc: the addon's -O2 leaves the short per-channel loops below rolled.
#pragma GCC optimize("O3")

#include "common.h"

namespace aten_backend {
namespace {

struct Taps {
  int64_t n, taps, c;
};

// index int32 [N, T] and weight float32 [N, T] on the device of `data`, whose last axis is C.
Taps checkTaps(const at::Tensor& data, const at::Tensor& index, const at::Tensor& weight, const char* dataName) {
  TORCH_CHECK(data.dim() == 2 && data.scalar_type() == at::kFloat, dataName, " must be float32 [rows, C], got ", data.sizes());
  TORCH_CHECK(index.dim() == 2 && index.scalar_type() == at::kInt, "index must be int32 [N, taps], got ", index.sizes());
  TORCH_CHECK(weight.sizes() == index.sizes() && weight.scalar_type() == at::kFloat,
              "weight must be float32 of index's shape ", index.sizes(), ", got ", weight.sizes());
  return {index.size(0), index.size(1), data.size(1)};
}

void checkRange(const int32_t* id, int64_t count, int64_t rows) {
  for (int64_t i = 0; i < count; ++i) {
    if (id[i] < 0 || id[i] >= rows) {
      throw std::out_of_range("index out of range: each must be in [0, " + std::to_string(rows) + "), got " + std::to_string(id[i]));
    }
  }
}

// out[r] = Σ_t w[r, t] · src[id[r, t]] for rows [begin, end); C fixed at compile time where it is 1 or 3 (grey,
// RGB), so the channel loop unrolls.
template <int64_t kC>
void mixRowsOf(float* __restrict po, const float* __restrict ps, const int32_t* __restrict pi, const float* __restrict pw,
               int64_t begin, int64_t end, int64_t taps, int64_t c) {
  const int64_t C = kC > 0 ? kC : c;
  for (int64_t r = begin; r < end; ++r) {
    float acc[kC > 0 ? kC : 1];
    float* o = kC > 0 ? acc : po + r * C;
    for (int64_t k = 0; k < C; ++k) o[k] = 0.0f;
    for (int64_t t = 0; t < taps; ++t) {
      const float wt = pw[r * taps + t];
      const float* row = ps + static_cast<int64_t>(pi[r * taps + t]) * C;
      for (int64_t k = 0; k < C; ++k) o[k] += wt * row[k];
    }
    if (kC > 0) for (int64_t k = 0; k < C; ++k) po[r * C + k] = acc[k];
  }
}

// out[id[r, t]] += w[r, t] · g[r] over all rows, in order (taps of different rows may share a target row).
template <int64_t kC>
void scatterRowsOf(float* __restrict po, const float* __restrict pd, const int32_t* __restrict pi, const float* __restrict pw,
                   int64_t n, int64_t taps, int64_t c) {
  const int64_t C = kC > 0 ? kC : c;
  for (int64_t r = 0; r < n; ++r) {
    const float* g = pd + r * C;
    for (int64_t t = 0; t < taps; ++t) {
      const float wt = pw[r * taps + t];
      float* o = po + static_cast<int64_t>(pi[r * taps + t]) * C;
      for (int64_t k = 0; k < C; ++k) o[k] += wt * g[k];
    }
  }
}

// On a GPU an index out of range is a device-side assert that poisons the context for the rest of the process, so
// the range is checked first there too (one sync).
void checkRangeOnDevice(const at::Tensor& index, int64_t rows) {
  if (index.numel() > 0 && (index.lt(0) | index.ge(rows)).any().item<bool>()) {
    throw std::out_of_range("index out of range: each must be in [0, " + std::to_string(rows) + ")");
  }
}

// Other devices: the same sums from ATen ops.
at::Tensor composedMix(const at::Tensor& source, const at::Tensor& index, const at::Tensor& weight, const Taps& s) {
  return (source.index_select(0, index.reshape({-1}).to(at::kLong)).view({s.n, s.taps, s.c}) * weight.unsqueeze(2)).sum(1);
}

}  // namespace

// tapMix(source [R, C], index int32 [N, T], weight [N, T]) → [N, C]: out[n] = Σ_t weight[n, t] · source[index[n, t]].
ATEN_BINDING(TapMix, "TapMix") {
  const at::Tensor &source = argTensor(info, 0), &index = argTensor(info, 1), &weight = argTensor(info, 2);
  const Taps s = checkTaps(source, index, weight, "source");
  if (!source.is_cpu()) {
    checkRangeOnDevice(index, source.size(0));
    return returnTensor(info.Env(), composedMix(source, index, weight, s));
  }
  const at::Tensor src = source.contiguous(), id = index.contiguous(), w = weight.contiguous();
  const int32_t* pi = id.data_ptr<int32_t>();
  checkRange(pi, s.n * s.taps, source.size(0));
  at::Tensor out = at::empty({s.n, s.c}, src.options());
  const float *ps = src.data_ptr<float>(), *pw = w.data_ptr<float>();
  float* po = out.data_ptr<float>();
  at::parallel_for(0, s.n, std::max<int64_t>(1, 8192 / (s.taps * s.c + 1)), [&](int64_t begin, int64_t end) {
    if (s.c == 3) mixRowsOf<3>(po, ps, pi, pw, begin, end, s.taps, s.c);
    else if (s.c == 1) mixRowsOf<1>(po, ps, pi, pw, begin, end, s.taps, s.c);
    else mixRowsOf<0>(po, ps, pi, pw, begin, end, s.taps, s.c);
  });
  return returnTensor(info.Env(), out);
}

// tapScatter(dy [N, C], index int32 [N, T], weight [N, T], rows) → [rows, C]: out[index[n, t]] += weight[n, t] · dy[n],
// TapMix's adjoint (its gradient for the source) and so the other way round. One pass in index order: taps of
// different rows may land on one source row, so the CPU loop is sequential.
ATEN_BINDING(TapScatter, "TapScatter") {
  const at::Tensor &dy = argTensor(info, 0), &index = argTensor(info, 1), &weight = argTensor(info, 2);
  const int64_t rows = argInt(info, 3);
  const Taps s = checkTaps(dy, index, weight, "dy");
  TORCH_CHECK(dy.size(0) == s.n, "dy must have one row per index row (", s.n, "), got ", dy.sizes());
  TORCH_CHECK(rows >= 0, "rows must be ≥ 0, got ", rows);
  if (!dy.is_cpu()) {
    checkRangeOnDevice(index, rows);
    const at::Tensor spread = (dy.unsqueeze(1) * weight.unsqueeze(2)).reshape({s.n * s.taps, s.c});
    return returnTensor(info.Env(), at::zeros({rows, s.c}, dy.options()).index_add_(0, index.reshape({-1}).to(at::kLong), spread));
  }
  const at::Tensor d = dy.contiguous(), id = index.contiguous(), w = weight.contiguous();
  const int32_t* pi = id.data_ptr<int32_t>();
  checkRange(pi, s.n * s.taps, rows);
  at::Tensor out = at::zeros({rows, s.c}, d.options());
  const float *pd = d.data_ptr<float>(), *pw = w.data_ptr<float>();
  float* po = out.data_ptr<float>();
  if (s.c == 3) scatterRowsOf<3>(po, pd, pi, pw, s.n, s.taps, s.c);
  else if (s.c == 1) scatterRowsOf<1>(po, pd, pi, pw, s.n, s.taps, s.c);
  else scatterRowsOf<0>(po, pd, pi, pw, s.n, s.taps, s.c);
  return returnTensor(info.Env(), out);
}

void registerTapMix(Napi::Env env, Napi::Object exports) {
  exports.Set("tapMix", Napi::Function::New(env, TapMix));
  exports.Set("tapScatter", Napi::Function::New(env, TapScatter));
}

}  // namespace aten_backend
