// MaxPool/AvgPool with their gradients, and bilinear / nearest resizing with gradients.
// Resizing takes per-axis source indices and weights computed in JS with tfjs's own
// coordinate rules (alignCorners, halfPixelCenters), so every mode shares one code path.
#include <ATen/Parallel.h>

#include <algorithm>
#include <limits>

#include "common.h"

namespace aten_backend {
namespace {

struct PoolArgs {
  std::vector<int64_t> kernel, stride;
  int64_t top, bottom, left, right;
};

// Arguments at `i`: filterSize[2], strides[2], pads[4].
PoolArgs argPool(const Napi::CallbackInfo& info, size_t i) {
  PoolArgs p{argInts(info, i), argInts(info, i + 1), 0, 0, 0, 0};
  std::vector<int64_t> pads = argInts(info, i + 2);
  if (p.kernel.size() != 2 || p.stride.size() != 2 || pads.size() != 4) throw std::invalid_argument("bad pool geometry");
  p.top = pads[0]; p.bottom = pads[1]; p.left = pads[2]; p.right = pads[3];
  return p;
}

bool atenCanPad(const PoolArgs& p) {
  return p.top == p.bottom && p.left == p.right && p.top * 2 <= p.kernel[0] && p.left * 2 <= p.kernel[1];
}

// Max pooling padded explicitly with -inf when ATen's symmetric padding cannot express tfjs's.
at::Tensor maxPoolInput(const at::Tensor& xNchw, const PoolArgs& p, std::vector<int64_t>& padding) {
  if (atenCanPad(p)) {
    padding = {p.top, p.left};
    return xNchw;
  }
  padding = {0, 0};
  return at::constant_pad_nd(xNchw, {p.left, p.right, p.top, p.bottom}, -std::numeric_limits<double>::infinity());
}

at::Tensor indexTensor(const std::vector<int64_t>& v) {
  return at::tensor(v, at::TensorOptions().dtype(at::kLong)).to(device());
}
at::Tensor weightTensor(const std::vector<double>& v, const at::Tensor& like, int64_t axis) {
  std::vector<float> f(v.begin(), v.end());
  std::vector<int64_t> shape(4, 1);
  shape[axis] = static_cast<int64_t>(f.size());
  return at::tensor(f, at::TensorOptions().dtype(at::kFloat)).to(like.device()).view(shape);
}

// Linear interpolation along one NHWC axis: x[i0] + (x[i1] - x[i0]) * w.
at::Tensor lerpAxis(const at::Tensor& x, int64_t axis, const at::Tensor& i0, const at::Tensor& i1, const at::Tensor& w) {
  at::Tensor a = x.index_select(axis, i0), b = x.index_select(axis, i1);
  return at::lerp(a, b, w);
}

// Adjoint of lerpAxis: scatters dy back onto `size` rows along `axis`.
at::Tensor lerpAxisGrad(const at::Tensor& dy, int64_t axis, int64_t size, const at::Tensor& i0, const at::Tensor& i1,
                        const at::Tensor& w) {
  std::vector<int64_t> shape = dy.sizes().vec();
  shape[axis] = size;
  at::Tensor g = at::zeros(shape, dy.options());
  g.index_add_(axis, i0, dy * (1 - w));
  g.index_add_(axis, i1, dy * w);
  return g;
}

// s when index[i] = ⌊i / s⌋ for every output position i (nearest upscaling by the integer factor s, which every
// tfjs coordinate mode gives for integer factors), else 0.
int64_t integerFactor(const std::vector<int64_t>& index, int64_t inSize) {
  const int64_t out = static_cast<int64_t>(index.size());
  if (inSize <= 0 || out == 0 || out % inSize != 0) return 0;
  const int64_t s = out / inSize;
  for (int64_t i = 0; i < out; ++i) {
    if (index[i] != i / s) return 0;
  }
  return s;
}

// The gradient of nearest upscaling by integer factors (sh, sw) of contiguous float32 CPU maps: each input pixel
// sums its sh×sw block of dy, rows in order (as the CPU kernel adds them). ATen's sum over the two strided block
// axes of a 6-D view took five times as long.
at::Tensor nearestGradBlocks(const at::Tensor& dy, int64_t inH, int64_t inW, int64_t sh, int64_t sw) {
  const int64_t n = dy.size(0), c = dy.size(3), rowLength = inW * sw * c;
  at::Tensor g = at::zeros({n, inH, inW, c}, dy.options());
  const float* pdy = dy.data_ptr<float>();
  float* pg = g.data_ptr<float>();
  at::parallel_for(0, n * inH, std::max<int64_t>(1, 32768 / std::max<int64_t>(1, rowLength * sh)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {  // r = image · inH + input row; its dy rows are r·sh ... r·sh + sh − 1
      float* out = pg + r * inW * c;
      for (int64_t i = 0; i < sh; ++i) {
        const float* row = pdy + (r * sh + i) * rowLength;
        for (int64_t w = 0; w < inW; ++w) {
          for (int64_t j = 0; j < sw; ++j) {
            const float* src = row + (w * sw + j) * c;
            float* dst = out + w * c;
            for (int64_t k = 0; k < c; ++k) dst[k] += src[k];
          }
        }
      }
    }
  });
  return g;
}

}  // namespace

// maxPool(x, filterSize, strides, pads)
ATEN_BINDING(MaxPool, "MaxPool") {
  const at::Tensor& x = argTensor(info, 0);
  PoolArgs p = argPool(info, 1);
  std::vector<int64_t> padding;
  at::Tensor input = maxPoolInput(nhwcToNchw(x), p, padding);
  return returnTensor(info.Env(), nchwToNhwc(at::max_pool2d(input, p.kernel, p.stride, padding)));
}

// maxPoolGrad(dy, x, filterSize, strides, pads)
ATEN_BINDING(MaxPoolGrad, "MaxPoolGrad") {
  const at::Tensor &dy = argTensor(info, 0), &x = argTensor(info, 1);
  PoolArgs p = argPool(info, 2);
  std::vector<int64_t> padding;
  at::Tensor input = maxPoolInput(nhwcToNchw(x), p, padding);
  auto pooled = at::max_pool2d_with_indices(input, p.kernel, p.stride, padding);
  at::Tensor g = at::max_pool2d_with_indices_backward(nhwcToNchw(dy), input, p.kernel, p.stride, padding, {1, 1}, false,
                                                      std::get<1>(pooled));
  if (!atenCanPad(p)) g = at::constant_pad_nd(g, {-p.left, -p.right, -p.top, -p.bottom});
  return returnTensor(info.Env(), nchwToNhwc(g));
}

// avgPool(x, filterSize, strides, pads): padding is excluded from the average, as in tfjs.
// JS only sends geometries ATen can pad itself (see src/kernels/pool_resize.ts).
ATEN_BINDING(AvgPool, "AvgPool") {
  const at::Tensor& x = argTensor(info, 0);
  PoolArgs p = argPool(info, 1);
  if (!atenCanPad(p)) throw std::invalid_argument("asymmetric padding is not supported natively");
  at::Tensor out = at::avg_pool2d(nhwcToNchw(x), p.kernel, p.stride, {p.top, p.left}, false, false);
  return returnTensor(info.Env(), nchwToNhwc(out));
}

// avgPoolGrad(dy, x, filterSize, strides, pads). tfjs's gradient divides every window by the
// full window size (its forward pass does not); counting padding here reproduces that.
ATEN_BINDING(AvgPoolGrad, "AvgPoolGrad") {
  const at::Tensor &dy = argTensor(info, 0), &x = argTensor(info, 1);
  PoolArgs p = argPool(info, 2);
  if (!atenCanPad(p)) throw std::invalid_argument("asymmetric padding is not supported natively");
  at::Tensor dyN = nhwcToNchw(dy), xN = nhwcToNchw(x);
  // CUDA's kernel on these channels-last views disagreed with the CPU's (kernel tests on an H200, torch 2.11): there
  // it gets plain NCHW copies.
  if (!dy.is_cpu()) dyN = dyN.contiguous(), xN = xN.contiguous();
  at::Tensor g = at::avg_pool2d_backward(dyN, xN, p.kernel, p.stride, {p.top, p.left}, false,
                                         /*count_include_pad=*/true, c10::nullopt);
  return returnTensor(info.Env(), nchwToNhwc(g));
}

// resizeBilinear(x, rowLow[], rowHigh[], rowWeight[], colLow[], colHigh[], colWeight[])
ATEN_BINDING(ResizeBilinear, "ResizeBilinear") {
  at::Tensor x = argTensor(info, 0);
  if (!x.is_floating_point()) x = x.to(at::kFloat);
  at::Tensor rows = lerpAxis(x, 1, indexTensor(argInts(info, 1)), indexTensor(argInts(info, 2)),
                             weightTensor(argDoubles(info, 3), x, 1));
  at::Tensor out = lerpAxis(rows, 2, indexTensor(argInts(info, 4)), indexTensor(argInts(info, 5)),
                            weightTensor(argDoubles(info, 6), x, 2));
  return returnTensor(info.Env(), out);
}

// resizeBilinearGrad(dy, inHeight, inWidth, same six arrays)
ATEN_BINDING(ResizeBilinearGrad, "ResizeBilinearGrad") {
  const at::Tensor& dy = argTensor(info, 0);
  const int64_t inH = argInt(info, 1), inW = argInt(info, 2);
  at::Tensor cols = lerpAxisGrad(dy, 2, inW, indexTensor(argInts(info, 6)), indexTensor(argInts(info, 7)),
                                 weightTensor(argDoubles(info, 8), dy, 2));
  at::Tensor g = lerpAxisGrad(cols, 1, inH, indexTensor(argInts(info, 3)), indexTensor(argInts(info, 4)),
                              weightTensor(argDoubles(info, 5), dy, 1));
  return returnTensor(info.Env(), g);
}

// resizeNearest(x, rowIndex[], colIndex[]). Integer factors (ESRGAN's ×2) are one broadcast copy, where the
// general form gathers twice.
ATEN_BINDING(ResizeNearest, "ResizeNearestNeighbor") {
  const at::Tensor& x = argTensor(info, 0);
  const std::vector<int64_t> rows = argInts(info, 1), cols = argInts(info, 2);
  const int64_t n = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3);
  const int64_t sh = integerFactor(rows, h), sw = integerFactor(cols, w);
  if (sh > 0 && sw > 0) {
    at::Tensor out = x.reshape({n, h, 1, w, 1, c}).expand({n, h, sh, w, sw, c}).reshape({n, h * sh, w * sw, c});
    return returnTensor(info.Env(), out);
  }
  return returnTensor(info.Env(), x.index_select(1, indexTensor(rows)).index_select(2, indexTensor(cols)));
}

// resizeNearestGrad(dy, inHeight, inWidth, rowIndex[], colIndex[]): every dy element added to its source pixel.
// Integer factors are a sum over each pixel's block (nearestGradBlocks), where the general form scatters twice.
ATEN_BINDING(ResizeNearestGrad, "ResizeNearestNeighborGrad") {
  const at::Tensor& dy = argTensor(info, 0);
  const int64_t inH = argInt(info, 1), inW = argInt(info, 2);
  const std::vector<int64_t> rows = argInts(info, 3), cols = argInts(info, 4);
  const int64_t sh = integerFactor(rows, inH), sw = integerFactor(cols, inW);
  if (sh > 0 && sw > 0 && dy.is_cpu() && dy.scalar_type() == at::kFloat) {
    return returnTensor(info.Env(), nearestGradBlocks(dy.contiguous(), inH, inW, sh, sw));
  }
  if (sh > 0 && sw > 0) {
    const int64_t n = dy.size(0), c = dy.size(3);
    return returnTensor(info.Env(), dy.reshape({n, inH, sh, inW, sw, c}).sum({2, 4}));
  }
  std::vector<int64_t> shape = dy.sizes().vec();
  shape[2] = inW;
  at::Tensor colSum = at::zeros(shape, dy.options()).index_add_(2, indexTensor(cols), dy);
  shape[1] = inH;
  at::Tensor g = at::zeros(shape, dy.options()).index_add_(1, indexTensor(rows), colSum);
  return returnTensor(info.Env(), g);
}

void registerPoolResize(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  exports.Set("avgPool", Napi::Function::New(env, AvgPool));
  exports.Set("avgPoolGrad", Napi::Function::New(env, AvgPoolGrad));
  exports.Set("resizeBilinear", Napi::Function::New(env, ResizeBilinear));
  exports.Set("resizeBilinearGrad", Napi::Function::New(env, ResizeBilinearGrad));
  exports.Set("resizeNearest", Napi::Function::New(env, ResizeNearest));
  exports.Set("resizeNearestGrad", Napi::Function::New(env, ResizeNearestGrad));
}

}  // namespace aten_backend
