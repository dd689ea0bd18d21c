// Kernels of StyleGAN-style networks: 2x resampling with the separable [1, 3, 3, 1] filter, the bias + leaky
// ReLU + gain that ends every equalized layer, and the per-sample channel scaling of modulation/demodulation.
// Composed from tfjs ops, each is several full-size passes over activations of millions of floats (pad, slice,
// scale, add, stack per axis; add, leaky ReLU, scale; a product then a sum for a gradient); here one pass each. On
// CPU the loops below run on contiguous NHWC floats; on other devices the same maths is composed from ATen ops.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>

// The loops below are simple enough for the compiler to vectorise, which the addon's -O2 leaves undone; the
// leaky ReLU is written as a product with a selected slope, which vectorises without branches (a branch on the
// sign of random data mispredicts half the time).
#pragma GCC optimize("O3")

#include "common.h"

namespace aten_backend {

namespace {

// The tap weights of one axis: upsampling gives out[2i] = .25 x[i−1] + .75 x[i] and out[2i+1] = .75 x[i] + .25 x[i+1];
// downsampling out[i] = (x[2i−1] + 3x[2i] + 3x[2i+1] + x[2i+2])/8. Outside the image counts as zero.
constexpr float kUpNear = 0.75f, kUpFar = 0.25f;
constexpr float kDown[4] = {0.125f, 0.375f, 0.375f, 0.125f};

// The inner loops, as plain functions over restrict pointers so that the optimiser vectorises them (it does not
// apply the pragma to the lambdas parallel_for runs).
void axpy(float* __restrict acc, const float* __restrict x, float w, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += w * x[i];
}

void scaleInto(float* __restrict out, const float* __restrict x, float w, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * w;
}

// out = wn·(cn·a + cf·b) + wf·(cn·c + cf·d): one upsampled pixel's channels from its four source pixels.
void blend4(float* __restrict out, const float* __restrict a, const float* __restrict b, const float* __restrict c,
            const float* __restrict d, float cn, float cf, float wn, float wf, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = wn * (cn * a[i] + cf * b[i]) + wf * (cn * c[i] + cf * d[i]);
}

// 1 where v > 0, else alpha, from v's bits (a positive float is a positive int32): a select the vectoriser takes,
// where a float comparison left the loop unvectorised.
inline float slope(float v, int32_t oneBits, int32_t alphaBits) {
  int32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  const int32_t positive = -static_cast<int32_t>(bits > 0);
  const int32_t picked = (oneBits & positive) | (alphaBits & ~positive);
  float out;
  std::memcpy(&out, &picked, sizeof out);
  return out;
}

int32_t bitsOf(float v) {
  int32_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return bits;
}

void biasActRows(float* __restrict out, const float* __restrict x, const float* __restrict bias, int64_t rows,
                 int64_t C, float alpha, float gain) {
  const int32_t one = bitsOf(1.0f), a = bitsOf(alpha);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < C; ++c) {
      const float v = x[r * C + c] + bias[c];
      out[r * C + c] = (v * slope(v, one, a)) * gain;  // v·1 is v: the roundings of leakyRelu, then ·gain
    }
  }
}

void biasActGradRows(float* __restrict out, const float* __restrict dy, const float* __restrict x,
                     const float* __restrict bias, int64_t rows, int64_t C, float alpha, float gain) {
  const int32_t one = bitsOf(1.0f), a = bitsOf(alpha);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < C; ++c) out[r * C + c] = (dy[r * C + c] * gain) * slope(x[r * C + c] + bias[c], one, a);
  }
}

// x [B, H, W, C] contiguous float → [B, 2H, 2W, C], every output times `gain`.
at::Tensor upsampleCpu(const at::Tensor& x, float gain) {
  const int64_t B = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3);
  at::Tensor out = at::empty({B, 2 * H, 2 * W, C}, x.options());
  const float* px = x.data_ptr<float>();
  float* po = out.data_ptr<float>();
  at::parallel_for(0, B * 2 * H, std::max<int64_t>(1, 16384 / (W * C + 1)), [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t b = row / (2 * H), oy = row % (2 * H), i = oy / 2;
      // The two source rows of this output row and their weights (the far one may be outside).
      const int64_t far = (oy % 2 == 0) ? i - 1 : i + 1;
      const bool farIn = far >= 0 && far < H;
      const float* near = px + (b * H + i) * W * C;
      const float* farRow = px + (b * H + (farIn ? far : i)) * W * C;
      const float wn = kUpNear * gain, wf = farIn ? kUpFar * gain : 0.0f;
      float* o = po + (b * 2 * H + oy) * 2 * W * C;
      for (int64_t ox = 0; ox < 2 * W; ++ox) {
        const int64_t j = ox / 2, fj = (ox % 2 == 0) ? j - 1 : j + 1;
        const bool fjIn = fj >= 0 && fj < W;
        const float cn = kUpNear, cf = fjIn ? kUpFar : 0.0f;
        const int64_t jn = j * C, jf = (fjIn ? fj : j) * C;
        blend4(o + ox * C, near + jn, near + jf, farRow + jn, farRow + jf, cn, cf, wn, wf, C);
      }
    }
  });
  return out;
}

// x [B, H, W, C] contiguous float (H, W even) → [B, H/2, W/2, C], every output times `gain`.
at::Tensor downsampleCpu(const at::Tensor& x, float gain) {
  const int64_t B = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3), h = H / 2, w = W / 2;
  at::Tensor out = at::empty({B, h, w, C}, x.options());
  const float* px = x.data_ptr<float>();
  float* po = out.data_ptr<float>();
  at::parallel_for(0, B * h, std::max<int64_t>(1, 16384 / (W * C + 1)), [&](int64_t begin, int64_t end) {
    std::vector<float> acc(C);
    for (int64_t row = begin; row < end; ++row) {
      const int64_t b = row / h, oy = row % h;
      float* o = po + row * w * C;
      for (int64_t ox = 0; ox < w; ++ox) {
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (int p = 0; p < 4; ++p) {
          const int64_t y = 2 * oy - 1 + p;
          if (y < 0 || y >= H) continue;
          const float* src = px + (b * H + y) * W * C;
          for (int q = 0; q < 4; ++q) {
            const int64_t xx = 2 * ox - 1 + q;
            if (xx < 0 || xx >= W) continue;
            axpy(acc.data(), src + xx * C, kDown[p] * kDown[q], C);
          }
        }
        scaleInto(o + ox * C, acc.data(), gain, C);
      }
    }
  });
  return out;
}

// The same resampling from ATen ops along one NHWC axis (devices other than the CPU).
at::Tensor shiftAxis(const at::Tensor& x, int64_t dim, int by) {
  const int64_t n = x.size(dim);
  at::Tensor zero = at::zeros_like(x.narrow(dim, 0, 1));
  return by == 1 ? at::cat({zero, x.narrow(dim, 0, n - 1)}, dim) : at::cat({x.narrow(dim, 1, n - 1), zero}, dim);
}

at::Tensor upsampleAxis(const at::Tensor& x, int64_t dim) {
  at::Tensor three = x * kUpNear;
  std::vector<int64_t> size = x.sizes().vec();
  size[dim] *= 2;
  return at::stack({three + shiftAxis(x, dim, 1) * kUpFar, three + shiftAxis(x, dim, -1) * kUpFar}, dim + 1).reshape(size);
}

at::Tensor downsampleAxis(const at::Tensor& x, int64_t dim) {
  std::vector<int64_t> pairs = x.sizes().vec();
  pairs[dim] /= 2;
  pairs.insert(pairs.begin() + dim + 1, 2);
  at::Tensor split = x.reshape(pairs);
  at::Tensor even = split.select(dim + 1, 0), odd = split.select(dim + 1, 1);
  return ((even + odd) * 3 + shiftAxis(odd, dim, 1) + shiftAxis(even, dim, -1)) * 0.125;
}

void scaleRow(float* __restrict out, const float* __restrict x, const float* __restrict s, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = x[i] * s[i];
}

void dotRow(double* __restrict acc, const float* __restrict a, const float* __restrict b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) acc[i] += static_cast<double>(a[i]) * b[i];
}

}  // namespace

// resample2x(x, up, gain): x [B, H, W, C] float32 → gain · upsample2x(x) [B, 2H, 2W, C] (up) or
// gain · downsample2x(x) [B, H/2, W/2, C], with the [1, 3, 3, 1] filter and zeros outside (src/nn/resample.ts).
ATEN_BINDING(Resample2x, "Resample2x") {
  const at::Tensor& x = argTensor(info, 0);
  const bool up = argBool(info, 1);
  const double gain = argDouble(info, 2);
  TORCH_CHECK(x.dim() == 4 && x.scalar_type() == at::kFloat, "x must be a float32 [B, H, W, C], got ", x.sizes());
  TORCH_CHECK(up || (x.size(1) % 2 == 0 && x.size(2) % 2 == 0), "downsampling needs even H and W, got ", x.sizes());
  if (x.device().is_cpu()) {
    at::Tensor xc = x.contiguous();
    return returnTensor(info.Env(), up ? upsampleCpu(xc, static_cast<float>(gain)) : downsampleCpu(xc, static_cast<float>(gain)));
  }
  at::Tensor y = up ? upsampleAxis(upsampleAxis(x, 1), 2) : downsampleAxis(downsampleAxis(x, 1), 2);
  return returnTensor(info.Env(), gain == 1.0 ? y : y * gain);
}

// biasAct(x, bias, alpha, gain): gain · leakyRelu(x + bias, alpha), bias [C] along x's last axis, x float32.
// Rounds as the composed ops do: the sum, the leaky ReLU and the product each to float32 in that order.
ATEN_BINDING(BiasAct, "BiasAct") {
  const at::Tensor &x = argTensor(info, 0), &bias = argTensor(info, 1);
  const float alpha = static_cast<float>(argDouble(info, 2)), gain = static_cast<float>(argDouble(info, 3));
  TORCH_CHECK(x.scalar_type() == at::kFloat && bias.scalar_type() == at::kFloat, "x and bias must be float32");
  TORCH_CHECK(x.dim() >= 1 && bias.dim() == 1 && bias.size(0) == x.size(-1), "bias must be [C] for x [..., C], got ",
              bias.sizes(), " and ", x.sizes());
  if (!x.device().is_cpu()) return returnTensor(info.Env(), at::leaky_relu(x + bias, alpha) * gain);
  at::Tensor xc = x.contiguous(), bc = bias.contiguous();
  at::Tensor out = at::empty_like(xc, at::MemoryFormat::Contiguous);
  const int64_t C = bias.size(0), rows = C == 0 ? 0 : xc.numel() / C;
  const float *px = xc.data_ptr<float>(), *pb = bc.data_ptr<float>();
  float* po = out.data_ptr<float>();
  at::parallel_for(0, rows, std::max<int64_t>(1, 32768 / (C + 1)), [&](int64_t begin, int64_t end) {
    biasActRows(po + begin * C, px + begin * C, pb, end - begin, C, alpha, gain);
  });
  return returnTensor(info.Env(), out);
}

// biasActGrad(dy, x, bias, alpha, gain): BiasAct's gradient for x (and, summed, the bias): (dy·gain) where
// x + bias > 0, else (dy·gain)·alpha. Linear in dy with a mask fixed by x + bias, so it is its own gradient for dy.
// (It reads the inputs rather than BiasAct's output: tfjs saves an output for a gradient by a copy that a gradient
// of the gradient cannot trace back.)
ATEN_BINDING(BiasActGrad, "BiasActGrad") {
  const at::Tensor &dy = argTensor(info, 0), &x = argTensor(info, 1), &bias = argTensor(info, 2);
  const float alpha = static_cast<float>(argDouble(info, 3)), gain = static_cast<float>(argDouble(info, 4));
  TORCH_CHECK(dy.sizes() == x.sizes() && dy.scalar_type() == at::kFloat && x.scalar_type() == at::kFloat,
              "dy and x must be float32 of one shape, got ", dy.sizes(), " and ", x.sizes());
  TORCH_CHECK(bias.scalar_type() == at::kFloat && bias.dim() == 1 && bias.size(0) == x.size(-1),
              "bias must be float32 [C] for x [..., C], got ", bias.sizes());
  if (!dy.device().is_cpu()) {
    at::Tensor d = dy * gain;
    return returnTensor(info.Env(), at::where(x + bias > 0, d, d * alpha));
  }
  at::Tensor dc = dy.contiguous(), xc = x.contiguous(), bc = bias.contiguous();
  at::Tensor out = at::empty_like(dc, at::MemoryFormat::Contiguous);
  const int64_t C = bias.size(0), rows = C == 0 ? 0 : xc.numel() / C;
  const float *pd = dc.data_ptr<float>(), *px = xc.data_ptr<float>(), *pb = bc.data_ptr<float>();
  float* po = out.data_ptr<float>();
  at::parallel_for(0, rows, std::max<int64_t>(1, 32768 / (C + 1)), [&](int64_t begin, int64_t end) {
    biasActGradRows(po + begin * C, pd + begin * C, px + begin * C, pb, end - begin, C, alpha, gain);
  });
  return returnTensor(info.Env(), out);
}

// channelScale(x, s): x [B, H, W, C] times s [B, C] per sample and channel (StyleGAN2's modulation and
// demodulation, done on activations). The same float32 product as a broadcast multiply.
ATEN_BINDING(ChannelScale, "ChannelScale") {
  const at::Tensor &x = argTensor(info, 0), &sc = argTensor(info, 1);
  TORCH_CHECK(x.dim() == 4 && x.scalar_type() == at::kFloat && sc.scalar_type() == at::kFloat && sc.dim() == 2 &&
              sc.size(0) == x.size(0) && sc.size(1) == x.size(3), "x must be float32 [B, H, W, C] and s [B, C], got ",
              x.sizes(), " and ", sc.sizes());
  const int64_t B = x.size(0), C = x.size(3), pixels = x.size(1) * x.size(2);
  if (!x.device().is_cpu()) return returnTensor(info.Env(), x * sc.view({B, 1, 1, C}));
  at::Tensor xc = x.contiguous(), sC = sc.contiguous();
  at::Tensor out = at::empty_like(xc, at::MemoryFormat::Contiguous);
  const float *px = xc.data_ptr<float>(), *ps = sC.data_ptr<float>();
  float* po = out.data_ptr<float>();
  at::parallel_for(0, B * pixels, std::max<int64_t>(1, 32768 / (C + 1)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) scaleRow(po + r * C, px + r * C, ps + (r / pixels) * C, C);
  });
  return returnTensor(info.Env(), out);
}

// channelDot(a, b): Σ over H and W of a·b for a, b [B, H, W, C] → [B, C] (the gradient of channelScale for s),
// one pass with no product tensor, summed in double in a fixed order per sample.
ATEN_BINDING(ChannelDot, "ChannelDot") {
  const at::Tensor &a = argTensor(info, 0), &b = argTensor(info, 1);
  TORCH_CHECK(a.dim() == 4 && a.sizes() == b.sizes() && a.scalar_type() == at::kFloat && b.scalar_type() == at::kFloat,
              "a and b must be float32 [B, H, W, C] of one shape, got ", a.sizes(), " and ", b.sizes());
  const int64_t B = a.size(0), C = a.size(3), pixels = a.size(1) * a.size(2);
  if (!a.device().is_cpu()) return returnTensor(info.Env(), (a * b).sum({1, 2}));
  at::Tensor ac = a.contiguous(), bc = b.contiguous();
  at::Tensor out = at::empty({B, C}, ac.options());
  const float *pa = ac.data_ptr<float>(), *pb = bc.data_ptr<float>();
  float* po = out.data_ptr<float>();
  at::parallel_for(0, B, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> acc(C);
    for (int64_t n = begin; n < end; ++n) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t p = 0; p < pixels; ++p) dotRow(acc.data(), pa + (n * pixels + p) * C, pb + (n * pixels + p) * C, C);
      for (int64_t c = 0; c < C; ++c) po[n * C + c] = static_cast<float>(acc[c]);
    }
  });
  return returnTensor(info.Env(), out);
}

void registerStyleOps(Napi::Env env, Napi::Object exports) {
  exports.Set("resample2x", Napi::Function::New(env, Resample2x));
  exports.Set("biasAct", Napi::Function::New(env, BiasAct));
  exports.Set("biasActGrad", Napi::Function::New(env, BiasActGrad));
  exports.Set("channelScale", Napi::Function::New(env, ChannelScale));
  exports.Set("channelDot", Napi::Function::New(env, ChannelDot));
}

}  // namespace aten_backend
