// Conv2D family on NHWC tensors. Inputs are permuted views (channels-last NCHW for ATen), so
// the hot path makes no layout copies; padding that ATen cannot express (top != bottom) is
// applied explicitly to the input.
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

// tfjs filter [h, w, in, out] -> ATen weight [out, in, h, w] (a view);
// depthwise [h, w, C, M] -> [C*M, 1, h, w] with groups = C.
at::Tensor weightFromFilter(const at::Tensor& filter, bool depthwise) {
  if (filter.dim() != 4) throw std::invalid_argument("filter must be rank 4");
  if (!depthwise) return filter.permute({3, 2, 0, 1});
  return filter.permute({2, 3, 0, 1}).reshape({filter.size(2) * filter.size(3), 1, filter.size(0), filter.size(1)});
}

at::Tensor filterFromWeightGrad(const at::Tensor& gw, const std::vector<int64_t>& filterShape, bool depthwise) {
  if (!depthwise) return gw.permute({2, 3, 1, 0});
  return gw.reshape({filterShape[2], filterShape[3], filterShape[0], filterShape[1]}).permute({2, 3, 0, 1});
}

void requireRank4(const at::Tensor& t, const char* what) {
  if (t.dim() != 4) throw std::invalid_argument(std::string(what) + " must be rank 4 (NHWC), got rank " + std::to_string(t.dim()));
}

at::Tensor conv2dForward(const Napi::CallbackInfo& info, bool depthwise) {
  const at::Tensor &x = argTensor(info, 0), &filter = argTensor(info, 1);
  requireRank4(x, "x");
  ConvGeometry g = argGeometry(info, 2);
  const at::Tensor* bias = argOptionalTensor(info, 5);
  std::vector<int64_t> padding;
  at::Tensor input = padAsymmetric(nhwcToNchw(x), g, padding);
  at::Tensor weight = weightFromFilter(filter, depthwise);
  int64_t groups = depthwise ? x.size(3) : 1;
  // A per-channel bias goes into the convolution itself; anything else broadcasts afterwards.
  c10::optional<at::Tensor> convBias;
  bool biasInConv = bias && bias->numel() == weight.size(0) && bias->dim() <= 1;
  if (biasInConv) convBias = bias->reshape({-1});
  at::Tensor out = nchwToNhwc(at::convolution(input, weight, convBias, g.stride, padding, g.dilation, false, {0, 0}, groups));
  if (bias && !biasInConv) out = out + *bias;
  std::string activation = info.Length() > 6 ? argString(info, 6) : "linear";
  double alpha = info.Length() > 7 ? argDouble(info, 7) : 0.2;
  return applyActivation(out, activation, alpha, argOptionalTensor(info, 8));
}

// Gradient of a convolution with respect to its input, through convolution_backward: measured
// about twice as fast here as the equivalent transposed convolution on channels-last tensors.
// Asymmetric padding: the gradient of the explicitly padded input is computed, then cropped.
at::Tensor conv2dBackpropInput(const Napi::CallbackInfo& info, bool depthwise) {
  const at::Tensor &dy = argTensor(info, 0), &filter = argTensor(info, 1);
  requireRank4(dy, "dy");
  std::vector<int64_t> inShape = argInts(info, 2);  // NHWC of the conv input
  if (inShape.size() != 4) throw std::invalid_argument("inputShape must have 4 dimensions");
  ConvGeometry g = argGeometry(info, 3);
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
  std::vector<int64_t> padding;
  at::Tensor input = padAsymmetric(nhwcToNchw(x), g, padding);
  int64_t groups = depthwise ? x.size(3) : 1;
  std::vector<int64_t> weightShape = depthwise
      ? std::vector<int64_t>{filterShape[2] * filterShape[3], 1, filterShape[0], filterShape[1]}
      : std::vector<int64_t>{filterShape[3], filterShape[2], filterShape[0], filterShape[1]};
  // Only the weight's shape matters when just the weight gradient is requested.
  at::Tensor weightShapeOnly = at::empty(weightShape, x.options());
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
