// Conv2D family on NHWC tensors. Inputs are permuted views (channels-last NCHW for ATen), so
// the hot path makes no layout copies; padding that ATen cannot express (top != bottom) is
// applied explicitly to the input.
#include <cstdlib>
#include <string>

#include <ATen/Parallel.h>

#include "common.h"

namespace aten_backend {
namespace {

struct ConvGeometry {
  std::vector<int64_t> stride, dilation;
  int64_t top, bottom, left, right;
};

// Arguments at `i`: strides[2], pads[4] (top, bottom, left, right), dilations[2].
ConvGeometry argGeometry(const Napi::CallbackInfo& info, size_t i) {
  ConvGeometry g;
  g.stride = argInts(info, i);
  std::vector<int64_t> pads = argInts(info, i + 1);
  g.dilation = argInts(info, i + 2);
  if (g.stride.size() != 2 || pads.size() != 4 || g.dilation.size() != 2) throw std::invalid_argument("bad conv geometry");
  g.top = pads[0]; g.bottom = pads[1]; g.left = pads[2]; g.right = pads[3];
  return g;
}

// Returns the NCHW input padded by what exceeds the symmetric part, and that symmetric part.
at::Tensor padAsymmetric(const at::Tensor& xNchw, const ConvGeometry& g, std::vector<int64_t>& symmetric, double value = 0) {
  int64_t ph = std::min(g.top, g.bottom), pw = std::min(g.left, g.right);
  symmetric = {ph, pw};
  if (g.top == g.bottom && g.left == g.right) return xNchw;
  return at::constant_pad_nd(xNchw, {g.left - pw, g.right - pw, g.top - ph, g.bottom - ph}, value);
}

// tfjs filter [h, w, in, out] -> ATen weight [out, in, h, w] (a view); depthwise [h, w, C, M] -> [C*M, 1, h, w]
// with groups = C. A filter already in channels-last order (see filterArg) stays a view.
at::Tensor weightFromFilter(const at::Tensor& filter, bool depthwise) {
  if (filter.dim() != 4) throw std::invalid_argument("filter must be rank 4");
  if (!depthwise) return filter.permute({3, 2, 0, 1}).contiguous(at::MemoryFormat::ChannelsLast);
  return filter.permute({2, 3, 0, 1}).reshape({filter.size(2) * filter.size(3), 1, filter.size(0), filter.size(1)});
}

// The filter argument at `i`, re-stored once (values unchanged) in channels-last weight order: memory
// [out, h, w, in], i.e. a [h, w, in, out] tensor whose permute(3, 2, 0, 1) is channels-last contiguous.
// oneDNN runs channels-last activations with such a weight directly; a weight in any other layout must be
// copied per call into a fresh buffer, and that was ~10x slower than the convolution itself here (one thread,
// 3×3 256→256 on 16×16: 27 ms against 2.2 ms; the fresh multi-MB buffers are the cost, not the copy). Since
// the handle keeps the new layout, a model's filters (tfjs variables, updated in place by Adam) pay it once.
//
// On by default; GANFORGE_CONV_RELAYOUT=0 turns it off (filters then stay as tfjs wrote them and oneDNN copies
// them per call). It makes CycleGAN's step ~1.1× PyTorch instead of ~0.8× (bench:translate-speed). Exact resume
// holds either way: the re-stored tensor owns its buffer (see below) and the in-place Adam gives tfjs's bits.
static bool relayoutFilters() {
  static const bool on = [] {
    const char* v = std::getenv("GANFORGE_CONV_RELAYOUT");
    return v == nullptr || std::string(v) != "0";
  }();
  return on;
}

const at::Tensor& filterArg(const Napi::CallbackInfo& info, size_t i) {
  const uint32_t id = info[i].As<Napi::Number>().Uint32Value();
  const at::Tensor& f = tensorAt(id);
  if (!relayoutFilters() || f.dim() != 4 || f.permute({3, 2, 0, 1}).is_contiguous(at::MemoryFormat::ChannelsLast)) return f;
  // A buffer of its own with the wanted strides, not a permuted view of a channels-last copy: a view keeps that
  // copy alive as its base, so the storage counts two users and FusedAdam's in-place update (optim.cc) refuses the
  // filter. tfjs's own Adam then ran instead, on the step of every re-store: step 1 of a fresh run, but every
  // step of a resumed one (its contiguous moments made each update's result contiguous again).
  const int64_t h = f.size(0), w = f.size(1), in = f.size(2);
  relayoutTensor(id, at::empty_strided(f.sizes(), {w * in, in, 1, h * w * in}, f.options()).copy_(f));
  return tensorAt(id);
}

// A [h, w, in, out] filter as the [h·w·in, out] matrix of the GEMM path, without a copy in either layout.
at::Tensor filterMatrix(const at::Tensor& filter) {
  const int64_t out = filter.size(3);
  if (filter.is_contiguous()) return filter.view({-1, out});
  return filter.permute({3, 0, 1, 2}).reshape({out, -1}).t();  // a view when stored channels-last
}

at::Tensor filterFromWeightGrad(const at::Tensor& gw, const std::vector<int64_t>& filterShape, bool depthwise) {
  if (!depthwise) return gw.permute({2, 3, 1, 0});
  return gw.reshape({filterShape[2], filterShape[3], filterShape[0], filterShape[1]}).permute({2, 3, 0, 1});
}

// ---- Small outputs: im2col + one matrix product ----
// oneDNN (and ATen's fallback) spend far longer on convolutions whose output has few pixels and many channels
// than their FLOPs need: measured on an earlier 2-core machine (libtorch 1.13, 2 threads) the weight gradient of a U-Net's
// 4×4/s2 conv from [4, 4, 4, 512] to [4, 2, 2, 1024] took 790 ms, the same product as a GEMM 9-157 ms; a
// [1, 32, 32, 128] → [1, 16, 16, 256] 3×3/s2 one 47 ms against 4 ms. Below these output sizes (batch × pixels)
// the patches are few, so the patch matrix is small and the GEMM path wins; above them oneDNN does.
// Both limits were higher (128, and 256 for the filter gradient) until measured on an AVX-512 EPYC
// (bench/conv_shapes.ts for single convolutions, and the family steps, interleaved): at 128 and 256 output pixels
// oneDNN was the faster path for batches 1, 8 and 16 (dfgan's 3×3 384→32 on 4×4 maps at batch 8: input gradient 0.20
// against 1.30 ms; stackgan's 256→256 at batch 16: filter gradient 2.2 against 3.0 ms), GEMM only at batch 4 and
// 256 pixels (2.3 against 2.8 ms). Steps, medians of 5–6 interleaved runs: stackgan 348 → 280 ms, attngan 443 → 357
// (filter limit 256 → 128), dfgan 227 → 168 (both 128 → 64); pix2pix and cyclegan did not move. At 64 pixels and
// fewer GEMM stays far ahead (3×3 512→512 on 2×2 maps at batch 16: filter gradient 3.6 against 8.1 ms; 4×4/s2
// 512→1024 at batch 4: 12 against 60 ms).
constexpr int64_t kGemmMaxPixelsWeightGradDefault = 64;
constexpr int64_t kGemmMaxPixelsDefault = 64;
// GANFORGE_CONV_GEMM_PIXELS / GANFORGE_CONV_GEMM_PIXELS_WGRAD replace the two limits (for measuring them).
static int64_t envLimit(const char* name, int64_t fallback) {
  const char* v = std::getenv(name);
  return v == nullptr ? fallback : std::atoll(v);
}
static const int64_t kGemmMaxPixelsWeightGrad = envLimit("GANFORGE_CONV_GEMM_PIXELS_WGRAD", kGemmMaxPixelsWeightGradDefault);
static const int64_t kGemmMaxPixels = envLimit("GANFORGE_CONV_GEMM_PIXELS", kGemmMaxPixelsDefault);

// GANFORGE_CONV_PATH=gemm|onednn forces one path wherever both apply (for measuring the rule; unset: the rule).
static int forcedPath() {
  static const int forced = [] {
    const char* v = std::getenv("GANFORGE_CONV_PATH");
    return v == nullptr ? 0 : std::string(v) == "gemm" ? 1 : std::string(v) == "onednn" ? 2 : 0;
  }();
  return forced;
}

bool gemmPath(int64_t outPixels, const ConvGeometry& g, int64_t maxPixels) {
  if (g.dilation[0] != 1 || g.dilation[1] != 1) return false;
  if (forcedPath() != 0) return forcedPath() == 1;
  return outPixels <= maxPixels;
}

// A kernel that covers the whole unpadded image (a discriminator's last, "valid" conv to a 1×1 logit map): each
// image is its only patch, already in [kh, kw, C] order, so patches and their fold are reshapes. The general fold
// (col2im, then a permuted copy back to NHWC) took ~2 ms for a [16, 4, 4, 256] input here, for no arithmetic.
bool wholeImagePatch(const std::vector<int64_t>& nhwc, const ConvGeometry& g, int64_t kh, int64_t kw) {
  return nhwc[1] == kh && nhwc[2] == kw && g.top == 0 && g.bottom == 0 && g.left == 0 && g.right == 0;
}

// The CPU float32 patch copy: one pass over the rows, each a run of kh·kw channel vectors copied straight from
// x (zeros where a tap falls in the padding), where ATen's route (pad, unfold, permute, a strided 6-d copy) made
// two. Its adjoint below replaces four passes (a permuted copy, col2im, a crop, an NHWC copy) with one. With cold
// caches (bench/conv_shapes.ts --cases small --flush 64, medians of 3 interleaved runs) three of the nine input
// gradients there got 12-36 % faster (e.g. [16, 2, 2, 512] 3×3 512→512 6.3 → 4.0 ms), the others and the forward
// and filter gradients moved within the runs' noise (about ±15 %).
bool directPatches(const at::Tensor& t) { return t.device().is_cpu() && t.scalar_type() == at::kFloat; }

at::Tensor patchRowsCpu(const at::Tensor& xIn, const ConvGeometry& g, int64_t kh, int64_t kw, int64_t ho, int64_t wo) {
  const at::Tensor x = xIn.contiguous();
  const int64_t B = x.size(0), H = x.size(1), W = x.size(2), C = x.size(3), row = kh * kw * C;
  at::Tensor rows = at::empty({B * ho * wo, row}, x.options());
  const float* px = x.data_ptr<float>();
  float* pr = rows.data_ptr<float>();
  at::parallel_for(0, B * ho, std::max<int64_t>(1, 16384 / (wo * row + 1)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t b = r / ho, oy = r % ho;
      float* dst = pr + r * wo * row;
      for (int64_t ox = 0; ox < wo; ++ox) {
        for (int64_t ky = 0; ky < kh; ++ky) {
          const int64_t iy = oy * g.stride[0] - g.top + ky;
          for (int64_t kx = 0; kx < kw; ++kx, dst += C) {
            const int64_t ix = ox * g.stride[1] - g.left + kx;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) std::fill(dst, dst + C, 0.0f);
            else std::copy(px + ((b * H + iy) * W + ix) * C, px + ((b * H + iy) * W + ix + 1) * C, dst);
          }
        }
      }
    }
  });
  return rows;
}

// Adjoint of patchRowsCpu, as a gather: each input pixel sums the patch entries that read it, so threads write
// disjoint pixels and every pixel once (no zero-fill pass, no col2im, no layout copies).
at::Tensor foldRowsCpu(const at::Tensor& rowsIn, const std::vector<int64_t>& inShape, const ConvGeometry& g, int64_t kh,
                       int64_t kw, int64_t ho, int64_t wo) {
  const at::Tensor rows = rowsIn.contiguous();
  const int64_t B = inShape[0], H = inShape[1], W = inShape[2], C = inShape[3], row = kh * kw * C;
  const int64_t sy = g.stride[0], sx = g.stride[1];
  at::Tensor dx = at::empty({B, H, W, C}, rows.options());
  const float* pr = rows.data_ptr<float>();
  float* pd = dx.data_ptr<float>();
  at::parallel_for(0, B * H, std::max<int64_t>(1, 16384 / (W * C * kh * kw + 1)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t b = r / H, iy = r % H;
      for (int64_t ix = 0; ix < W; ++ix) {
        float* __restrict out = pd + (r * W + ix) * C;
        std::fill(out, out + C, 0.0f);
        for (int64_t ky = 0; ky < kh; ++ky) {
          const int64_t ty = iy + g.top - ky;  // oy·sy when this tap of output row oy reads input row iy
          if (ty < 0 || ty % sy != 0 || ty / sy >= ho) continue;
          for (int64_t kx = 0; kx < kw; ++kx) {
            const int64_t tx = ix + g.left - kx;
            if (tx < 0 || tx % sx != 0 || tx / sx >= wo) continue;
            const float* __restrict src = pr + ((b * ho + ty / sy) * wo + tx / sx) * row + (ky * kw + kx) * C;
            for (int64_t c = 0; c < C; ++c) out[c] += src[c];
          }
        }
      }
    }
  });
  return dx;
}

// Patches of an NHWC input as rows: [B·Ho·Wo, kh·kw·C], columns in the order of a flattened tfjs filter
// [kh, kw, C, O], so a filter viewed as [kh·kw·C, O] multiplies it directly. Other devices: views + one copy.
at::Tensor patchRows(const at::Tensor& x, const ConvGeometry& g, int64_t kh, int64_t kw, int64_t ho, int64_t wo) {
  if (wholeImagePatch(x.sizes().vec(), g, kh, kw)) return x.reshape({x.size(0), -1});
  if (directPatches(x)) return patchRowsCpu(x, g, kh, kw, ho, wo);
  at::Tensor padded = at::constant_pad_nd(x, {0, 0, g.left, g.right, g.top, g.bottom});
  at::Tensor u = padded.unfold(1, kh, g.stride[0]).unfold(2, kw, g.stride[1]);  // [B, Ho, Wo, C, kh, kw]
  return u.permute({0, 1, 2, 4, 5, 3}).reshape({-1, kh * kw * x.size(3)});
}

// Adjoint of patchRows: rows [B·Ho·Wo, kh·kw·C] summed back onto an NHWC input of `inShape`. Other devices: ATen's
// col2im (NCHW, symmetric padding), computed on the padded size and cropped for tfjs's asymmetric padding.
at::Tensor foldRows(const at::Tensor& rows, const std::vector<int64_t>& inShape, const ConvGeometry& g, int64_t kh,
                    int64_t kw, int64_t ho, int64_t wo) {
  if (wholeImagePatch(inShape, g, kh, kw)) return rows.reshape({inShape[0], inShape[1], inShape[2], inShape[3]});
  if (directPatches(rows)) return foldRowsCpu(rows, inShape, g, kh, kw, ho, wo);
  const int64_t b = inShape[0], c = inShape[3];
  const int64_t hp = inShape[1] + g.top + g.bottom, wp = inShape[2] + g.left + g.right;
  at::Tensor cols = rows.view({b, ho * wo, kh, kw, c}).permute({0, 4, 2, 3, 1}).reshape({b, c * kh * kw, ho * wo});
  at::Tensor img = at::col2im(cols, {hp, wp}, {kh, kw}, {1, 1}, {0, 0}, g.stride);  // [B, C, Hp, Wp]
  img = img.narrow(2, g.top, inShape[1]).narrow(3, g.left, inShape[2]);
  return nchwToNhwc(img).contiguous();
}

void requireRank4(const at::Tensor& t, const char* what) {
  if (t.dim() != 4) throw std::invalid_argument(std::string(what) + " must be rank 4 (NHWC), got rank " + std::to_string(t.dim()));
}

// ---- Large kernels and few output channels: the forward pass as the input gradient of the mirrored convolution ----
// The forward of a stride-1 convolution with filter W is exactly the input gradient of the convolution with input
// and output channels exchanged and the kernel flipped (W'[c, o] = flip W[o, c]), padded by k − 1 − p, taking x as
// its output gradient. oneDNN (libtorch 1.13) has no fast channels-last forward kernel for kernels wider or taller
// than 7 and runs them far slower than that input gradient (here, medians: [4, 32, 32, 64] 9×9 → 3 at two threads
// 108 against 5.8 ms, → 64 76 against 30; srgan's 9×9 output layer [4, 32, 32, 32] → 3 14.2 against 2.5; 11×11
// 16 → 16 at 64 px 16.7 against 6.2). At one thread the mirrored form also wins for ≤ 8 output channels at any
// kernel size (cyclegan's 7×7 64 → 3 at 70 px, batch 8: 50 against 32 ms; 3×3 32 → 3: 2.65 against 2.1), but at
// two threads it loses there (7.2 against 8.5 ms), so it is used at one thread only. Measured with
// GANFORGE_CONV_MIRROR=off|on (unset: this rule).
static int mirrorSetting() {
  const char* v = std::getenv("GANFORGE_CONV_MIRROR");
  if (v && std::string(v) == "off") return 0;
  if (v && std::string(v) == "on") return 1;
  return -1;
}
static const int kMirror = mirrorSetting();

bool mirroredForward(const at::Tensor& x, int64_t kh, int64_t kw, int64_t outC, const ConvGeometry& g, bool depthwise) {
  if (depthwise || !x.device().is_cpu() || g.stride[0] != 1 || g.stride[1] != 1 || g.dilation[0] != 1 || g.dilation[1] != 1) return false;
  if (kMirror >= 0) return kMirror == 1;
  return std::max(kh, kw) > 7 || (outC <= 8 && at::get_num_threads() == 1);
}

// x as NCHW (channels-last memory) padded only by its asymmetric part, `padding` the symmetric rest; returns the
// convolution's NCHW output, as at::convolution would (no bias).
at::Tensor mirroredConv(const at::Tensor& input, const at::Tensor& weight, const std::vector<int64_t>& padding) {
  const int64_t outC = weight.size(0), kh = weight.size(2), kw = weight.size(3);
  const int64_t ho = input.size(2) + 2 * padding[0] - kh + 1, wo = input.size(3) + 2 * padding[1] - kw + 1;
  at::Tensor mirrored = weight.transpose(0, 1).flip({2, 3}).contiguous(at::MemoryFormat::ChannelsLast);  // [C, O, kh, kw]
  // Only the mirrored convolution's input shape and layout are read: allocate, never fill.
  at::Tensor shapeOnly = at::empty({input.size(0), outC, ho, wo}, input.options().memory_format(at::MemoryFormat::ChannelsLast));
  auto grads = at::convolution_backward(input, shapeOnly, mirrored, c10::nullopt, {1, 1}, {kh - 1 - padding[0], kw - 1 - padding[1]},
                                        {1, 1}, false, {0, 0}, 1, {true, false, false});
  return std::get<0>(grads);
}

at::Tensor conv2dForward(const Napi::CallbackInfo& info, bool depthwise) {
  const at::Tensor& x = argTensor(info, 0);
  const at::Tensor& filter = depthwise ? argTensor(info, 1) : filterArg(info, 1);
  requireRank4(x, "x");
  ConvGeometry g = argGeometry(info, 2);
  const at::Tensor* bias = argOptionalTensor(info, 5);
  const int64_t kh = filter.size(0), kw = filter.size(1), outC = depthwise ? x.size(3) * filter.size(3) : filter.size(3);
  const int64_t ho = (x.size(1) + g.top + g.bottom - kh) / g.stride[0] + 1, wo = (x.size(2) + g.left + g.right - kw) / g.stride[1] + 1;
  if (!depthwise && gemmPath(x.size(0) * ho * wo, g, kGemmMaxPixels)) {
    at::Tensor w = filterMatrix(filter);  // [kh·kw·C, O]
    bool biasInProduct = bias && bias->numel() == outC && bias->dim() <= 1;
    at::Tensor rows = patchRows(x, g, kh, kw, ho, wo);
    at::Tensor out = (biasInProduct ? at::addmm(bias->reshape({-1}), rows, w) : at::mm(rows, w)).view({x.size(0), ho, wo, outC});
    if (bias && !biasInProduct) out = out + *bias;
    std::string activation = info.Length() > 6 ? argString(info, 6) : "linear";
    double alpha = info.Length() > 7 ? argDouble(info, 7) : 0.2;
    return applyActivation(out, activation, alpha, argOptionalTensor(info, 8));
  }
  std::vector<int64_t> padding;
  at::Tensor input = padAsymmetric(nhwcToNchw(x), g, padding);
  at::Tensor weight = weightFromFilter(filter, depthwise);
  int64_t groups = depthwise ? x.size(3) : 1;
  // A per-channel bias goes into the convolution itself; anything else broadcasts afterwards.
  c10::optional<at::Tensor> convBias;
  bool biasInConv = bias && bias->numel() == weight.size(0) && bias->dim() <= 1;
  if (biasInConv) convBias = bias->reshape({-1});
  at::Tensor out;
  if (mirroredForward(x, kh, kw, outC, g, depthwise)) {
    out = nchwToNhwc(mirroredConv(input, weight, padding));
    if (bias) out = out + *bias;
  } else {
    out = nchwToNhwc(at::convolution(input, weight, convBias, g.stride, padding, g.dilation, false, {0, 0}, groups));
    if (bias && !biasInConv) out = out + *bias;
  }
  std::string activation = info.Length() > 6 ? argString(info, 6) : "linear";
  double alpha = info.Length() > 7 ? argDouble(info, 7) : 0.2;
  return applyActivation(out, activation, alpha, argOptionalTensor(info, 8));
}

// Gradient of a convolution with respect to its input, through convolution_backward: measured
// about twice as fast here as the equivalent transposed convolution on channels-last tensors.
// Asymmetric padding: the gradient of the explicitly padded input is computed, then cropped.
at::Tensor conv2dBackpropInput(const Napi::CallbackInfo& info, bool depthwise) {
  const at::Tensor& dy = argTensor(info, 0);
  const at::Tensor& filter = depthwise ? argTensor(info, 1) : filterArg(info, 1);
  requireRank4(dy, "dy");
  std::vector<int64_t> inShape = argInts(info, 2);  // NHWC of the conv input
  if (inShape.size() != 4) throw std::invalid_argument("inputShape must have 4 dimensions");
  ConvGeometry g = argGeometry(info, 3);
  if (!depthwise && gemmPath(dy.size(0) * dy.size(1) * dy.size(2), g, kGemmMaxPixels)) {
    // d(patches) = dy · Wᵀ, then every patch element is added back where it was read from.
    at::Tensor rows = at::mm(dy.reshape({-1, dy.size(3)}), filterMatrix(filter).t());  // [B·Ho·Wo, kh·kw·C]
    return foldRows(rows, inShape, g, filter.size(0), filter.size(1), dy.size(1), dy.size(2));
  }
  const int64_t ph = std::min(g.top, g.bottom), pw = std::min(g.left, g.right);
  const int64_t extraTop = g.top - ph, extraBottom = g.bottom - ph, extraLeft = g.left - pw, extraRight = g.right - pw;
  // Only the input's shape and layout are used for the input gradient: allocate, never fill.
  at::Tensor inputShapeOnly = nhwcToNchw(at::empty(
      {inShape[0], inShape[1] + extraTop + extraBottom, inShape[2] + extraLeft + extraRight, inShape[3]}, dy.options()));
  const int64_t groups = depthwise ? inShape[3] : 1;
  auto grads = at::convolution_backward(nhwcToNchw(dy), inputShapeOnly, weightFromFilter(filter, depthwise), c10::nullopt,
                                        g.stride, {ph, pw}, g.dilation, false, {0, 0}, groups, {true, false, false});
  at::Tensor dx = std::get<0>(grads);
  if (extraTop || extraBottom || extraLeft || extraRight) {
    dx = at::constant_pad_nd(dx, {-extraLeft, -extraRight, -extraTop, -extraBottom});
  }
  return nchwToNhwc(dx);
}

at::Tensor conv2dBackpropFilter(const Napi::CallbackInfo& info, bool depthwise) {
  const at::Tensor &x = argTensor(info, 0), &dy = argTensor(info, 1);
  requireRank4(x, "x");
  requireRank4(dy, "dy");
  std::vector<int64_t> filterShape = argInts(info, 2);  // [h, w, in, out] or [h, w, C, M]
  ConvGeometry g = argGeometry(info, 3);
  if (!depthwise && gemmPath(dy.size(0) * dy.size(1) * dy.size(2), g, kGemmMaxPixelsWeightGrad)) {
    // dWᵀ = dyᵀ · patches: [O, kh·kw·C], i.e. dW in the channels-last order filterArg keeps filters in, so
    // Adam's in-place update walks value, moments and gradient in one memory order.
    at::Tensor rows = patchRows(x, g, filterShape[0], filterShape[1], dy.size(1), dy.size(2));
    at::Tensor dwT = at::mm(dy.reshape({-1, dy.size(3)}).t(), rows);
    return dwT.view({filterShape[3], filterShape[0], filterShape[1], filterShape[2]}).permute({1, 2, 3, 0});
  }
  std::vector<int64_t> padding;
  at::Tensor input = padAsymmetric(nhwcToNchw(x), g, padding);
  int64_t groups = depthwise ? x.size(3) : 1;
  std::vector<int64_t> weightShape = depthwise
      ? std::vector<int64_t>{filterShape[2] * filterShape[3], 1, filterShape[0], filterShape[1]}
      : std::vector<int64_t>{filterShape[3], filterShape[2], filterShape[0], filterShape[1]};
  // Only the weight's shape matters when just the weight gradient is requested.
  at::Tensor weightShapeOnly = at::empty(weightShape, x.options().memory_format(
      depthwise ? at::MemoryFormat::Contiguous : at::MemoryFormat::ChannelsLast));
  auto grads = at::convolution_backward(nhwcToNchw(dy), input, weightShapeOnly, c10::nullopt, g.stride, padding,
                                        g.dilation, false, {0, 0}, groups, {false, true, false});
  return filterFromWeightGrad(std::get<1>(grads), filterShape, depthwise);
}

}  // namespace

// conv2d(x, filter, strides, pads, dilations, bias|0, activation, leakyreluAlpha, prelu|0)
ATEN_BINDING(Conv2D, "Conv2D") { return returnTensor(info.Env(), conv2dForward(info, false)); }
ATEN_BINDING(Depthwise, "DepthwiseConv2dNative") { return returnTensor(info.Env(), conv2dForward(info, true)); }
// conv2dBackpropInput(dy, filter, inputShape, strides, pads, dilations)
ATEN_BINDING(BackpropInput, "Conv2DBackpropInput") { return returnTensor(info.Env(), conv2dBackpropInput(info, false)); }
ATEN_BINDING(DepthwiseBackpropInput, "DepthwiseConv2dNativeBackpropInput") {
  return returnTensor(info.Env(), conv2dBackpropInput(info, true));
}
// conv2dBackpropFilter(x, dy, filterShape, strides, pads, dilations)
ATEN_BINDING(BackpropFilter, "Conv2DBackpropFilter") { return returnTensor(info.Env(), conv2dBackpropFilter(info, false)); }
ATEN_BINDING(DepthwiseBackpropFilter, "DepthwiseConv2dNativeBackpropFilter") {
  return returnTensor(info.Env(), conv2dBackpropFilter(info, true));
}

void registerConv(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2d", Napi::Function::New(env, Conv2D));
  exports.Set("depthwiseConv2d", Napi::Function::New(env, Depthwise));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, BackpropInput));
  exports.Set("depthwiseConv2dBackpropInput", Napi::Function::New(env, DepthwiseBackpropInput));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, BackpropFilter));
  exports.Set("depthwiseConv2dBackpropFilter", Napi::Function::New(env, DepthwiseBackpropFilter));
}

}  // namespace aten_backend
