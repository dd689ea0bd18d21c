// Layout kernels: Transpose, Reshape, Slice, StridedSlice, Concat, Pack, Unpack, SplitV,
// PadV2, MirrorPad, DepthToSpace/SpaceToDepth, Tile, Reverse, BroadcastTo, Identity and tensor creation (Fill, Range,
// ZerosLike, OnesLike). Views are returned where ATen can make one: tfjs never mutates.
#include "common.h"

namespace aten_backend {
namespace {

std::vector<at::Tensor> argTensorList(const Napi::CallbackInfo& info, size_t i) {
  Napi::Array ids = info[i].As<Napi::Array>();
  std::vector<at::Tensor> ts;
  ts.reserve(ids.Length());
  for (uint32_t k = 0; k < ids.Length(); ++k) ts.push_back(tensorAt(ids.Get(k).As<Napi::Number>().Uint32Value()));
  return ts;
}

// Index vector for mirror padding one axis of length n by (before, after).
// reflect excludes the edge element, symmetric repeats it.
at::Tensor mirrorIndices(int64_t n, int64_t before, int64_t after, bool symmetric) {
  std::vector<int64_t> idx;
  idx.reserve(n + before + after);
  const int64_t offset = symmetric ? 0 : 1;
  for (int64_t i = before; i > 0; --i) idx.push_back(i - 1 + offset);
  for (int64_t i = 0; i < n; ++i) idx.push_back(i);
  for (int64_t i = 0; i < after; ++i) idx.push_back(n - 1 - i - offset);
  return at::tensor(idx, at::TensorOptions().dtype(at::kLong)).to(device());
}

}  // namespace

ATEN_BINDING(Transpose, "Transpose") { return returnTensor(info.Env(), argTensor(info, 0).permute(argInts(info, 1))); }
ATEN_BINDING(Reshape, "Reshape") { return returnTensor(info.Env(), argTensor(info, 0).reshape(argInts(info, 1))); }
ATEN_BINDING(Identity, "Identity") { return returnTensor(info.Env(), argTensor(info, 0)); }
ATEN_BINDING(BroadcastTo, "BroadcastTo") { return returnTensor(info.Env(), argTensor(info, 0).expand(argInts(info, 1))); }

// slice(x, begin, size)
ATEN_BINDING(Slice, "Slice") {
  at::Tensor x = argTensor(info, 0);
  std::vector<int64_t> begin = argInts(info, 1), size = argInts(info, 2);
  for (size_t d = 0; d < begin.size(); ++d) {
    const int64_t len = size[d] < 0 ? x.size(d) - begin[d] : size[d];
    x = x.narrow(static_cast<int64_t>(d), begin[d], len);
  }
  return returnTensor(info.Env(), x);
}

// stridedSlice(x, begin, strides, sparseShape, finalShape): per-axis start, step and count as
// computed by tfjs's slice_util.sliceInfo; negative steps go through index_select.
ATEN_BINDING(StridedSlice, "StridedSlice") {
  at::Tensor x = argTensor(info, 0);
  std::vector<int64_t> begin = argInts(info, 1), strides = argInts(info, 2), counts = argInts(info, 3);
  for (size_t d = 0; d < counts.size() && static_cast<int64_t>(d) < x.dim(); ++d) {
    const int64_t axis = static_cast<int64_t>(d);
    if (counts[d] == 0) {
      x = x.narrow(axis, 0, 0);
    } else if (strides[d] > 0) {
      x = x.slice(axis, begin[d], begin[d] + (counts[d] - 1) * strides[d] + 1, strides[d]);
    } else {
      at::Tensor idx = at::arange(begin[d], begin[d] + counts[d] * strides[d], strides[d],
                                  at::TensorOptions().dtype(at::kLong).device(x.device()));
      x = x.index_select(axis, idx);
    }
  }
  return returnTensor(info.Env(), x.reshape(argInts(info, 4)));
}

ATEN_BINDING(Concat, "Concat") { return returnTensor(info.Env(), at::cat(argTensorList(info, 0), argInt(info, 1))); }
ATEN_BINDING(Pack, "Pack") { return returnTensor(info.Env(), at::stack(argTensorList(info, 0), argInt(info, 1))); }
ATEN_BINDING(Unpack, "Unpack") { return returnTensors(info.Env(), argTensor(info, 0).unbind(argInt(info, 1))); }
ATEN_BINDING(SplitV, "SplitV") {
  return returnTensors(info.Env(), argTensor(info, 0).split_with_sizes(argInts(info, 1), argInt(info, 2)));
}

// pad(x, paddings as [before0, after0, before1, ...], value)
ATEN_BINDING(Pad, "PadV2") {
  const at::Tensor& x = argTensor(info, 0);
  std::vector<int64_t> p = argInts(info, 1);
  std::vector<int64_t> atenPad;  // ATen lists the last axis first
  for (int64_t d = static_cast<int64_t>(p.size() / 2) - 1; d >= 0; --d) {
    atenPad.push_back(p[2 * d]);
    atenPad.push_back(p[2 * d + 1]);
  }
  return returnTensor(info.Env(), at::constant_pad_nd(x, atenPad, argDouble(info, 2)));
}

// mirrorPad(x, paddings, symmetric)
ATEN_BINDING(MirrorPad, "MirrorPad") {
  at::Tensor x = argTensor(info, 0);
  std::vector<int64_t> p = argInts(info, 1);
  const bool symmetric = argBool(info, 2);
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (p[2 * d] == 0 && p[2 * d + 1] == 0) continue;
    x = x.index_select(d, mirrorIndices(x.size(d), p[2 * d], p[2 * d + 1], symmetric));
  }
  return returnTensor(info.Env(), x);
}

// mirrorPadGrad(dy, paddings, symmetric): the adjoint of mirrorPad. Each padded position copied one element of
// x, so the gradient adds every position of dy into the element it came from, one axis at a time: the centre
// of dy, plus each border mirrored back onto the elements it copied (reflect: from the second element on,
// symmetric: from the first). Three slice copies per axis, where the index_add_ form filled zeros and then
// scattered the whole of dy through an index vector (twice per residual block of CycleGAN's generators).
ATEN_BINDING(MirrorPadGrad, "MirrorPadGrad") {
  at::Tensor g = argTensor(info, 0);
  std::vector<int64_t> p = argInts(info, 1);
  const bool symmetric = argBool(info, 2);
  TORCH_CHECK(static_cast<int64_t>(p.size()) == 2 * g.dim(), "paddings must have 2 entries per axis of dy ", g.sizes());
  for (int64_t d = 0; d < g.dim(); ++d) {
    if (p[2 * d] == 0 && p[2 * d + 1] == 0) continue;
    const int64_t n = g.size(d) - p[2 * d] - p[2 * d + 1];
    const int64_t before = p[2 * d], after = p[2 * d + 1], offset = symmetric ? 0 : 1;
    TORCH_CHECK(before + offset <= n && after + offset <= n, "paddings too large for axis ", d, " of dy ", g.sizes());
    at::Tensor out = g.narrow(d, before, n).clone(at::MemoryFormat::Contiguous);  // never a view of dy
    if (before > 0) out.narrow(d, offset, before).add_(g.narrow(d, 0, before).flip(d));
    if (after > 0) out.narrow(d, n - after - offset, after).add_(g.narrow(d, before + n, after).flip(d));
    g = out;
  }
  return returnTensor(info.Env(), g);
}

// depthToSpace(x, blockSize) on NHWC in tfjs's (TensorFlow's) DCR order: input channel (i·b + j)·C' + c of pixel
// (h, w) becomes channel c of output pixel (h·b + i, w·b + j). (PyTorch's pixel_shuffle is NCHW and CRD: channel
// c·b² + i·b + j.) One copy through a 6-D view: [N, H, W, b, b, C'] → [N, H, b, W, b, C'].
ATEN_BINDING(DepthToSpace, "DepthToSpace") {
  const at::Tensor& x = argTensor(info, 0);
  const int64_t b = argInt(info, 1);
  TORCH_CHECK(x.dim() == 4 && b > 0 && x.size(3) % (b * b) == 0, "x ", x.sizes(), " is not NHWC with depth divisible by ", b * b);
  const int64_t n = x.size(0), h = x.size(1), w = x.size(2), c = x.size(3) / (b * b);
  return returnTensor(info.Env(), x.reshape({n, h, w, b, b, c}).permute({0, 1, 3, 2, 4, 5}).reshape({n, h * b, w * b, c}));
}

// spaceToDepth(x, blockSize): the inverse of depthToSpace, which is also its adjoint (a permutation).
ATEN_BINDING(SpaceToDepth, "SpaceToDepth") {
  const at::Tensor& x = argTensor(info, 0);
  const int64_t b = argInt(info, 1);
  TORCH_CHECK(x.dim() == 4 && b > 0 && x.size(1) % b == 0 && x.size(2) % b == 0, "x ", x.sizes(),
              " is not NHWC with height and width divisible by ", b);
  const int64_t n = x.size(0), h = x.size(1) / b, w = x.size(2) / b, c = x.size(3);
  return returnTensor(info.Env(), x.reshape({n, h, b, w, b, c}).permute({0, 1, 3, 2, 4, 5}).reshape({n, h, w, b * b * c}));
}

ATEN_BINDING(Tile, "Tile") { return returnTensor(info.Env(), argTensor(info, 0).repeat(argInts(info, 1))); }
ATEN_BINDING(Reverse, "Reverse") { return returnTensor(info.Env(), argTensor(info, 0).flip(argInts(info, 1))); }

// fill(shape, value, dtype)
ATEN_BINDING(Fill, "Fill") {
  return returnTensor(info.Env(), at::full(argInts(info, 0), argDouble(info, 1), options(static_cast<int32_t>(argInt(info, 2)))));
}
ATEN_BINDING(ZerosLike, "ZerosLike") { return returnTensor(info.Env(), at::zeros_like(argTensor(info, 0))); }
ATEN_BINDING(OnesLike, "OnesLike") { return returnTensor(info.Env(), at::ones_like(argTensor(info, 0))); }

// range(start, step, count, dtype): count is computed in JS with tfjs's rule.
ATEN_BINDING(Range, "Range") {
  const double start = argDouble(info, 0), step = argDouble(info, 1);
  const int64_t count = argInt(info, 2);
  at::Tensor r = at::arange(count, at::TensorOptions().dtype(at::kDouble).device(device())) * step + start;
  return returnTensor(info.Env(), r.to(toScalarType(static_cast<int32_t>(argInt(info, 3)))));
}

void registerShapeOps(Napi::Env env, Napi::Object exports) {
  exports.Set("transpose", Napi::Function::New(env, Transpose));
  exports.Set("reshape", Napi::Function::New(env, Reshape));
  exports.Set("identity", Napi::Function::New(env, Identity));
  exports.Set("broadcastTo", Napi::Function::New(env, BroadcastTo));
  exports.Set("slice", Napi::Function::New(env, Slice));
  exports.Set("stridedSlice", Napi::Function::New(env, StridedSlice));
  exports.Set("concat", Napi::Function::New(env, Concat));
  exports.Set("pack", Napi::Function::New(env, Pack));
  exports.Set("unpack", Napi::Function::New(env, Unpack));
  exports.Set("splitV", Napi::Function::New(env, SplitV));
  exports.Set("pad", Napi::Function::New(env, Pad));
  exports.Set("mirrorPad", Napi::Function::New(env, MirrorPad));
  exports.Set("mirrorPadGrad", Napi::Function::New(env, MirrorPadGrad));
  exports.Set("depthToSpace", Napi::Function::New(env, DepthToSpace));
  exports.Set("spaceToDepth", Napi::Function::New(env, SpaceToDepth));
  exports.Set("tile", Napi::Function::New(env, Tile));
  exports.Set("reverse", Napi::Function::New(env, Reverse));
  exports.Set("fill", Napi::Function::New(env, Fill));
  exports.Set("zerosLike", Napi::Function::New(env, ZerosLike));
  exports.Set("onesLike", Napi::Function::New(env, OnesLike));
  exports.Set("range", Napi::Function::New(env, Range));
}

}  // namespace aten_backend
