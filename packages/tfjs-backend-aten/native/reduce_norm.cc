// Reductions (Sum, Mean, Max, Min, Prod, All, Any, ArgMax, ArgMin), Softmax/LogSoftmax,
// FusedBatchNorm and Cumsum/Cumprod.
#include <ATen/Parallel.h>
#include <algorithm>
#include <cmath>
#include <vector>

#include "common.h"

namespace aten_backend {
namespace {

// Moves `axes` to the end and flattens them into one, for ATen ops that reduce one dim only.
at::Tensor flattenAxesLast(const at::Tensor& x, const std::vector<int64_t>& axes) {
  std::vector<int64_t> perm, keepShape;
  std::vector<bool> reduced(x.dim(), false);
  for (int64_t a : axes) reduced.at(a) = true;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!reduced[d]) { perm.push_back(d); keepShape.push_back(x.size(d)); }
  for (int64_t a : axes) perm.push_back(a);
  keepShape.push_back(-1);
  return x.permute(perm).reshape(keepShape);
}

std::vector<int64_t> keptShape(const at::Tensor& x, const std::vector<int64_t>& axes) {
  std::vector<int64_t> shape = x.sizes().vec();
  for (int64_t a : axes) shape.at(a) = 1;
  return shape;
}

const char* const kReduceOps[] = {"Sum", "Mean", "Max", "Min", "Prod", "All", "Any", "ArgMax", "ArgMin"};

at::Tensor reduce(const std::string& op, at::Tensor x, const std::vector<int64_t>& axes, bool keepDims) {
  if (op == "ArgMax" || op == "ArgMin") {
    if (axes.size() != 1) throw std::invalid_argument("expects exactly one axis");
    return op == "ArgMax" ? at::argmax(x, axes[0], keepDims) : at::argmin(x, axes[0], keepDims);
  }
  if (axes.empty()) return x.clone();  // nothing to reduce: tfjs returns the input values
  if (op == "Sum") return x.scalar_type() == at::kFloat ? at::sum(x, axes, keepDims) : at::sum(x, axes, keepDims, at::kInt);
  if (op == "Mean") return at::mean(x.is_floating_point() ? x : x.to(at::kFloat), axes, keepDims);
  if (op == "Max") return at::amax(x, axes, keepDims);
  if (op == "Min") return at::amin(x, axes, keepDims);
  at::Tensor flat = flattenAxesLast(x, axes), out;
  if (op == "Prod") out = x.scalar_type() == at::kFloat ? at::prod(flat, -1) : at::prod(flat, -1, false, at::kInt);
  else if (op == "All") out = at::all(flat, -1);
  else if (op == "Any") out = at::any(flat, -1);
  else throw std::invalid_argument("unknown reduction " + op);
  return keepDims ? out.reshape(keptShape(x, axes)) : out;
}

}  // namespace

// reduce(opIndex, x, axes, keepDims, outDtype)
static Napi::Value Reduce(const Napi::CallbackInfo& info) {
  const int64_t opIndex = info[0].As<Napi::Number>().Int64Value();
  const bool known = opIndex >= 0 && opIndex < static_cast<int64_t>(std::size(kReduceOps));
  return guarded(info, known ? kReduceOps[opIndex] : "reduce", [&] {
    if (!known) throw std::invalid_argument("unknown reduction index");
    at::Tensor out = reduce(kReduceOps[opIndex], argTensor(info, 1), argInts(info, 2), argBool(info, 3));
    at::ScalarType want = toScalarType(static_cast<int32_t>(argInt(info, 4)));
    return returnTensor(info.Env(), out.scalar_type() == want ? out : out.to(want));
  });
}

// softmax(logits, dim) / logSoftmax(logits, dim)
ATEN_BINDING(Softmax, "Softmax") { return returnTensor(info.Env(), at::softmax(argTensor(info, 0), argInt(info, 1))); }
ATEN_BINDING(LogSoftmax, "LogSoftmax") {
  return returnTensor(info.Env(), at::log_softmax(argTensor(info, 0), argInt(info, 1)));
}

// batchNorm(x, mean, variance, offset|0, scale|0, epsilon): one fused pass over x,
// out = x * k + (offset - mean * k) with k = scale / sqrt(variance + epsilon).
ATEN_BINDING(BatchNorm, "FusedBatchNorm") {
  const at::Tensor &x = argTensor(info, 0), &mean = argTensor(info, 1), &variance = argTensor(info, 2);
  const at::Tensor* offset = argOptionalTensor(info, 3);
  const at::Tensor* scale = argOptionalTensor(info, 4);
  const double epsilon = argDouble(info, 5);
  at::Tensor k = at::rsqrt(variance + epsilon);
  if (scale) k = k * *scale;
  at::Tensor shift = offset ? *offset - mean * k : -mean * k;
  return returnTensor(info.Env(), at::addcmul(shift, x, k));
}

// batchNormGrad(which, x, mean, variance, scale|0, dy, epsilon): one of FusedBatchNorm's input gradients,
// for per-channel (last axis, rank-1) statistics, with mean and variance as inputs in their own right (as
// tfjs differentiates them: their dependence on x flows back through the moments that produced them).
// With k = 1/sqrt(variance + ε), s = scale (or 1) and sums over every axis but the channel's:
//   0 x: dy·s·k    1 mean: −s·k·Σdy    2 variance: −½·s·k³·Σ(x − mean)·dy    3 scale: k·Σ(x − mean)·dy    4 offset: Σdy
ATEN_BINDING(BatchNormGrad, "FusedBatchNormGrad") {
  const int64_t which = argInt(info, 0);
  const at::Tensor &x = argTensor(info, 1), &mean = argTensor(info, 2), &variance = argTensor(info, 3);
  const at::Tensor* scale = argOptionalTensor(info, 4);
  const at::Tensor& dy = argTensor(info, 5);
  const double epsilon = argDouble(info, 6);
  const int64_t channels = x.size(-1);
  TORCH_CHECK(mean.dim() == 1 && mean.size(0) == channels && variance.sizes() == mean.sizes(),
              "mean/variance must be [", channels, "], got ", mean.sizes(), " and ", variance.sizes());
  at::Tensor k = at::rsqrt(variance + epsilon);
  at::Tensor sk = scale ? k * *scale : k;
  if (which == 0) return returnTensor(info.Env(), dy * sk);
  const at::Tensor dy2 = dy.reshape({-1, channels});
  if (which == 1) return returnTensor(info.Env(), -sk * dy2.sum(0));
  if (which == 4) return returnTensor(info.Env(), dy2.sum(0));
  const at::Tensor centredDot = ((x.reshape({-1, channels}) - mean) * dy2).sum(0);  // Σ(x − mean)·dy
  if (which == 2) return returnTensor(info.Env(), sk * k * k * centredDot * -0.5);
  TORCH_CHECK(which == 3, "unknown gradient ", which);
  return returnTensor(info.Env(), k * centredDot);
}

// Instance norm of contiguous float32 NHWC images as explicit loops. Composed of ATen ops, each norm was five or
// six kernels with strided reductions over H and W and a thread-pool dispatch each: ~0.5 ms forward and ~0.8 ms
// backward for a [1, 16, 16, 256] map, 15 % of a CycleGAN step at 64 px (PyTorch's NCHW kernel: a fifth of that).
// Here one pass per statistic over the map, threads split over (image, channel block); sums in double.
template <typename Body>
void forChannelBlocks(int64_t batch, int64_t hw, int64_t channels, const Body& body) {
  // Enough channels per task that a task has ≥ ~32k elements; a task never spans two images.
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, hw));
  at::parallel_for(0, batch * channels, grain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end;) {
      const int64_t b = i / channels, c0 = i % channels, c1 = std::min(channels, c0 + (end - i));
      body(b, c0, c1);
      i += c1 - c0;
    }
  });
}

void instanceNormFloat(const at::Tensor& x, double epsilon, at::Tensor& yOut, at::Tensor& rstdOut) {
  const int64_t B = x.size(0), HW = x.size(1) * x.size(2), C = x.size(3);
  yOut = at::empty_like(x);
  rstdOut = at::empty({B, 1, 1, C}, x.options());
  const float* xp = x.data_ptr<float>();
  float *yp = yOut.data_ptr<float>(), *rp = rstdOut.data_ptr<float>();
  forChannelBlocks(B, HW, C, [&](int64_t b, int64_t c0, int64_t c1) {
    const int64_t n = c1 - c0;
    std::vector<double> sum(n, 0.0), sq(n, 0.0);
    std::vector<float> mean(n), r(n);
    const float* xb = xp + b * HW * C + c0;
    for (int64_t p = 0; p < HW; ++p)
      for (int64_t k = 0; k < n; ++k) sum[k] += xb[p * C + k];
    for (int64_t k = 0; k < n; ++k) mean[k] = static_cast<float>(sum[k] / HW);
    // The centred second moment (biased), as the composed form: no E[x²] − μ² cancellation.
    for (int64_t p = 0; p < HW; ++p)
      for (int64_t k = 0; k < n; ++k) {
        const float d = xb[p * C + k] - mean[k];
        sq[k] += d * d;
      }
    for (int64_t k = 0; k < n; ++k) r[k] = static_cast<float>(1.0 / std::sqrt(sq[k] / HW + epsilon));
    float* yb = yp + b * HW * C + c0;
    for (int64_t p = 0; p < HW; ++p)
      for (int64_t k = 0; k < n; ++k) yb[p * C + k] = (xb[p * C + k] - mean[k]) * r[k];
    std::copy(r.begin(), r.end(), rp + b * C + c0);
  });
}

// dx = dy·rstd + y·a + b with a = −rstd·mean(dy·y), b = −rstd·mean(dy) (means over H and W), as below.
at::Tensor instanceNormGradFloat(const at::Tensor& dy, const at::Tensor& y, const at::Tensor& rstd) {
  const int64_t B = y.size(0), HW = y.size(1) * y.size(2), C = y.size(3);
  at::Tensor dx = at::empty_like(y);
  const float *dyp = dy.data_ptr<float>(), *yp = y.data_ptr<float>(), *rp = rstd.data_ptr<float>();
  float* dxp = dx.data_ptr<float>();
  forChannelBlocks(B, HW, C, [&](int64_t b, int64_t c0, int64_t c1) {
    const int64_t n = c1 - c0, offset = b * HW * C + c0;
    std::vector<double> sdy(n, 0.0), sdyy(n, 0.0);
    std::vector<float> a(n), bias(n), r(n);
    const float *dyb = dyp + offset, *yb = yp + offset;
    for (int64_t p = 0; p < HW; ++p)
      for (int64_t k = 0; k < n; ++k) {
        const float g = dyb[p * C + k];
        sdy[k] += g;
        sdyy[k] += g * yb[p * C + k];
      }
    for (int64_t k = 0; k < n; ++k) {
      r[k] = rp[b * C + c0 + k];
      a[k] = static_cast<float>(-r[k] * (sdyy[k] / HW));
      bias[k] = static_cast<float>(-r[k] * (sdy[k] / HW));
    }
    float* dxb = dxp + offset;
    for (int64_t p = 0; p < HW; ++p)
      for (int64_t k = 0; k < n; ++k) dxb[p * C + k] = dyb[p * C + k] * r[k] + yb[p * C + k] * a[k] + bias[k];
  });
  return dx;
}

// instanceNorm(x, epsilon) -> [y, rstd]: per-sample, per-channel normalisation of NHWC images over H and W with
// the biased variance, y = (x − μ)·rstd, rstd = 1/sqrt(σ² + ε) ([B, 1, 1, C], returned for the gradient).
// Mean, then the centred second moment: at::var_mean's Welford pass was ~10x slower here (0.42 ms against
// 0.035 ms for [1, 16, 16, 256] on one thread) and the centred form keeps E[x²] − μ²'s cancellation away.
ATEN_BINDING(InstanceNorm, "InstanceNorm") {
  const at::Tensor& x = argTensor(info, 0);
  TORCH_CHECK(x.dim() == 4, "x must be [B, H, W, C], got ", x.sizes());
  const double epsilon = argDouble(info, 1);
  if (x.scalar_type() == at::kFloat && x.is_cpu()) {  // the loops read host memory; other devices compose ops
    at::Tensor y, rstd;
    instanceNormFloat(x.contiguous(), epsilon, y, rstd);
    return returnTensors(info.Env(), {y, rstd});
  }
  at::Tensor centred = x - x.mean({1, 2}, /*keepdim=*/true);
  at::Tensor rstd = at::rsqrt(centred.square().mean({1, 2}, true) + epsilon);  // [B, 1, 1, C]
  return returnTensors(info.Env(), {centred.mul_(rstd), rstd});
}

// instanceNormGrad(dy, y, rstd): dx of instanceNorm from its outputs, with means over H and W:
//   dx = rstd·(dy − mean(dy) − y·mean(dy·y)) = dy·rstd + y·a + b,  a = −rstd·mean(dy·y),  b = −rstd·mean(dy)
ATEN_BINDING(InstanceNormGrad, "InstanceNormGrad") {
  const at::Tensor &dy = argTensor(info, 0), &y = argTensor(info, 1), &rstd = argTensor(info, 2);
  TORCH_CHECK(y.dim() == 4 && dy.sizes() == y.sizes(), "dy and y must be the same [B, H, W, C], got ", dy.sizes(), " and ", y.sizes());
  if (dy.is_cpu() && dy.scalar_type() == at::kFloat && y.scalar_type() == at::kFloat && rstd.scalar_type() == at::kFloat)
    return returnTensor(info.Env(), instanceNormGradFloat(dy.contiguous(), y.contiguous(), rstd.contiguous()));
  at::Tensor a = -rstd * (dy * y).mean({1, 2}, true);
  at::Tensor b = -rstd * dy.mean({1, 2}, true);
  return returnTensor(info.Env(), at::addcmul(at::addcmul(b, y, a), dy, rstd));
}

// ---- Batch norm in training: the batch's own per-channel statistics, forward and backward in one call each ----
// tfjs-layers trains BatchNormalization as moments (Mean, Sub, Square, Mean) then FusedBatchNorm, and its gradient
// is five FusedBatchNorm input gradients plus the moments' own (two Tiles, two Muls, a Sum, two Adds): about twenty
// kernels and a dozen passes over the activation per layer and step. These do it in three passes forward and two
// backward, on contiguous float32 [rows, C] (channels last); rows are split by channel blocks, so each channel's
// sums run in one fixed order (deterministic across thread counts), accumulated in double.
template <typename Body>
static void forBatchNormChannels(int64_t rows, int64_t channels, const Body& body) {
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, rows));
  at::parallel_for(0, channels, grain, [&](int64_t c0, int64_t c1) { body(c0, c1); });
}

// y = (x − μ)·k·γ + β, k = 1/sqrt(σ² + ε); μ, σ² (biased, centred) over every axis but the last.
static void batchNormTrainingFloat(const at::Tensor& x, const float* gamma, const float* beta, double epsilon, at::Tensor& y,
                            at::Tensor& meanOut, at::Tensor& varianceOut) {
  const int64_t C = x.size(-1), R = x.numel() / C;
  y = at::empty_like(x);
  meanOut = at::empty({C}, x.options());
  varianceOut = at::empty({C}, x.options());
  const float* xp = x.data_ptr<float>();
  float *yp = y.data_ptr<float>(), *mp = meanOut.data_ptr<float>(), *vp = varianceOut.data_ptr<float>();
  forBatchNormChannels(R, C, [&](int64_t c0, int64_t c1) {
    const int64_t n = c1 - c0;
    std::vector<double> sum(n, 0.0), sq(n, 0.0);
    std::vector<float> mean(n), scale(n), shift(n);
    for (int64_t p = 0; p < R; ++p) {
      const float* row = xp + p * C + c0;
      for (int64_t k = 0; k < n; ++k) sum[k] += row[k];
    }
    for (int64_t k = 0; k < n; ++k) mean[k] = static_cast<float>(sum[k] / R);
    for (int64_t p = 0; p < R; ++p) {
      const float* row = xp + p * C + c0;
      for (int64_t k = 0; k < n; ++k) {
        const float d = row[k] - mean[k];
        sq[k] += d * d;
      }
    }
    for (int64_t k = 0; k < n; ++k) {
      const float variance = static_cast<float>(sq[k] / R);
      const float kk = static_cast<float>(1.0 / std::sqrt(static_cast<double>(variance) + epsilon));
      scale[k] = gamma ? kk * gamma[c0 + k] : kk;
      shift[k] = beta ? beta[c0 + k] : 0.0f;
      mp[c0 + k] = mean[k];
      vp[c0 + k] = variance;
    }
    for (int64_t p = 0; p < R; ++p) {
      const float* row = xp + p * C + c0;
      float* out = yp + p * C + c0;
      for (int64_t k = 0; k < n; ++k) out[k] = (row[k] - mean[k]) * scale[k] + shift[k];
    }
  });
}

// With S₁ = Σdy, S₂ = Σdy·(x − μ), k = 1/sqrt(σ² + ε) and N rows:
//   dβ = S₁,  dγ = k·S₂,  dx = dy·γk + (x − μ)·a + b,  a = −γk³·S₂/N + 2·dσ²/N,  b = −γk·S₁/N + dμ/N
// (dμ, dσ² the gradients reaching the returned statistics, zero when only y is used).
static void batchNormTrainingGradFloat(const at::Tensor& dy, const at::Tensor& x, const float* mean, const float* variance,
                                const float* gamma, const float* dMean, const float* dVariance, double epsilon,
                                at::Tensor& dx, at::Tensor& dGamma, at::Tensor& dBeta) {
  const int64_t C = x.size(-1), R = x.numel() / C;
  dx = at::empty_like(x);
  dGamma = at::empty({C}, x.options());
  dBeta = at::empty({C}, x.options());
  const float *dyp = dy.data_ptr<float>(), *xp = x.data_ptr<float>();
  float *dxp = dx.data_ptr<float>(), *dgp = dGamma.data_ptr<float>(), *dbp = dBeta.data_ptr<float>();
  forBatchNormChannels(R, C, [&](int64_t c0, int64_t c1) {
    const int64_t n = c1 - c0;
    std::vector<double> s1(n, 0.0), s2(n, 0.0);
    std::vector<float> mu(n), g(n), a(n), b(n);
    for (int64_t k = 0; k < n; ++k) mu[k] = mean[c0 + k];
    for (int64_t p = 0; p < R; ++p) {
      const float *drow = dyp + p * C + c0, *row = xp + p * C + c0;
      for (int64_t k = 0; k < n; ++k) {
        s1[k] += drow[k];
        s2[k] += drow[k] * (row[k] - mu[k]);
      }
    }
    for (int64_t k = 0; k < n; ++k) {
      const int64_t c = c0 + k;
      const double kk = 1.0 / std::sqrt(static_cast<double>(variance[c]) + epsilon);
      const double gk = gamma ? gamma[c] * kk : kk;
      g[k] = static_cast<float>(gk);
      a[k] = static_cast<float>(-gk * kk * kk * s2[k] / R + (dVariance ? 2.0 * dVariance[c] / R : 0.0));
      b[k] = static_cast<float>(-gk * s1[k] / R + (dMean ? dMean[c] / static_cast<double>(R) : 0.0));
      dgp[c] = static_cast<float>(kk * s2[k]);
      dbp[c] = static_cast<float>(s1[k]);
    }
    for (int64_t p = 0; p < R; ++p) {
      const float *drow = dyp + p * C + c0, *row = xp + p * C + c0;
      float* out = dxp + p * C + c0;
      for (int64_t k = 0; k < n; ++k) out[k] = drow[k] * g[k] + (row[k] - mu[k]) * a[k] + b[k];
    }
  });
}

static bool hostFloat(const at::Tensor* t) { return t == nullptr || (t->is_cpu() && t->scalar_type() == at::kFloat); }
static const float* floatsOrNull(const at::Tensor* t, at::Tensor& keep) {
  if (t == nullptr) return nullptr;
  keep = t->contiguous();
  return keep.data_ptr<float>();
}

// batchNormTraining(x, scale|0, offset|0, epsilon) -> [y, mean, variance] over every axis but the last.
ATEN_BINDING(BatchNormTraining, "BatchNormTraining") {
  const at::Tensor& x = argTensor(info, 0);
  const at::Tensor *scale = argOptionalTensor(info, 1), *offset = argOptionalTensor(info, 2);
  const double epsilon = argDouble(info, 3);
  TORCH_CHECK(x.dim() >= 2, "x must have a batch axis and a channel axis, got ", x.sizes());
  const int64_t C = x.size(-1);
  for (const at::Tensor* t : {scale, offset})
    TORCH_CHECK(t == nullptr || (t->dim() == 1 && t->size(0) == C), "scale/offset must be [", C, "], got ", t->sizes());
  if (x.is_cpu() && x.scalar_type() == at::kFloat && hostFloat(scale) && hostFloat(offset)) {
    at::Tensor y, mean, variance, keepScale, keepOffset;
    batchNormTrainingFloat(x.contiguous(), floatsOrNull(scale, keepScale), floatsOrNull(offset, keepOffset), epsilon, y, mean, variance);
    return returnTensors(info.Env(), {y, mean, variance});
  }
  const at::Tensor x2 = x.reshape({-1, C});
  const at::Tensor mean = x2.mean(0), centred = x2 - mean, variance = centred.square().mean(0);
  at::Tensor k = at::rsqrt(variance + epsilon);
  if (scale) k = k * *scale;
  at::Tensor y = centred * k;
  if (offset) y = y + *offset;
  return returnTensors(info.Env(), {y.view(x.sizes()), mean, variance});
}

// batchNormMovingStats(movingMean, movingVariance, mean, variance, momentum) -> [movingMean', movingVariance']:
// m' = m − (m − batch)·(1 − momentum) for both, the float32 operations in tfjs-layers' order (so the result is the
// one its BatchNormalization writes), in one call instead of six elementwise kernels per layer and step.
ATEN_BINDING(BatchNormMovingStats, "BatchNormMovingStats") {
  const at::Tensor &movingMean = argTensor(info, 0), &movingVariance = argTensor(info, 1);
  const at::Tensor &mean = argTensor(info, 2), &variance = argTensor(info, 3);
  const float rate = static_cast<float>(1.0 - argDouble(info, 4));
  TORCH_CHECK(movingMean.sizes() == mean.sizes() && movingVariance.sizes() == variance.sizes(),
              "moving statistics and batch statistics must have one shape, got ", movingMean.sizes(), " and ", mean.sizes());
  const auto update = [rate](const at::Tensor& m, const at::Tensor& batch) { return m - (m - batch) * rate; };
  return returnTensors(info.Env(), {update(movingMean, mean), update(movingVariance, variance)});
}

// batchNormTrainingGrad(dy, x, mean, variance, scale|0, dMean|0, dVariance|0, epsilon) -> [dx, dScale, dOffset].
ATEN_BINDING(BatchNormTrainingGrad, "BatchNormTrainingGrad") {
  const at::Tensor &dy = argTensor(info, 0), &x = argTensor(info, 1), &mean = argTensor(info, 2), &variance = argTensor(info, 3);
  const at::Tensor *scale = argOptionalTensor(info, 4), *dMean = argOptionalTensor(info, 5), *dVariance = argOptionalTensor(info, 6);
  const double epsilon = argDouble(info, 7);
  const int64_t C = x.size(-1);
  TORCH_CHECK(dy.sizes() == x.sizes(), "dy and x must have one shape, got ", dy.sizes(), " and ", x.sizes());
  for (const at::Tensor* t : {&mean, &variance, scale, dMean, dVariance})
    TORCH_CHECK(t == nullptr || (t->dim() == 1 && t->size(0) == C), "per-channel inputs must be [", C, "], got ", t->sizes());
  if (x.is_cpu() && x.scalar_type() == at::kFloat && dy.scalar_type() == at::kFloat && hostFloat(&mean) && hostFloat(&variance) &&
      hostFloat(scale) && hostFloat(dMean) && hostFloat(dVariance)) {
    at::Tensor dx, dGamma, dBeta, k1, k2, k3, k4, k5;
    batchNormTrainingGradFloat(dy.contiguous(), x.contiguous(), floatsOrNull(&mean, k1), floatsOrNull(&variance, k2),
                               floatsOrNull(scale, k3), floatsOrNull(dMean, k4), floatsOrNull(dVariance, k5), epsilon, dx, dGamma, dBeta);
    return returnTensors(info.Env(), {dx, dGamma, dBeta});
  }
  const at::Tensor x2 = x.reshape({-1, C}), dy2 = dy.reshape({-1, C}), centred = x2 - mean;
  const double rows = static_cast<double>(x2.size(0));
  const at::Tensor k = at::rsqrt(variance + epsilon), gk = scale ? k * *scale : k;
  const at::Tensor s1 = dy2.sum(0), s2 = (dy2 * centred).sum(0);
  at::Tensor a = -gk * k * k * s2 / rows, b = -gk * s1 / rows;
  if (dVariance) a = a + *dVariance * (2.0 / rows);
  if (dMean) b = b + *dMean / rows;
  const at::Tensor dx = dy2 * gk + centred * a + b;
  return returnTensors(info.Env(), {dx.view(x.sizes()), k * s2, s1});
}

// ---- A per-sample, per-channel affine map y = γ[b, c]·x + β[b, c] (DF-GAN's text fusion) ----
// Composed of tfjs ops it is a Mul and an Add forward and a Mul, a Mul + Sum and a Sum backward, each a pass over
// the activation; here one pass each way.
ATEN_BINDING(ChannelAffine, "ChannelAffine") {
  const at::Tensor &x = argTensor(info, 0), &gamma = argTensor(info, 1), &beta = argTensor(info, 2);
  TORCH_CHECK(x.dim() == 4 && gamma.dim() == 2 && gamma.size(0) == x.size(0) && gamma.size(1) == x.size(3) && beta.sizes() == gamma.sizes(),
              "x must be [B, H, W, C] and gamma, beta [B, C], got ", x.sizes(), ", ", gamma.sizes(), ", ", beta.sizes());
  const std::vector<int64_t> perImage = {x.size(0), 1, 1, x.size(3)};
  return returnTensor(info.Env(), at::addcmul(beta.reshape(perImage), x, gamma.reshape(perImage)));
}

// channelAffineGrad(dy, x, gamma) -> [dx, dGamma, dBeta]: dx = dy·γ, dγ = Σ_hw dy·x, dβ = Σ_hw dy.
ATEN_BINDING(ChannelAffineGrad, "ChannelAffineGrad") {
  const at::Tensor &dyIn = argTensor(info, 0), &xIn = argTensor(info, 1), &gammaIn = argTensor(info, 2);
  TORCH_CHECK(dyIn.sizes() == xIn.sizes() && xIn.dim() == 4 && gammaIn.dim() == 2, "dy and x must be one [B, H, W, C], gamma [B, C]");
  const int64_t B = xIn.size(0), HW = xIn.size(1) * xIn.size(2), C = xIn.size(3);
  if (!(xIn.is_cpu() && xIn.scalar_type() == at::kFloat && dyIn.scalar_type() == at::kFloat && gammaIn.scalar_type() == at::kFloat)) {
    const at::Tensor g = gammaIn.reshape({B, 1, 1, C});
    return returnTensors(info.Env(), {dyIn * g, (dyIn * xIn).sum({1, 2}), dyIn.sum({1, 2})});
  }
  const at::Tensor dy = dyIn.contiguous(), x = xIn.contiguous(), gamma = gammaIn.contiguous();
  at::Tensor dx = at::empty_like(x), dGamma = at::empty({B, C}, x.options()), dBeta = at::empty({B, C}, x.options());
  const float *dyp = dy.data_ptr<float>(), *xp = x.data_ptr<float>(), *gp = gamma.data_ptr<float>();
  float *dxp = dx.data_ptr<float>(), *dgp = dGamma.data_ptr<float>(), *dbp = dBeta.data_ptr<float>();
  forChannelBlocks(B, HW, C, [&](int64_t b, int64_t c0, int64_t c1) {
    const int64_t n = c1 - c0, offset = b * HW * C + c0;
    std::vector<double> sgv(n, 0.0), sbv(n, 0.0);
    double *__restrict sg = sgv.data(), *__restrict sb = sbv.data();
    const float* __restrict g = gp + b * C + c0;
    for (int64_t p = 0; p < HW; ++p) {
      const float *__restrict drow = dyp + offset + p * C, *__restrict row = xp + offset + p * C;
      float* __restrict out = dxp + offset + p * C;
      for (int64_t k = 0; k < n; ++k) out[k] = drow[k] * g[k];
      for (int64_t k = 0; k < n; ++k) {
        sg[k] += drow[k] * row[k];
        sb[k] += drow[k];
      }
    }
    for (int64_t k = 0; k < n; ++k) {
      dgp[b * C + c0 + k] = static_cast<float>(sg[k]);
      dbp[b * C + c0 + k] = static_cast<float>(sb[k]);
    }
  });
  return returnTensors(info.Env(), {dx, dGamma, dBeta});
}

// cumulative(x, axis, exclusive, reverse, isProduct)
ATEN_BINDING(Cumulative, "Cumsum") {
  at::Tensor x = argTensor(info, 0);
  const int64_t axis = argInt(info, 1);
  const bool exclusive = argBool(info, 2), reverse = argBool(info, 3), product = argBool(info, 4);
  if (reverse) x = x.flip(axis);
  const at::ScalarType type = x.scalar_type() == at::kBool ? at::kInt : x.scalar_type();
  at::Tensor out = product ? at::cumprod(x, axis, type) : at::cumsum(x, axis, type);
  if (exclusive) {
    // Shift by one along the axis, starting from the identity element.
    const int64_t n = x.size(axis);
    at::Tensor first = product ? at::ones_like(out.narrow(axis, 0, 1)) : at::zeros_like(out.narrow(axis, 0, 1));
    out = at::cat({first, out.narrow(axis, 0, std::max<int64_t>(n - 1, 0))}, axis);
  }
  if (reverse) out = out.flip(axis);
  return returnTensor(info.Env(), out);
}

void registerReduceNorm(Napi::Env env, Napi::Object exports) {
  Napi::Array names = Napi::Array::New(env, std::size(kReduceOps));
  for (size_t i = 0; i < std::size(kReduceOps); ++i) names.Set(i, kReduceOps[i]);
  exports.Set("reduceOps", names);
  exports.Set("batchNormGrad", Napi::Function::New(env, BatchNormGrad));
  exports.Set("reduce", Napi::Function::New(env, Reduce));
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("logSoftmax", Napi::Function::New(env, LogSoftmax));
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm));
  exports.Set("cumulative", Napi::Function::New(env, Cumulative));
  exports.Set("instanceNorm", Napi::Function::New(env, InstanceNorm));
  exports.Set("instanceNormGrad", Napi::Function::New(env, InstanceNormGrad));
  exports.Set("batchNormTraining", Napi::Function::New(env, BatchNormTraining));
  exports.Set("batchNormMovingStats", Napi::Function::New(env, BatchNormMovingStats));
  exports.Set("batchNormTrainingGrad", Napi::Function::New(env, BatchNormTrainingGrad));
  exports.Set("channelAffine", Napi::Function::New(env, ChannelAffine));
  exports.Set("channelAffineGrad", Napi::Function::New(env, ChannelAffineGrad));
}

}  // namespace aten_backend
