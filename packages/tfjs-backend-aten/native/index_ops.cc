// Indexing kernels: GatherV2, GatherNd, ScatterNd, UnsortedSegmentSum, OneHot, Einsum, TopK
// and Multinomial (seeded through its own ATen generator).
#include <ATen/CPUGeneratorImpl.h>

#include "common.h"

namespace aten_backend {
namespace {

// Row-major linear index of the leading K axes addressed by indices[..., K].
at::Tensor flatIndexNd(const at::Tensor& indices, at::IntArrayRef leadingShape) {
  const int64_t k = indices.size(-1);
  std::vector<int64_t> strides(k, 1);
  for (int64_t d = k - 2; d >= 0; --d) strides[d] = strides[d + 1] * leadingShape[d + 1];
  at::Tensor s = at::tensor(strides, at::TensorOptions().dtype(at::kLong)).to(indices.device());
  return (indices.to(at::kLong) * s).sum(-1).reshape({-1});
}

// An index out of range is a device-side assert on CUDA, which poisons the context: every later call of the process
// fails. The CPU kernels throw instead. So on a GPU the range is checked first, at the cost of one sync.
// `indices` [..., K] addresses the K leading axes of a tensor whose sizes begin with `bounds`.
void checkIndicesOnDevice(const at::Tensor& indices, at::IntArrayRef bounds, const char* what) {
  if (indices.is_cpu() || indices.numel() == 0) return;
  const at::Tensor idx = indices.to(at::kLong).reshape({-1, static_cast<int64_t>(bounds.size())});
  const at::Tensor limit = at::tensor(bounds.vec(), at::TensorOptions().dtype(at::kLong)).to(idx.device());
  if ((idx.lt(0) | idx.ge(limit)).any().item<bool>()) {
    throw std::out_of_range(std::string(what) + " out of range: each must be in [0, size) of the axis it indexes (sizes " +
                            c10::str(bounds) + ")");
  }
}

int64_t product(at::IntArrayRef dims) {
  int64_t p = 1;
  for (int64_t d : dims) p *= d;
  return p;
}

// out[ids[r]] += rows[r] over the rows of a float32 CPU tensor, for int32 ids; false (nothing done) otherwise.
// ATen's CPU index_add_ runs one strided add per index: ~40 ns a row, 20 ms for the 0.5 M three-float rows of a
// bilinear gather's gradient. A plain loop over contiguous rows is an order of magnitude faster.
bool addRowsOnCpu(at::Tensor& out, const at::Tensor& ids, const at::Tensor& rows, const char* what) {
  if (!out.is_cpu() || out.scalar_type() != at::kFloat || ids.scalar_type() != at::kInt || !out.is_contiguous()) return false;
  const at::Tensor from = rows.contiguous(), id = ids.reshape({-1}).contiguous();
  const int64_t n = id.numel(), width = n == 0 ? 0 : from.numel() / n, bound = out.size(0);
  const int32_t* target = id.data_ptr<int32_t>();
  const float* src = from.data_ptr<float>();
  float* dst = out.data_ptr<float>();
  for (int64_t r = 0; r < n; r++) {
    if (target[r] < 0 || target[r] >= bound) {
      throw std::out_of_range(std::string(what) + " out of range: each must be in [0, " + std::to_string(bound) + ")");
    }
    float* to = dst + static_cast<int64_t>(target[r]) * width;
    const float* row = src + r * width;
    for (int64_t k = 0; k < width; k++) to[k] += row[k];
  }
  return true;
}

}  // namespace

// gather(x, indices, axis): out shape x[:axis] + indices.shape + x[axis+1:].
ATEN_BINDING(Gather, "GatherV2") {
  const at::Tensor &x = argTensor(info, 0), &indices = argTensor(info, 1);
  const int64_t axis = argInt(info, 2);
  checkIndicesOnDevice(indices, {x.size(axis)}, "indices");
  at::Tensor picked = x.index_select(axis, indices.reshape({-1}).to(at::kLong));
  std::vector<int64_t> shape(x.sizes().begin(), x.sizes().begin() + axis);
  shape.insert(shape.end(), indices.sizes().begin(), indices.sizes().end());
  shape.insert(shape.end(), x.sizes().begin() + axis + 1, x.sizes().end());
  return returnTensor(info.Env(), picked.reshape(shape));
}

// gatherNd(params, indices)
ATEN_BINDING(GatherNd, "GatherNd") {
  const at::Tensor &params = argTensor(info, 0), &indices = argTensor(info, 1);
  const int64_t k = indices.size(-1);
  at::IntArrayRef lead = params.sizes().slice(0, k), rest = params.sizes().slice(k);
  checkIndicesOnDevice(indices, lead, "indices");
  std::vector<int64_t> flatShape{product(lead)};
  flatShape.insert(flatShape.end(), rest.begin(), rest.end());
  at::Tensor picked = params.reshape(flatShape).index_select(0, flatIndexNd(indices, lead));
  std::vector<int64_t> shape(indices.sizes().begin(), indices.sizes().end() - 1);
  shape.insert(shape.end(), rest.begin(), rest.end());
  return returnTensor(info.Env(), picked.reshape(shape));
}

// scatterNd(indices, updates, shape): duplicates add up, as in tfjs.
ATEN_BINDING(ScatterNd, "ScatterNd") {
  const at::Tensor &indices = argTensor(info, 0), &updates = argTensor(info, 1);
  std::vector<int64_t> shape = argInts(info, 2);
  const int64_t k = indices.size(-1);
  at::IntArrayRef lead = at::IntArrayRef(shape).slice(0, k), rest = at::IntArrayRef(shape).slice(k);
  checkIndicesOnDevice(indices, lead, "indices");
  std::vector<int64_t> flatShape{product(lead)};
  flatShape.insert(flatShape.end(), rest.begin(), rest.end());
  std::vector<int64_t> updShape{-1};
  updShape.insert(updShape.end(), rest.begin(), rest.end());
  at::Tensor out = at::zeros(flatShape, updates.options());
  if (k == 1 && addRowsOnCpu(out, indices, updates.reshape(updShape), "indices")) return returnTensor(info.Env(), out.reshape(shape));
  out.index_add_(0, flatIndexNd(indices, lead), updates.reshape(updShape));
  return returnTensor(info.Env(), out.reshape(shape));
}

// unsortedSegmentSum(x, segmentIds, numSegments)
ATEN_BINDING(UnsortedSegmentSum, "UnsortedSegmentSum") {
  const at::Tensor &x = argTensor(info, 0), &ids = argTensor(info, 1);
  std::vector<int64_t> shape{argInt(info, 2)};
  shape.insert(shape.end(), x.sizes().begin() + ids.dim(), x.sizes().end());
  std::vector<int64_t> flat{-1};
  flat.insert(flat.end(), x.sizes().begin() + ids.dim(), x.sizes().end());
  checkIndicesOnDevice(ids, {shape[0]}, "segment ids");
  at::Tensor out = at::zeros(shape, x.options());
  if (addRowsOnCpu(out, ids, x.reshape(flat), "segment ids")) return returnTensor(info.Env(), out);
  out.index_add_(0, ids.reshape({-1}).to(at::kLong), x.reshape(flat));
  return returnTensor(info.Env(), out);
}

// oneHot(indices, depth, onValue, offValue, dtype): out-of-range indices give all-off rows.
ATEN_BINDING(OneHot, "OneHot") {
  const at::Tensor& indices = argTensor(info, 0);
  const int64_t depth = argInt(info, 1);
  at::TensorOptions opts = options(static_cast<int32_t>(argInt(info, 4)));
  at::Tensor hit = indices.unsqueeze(-1) == at::arange(depth, indices.options().dtype(at::kInt));
  return returnTensor(info.Env(), at::where(hit, at::full({}, argDouble(info, 2), opts), at::full({}, argDouble(info, 3), opts)));
}

// einsum(equation, [ids])
ATEN_BINDING(Einsum, "Einsum") {
  Napi::Array ids = info[1].As<Napi::Array>();
  std::vector<at::Tensor> operands;
  for (uint32_t k = 0; k < ids.Length(); ++k) operands.push_back(tensorAt(ids.Get(k).As<Napi::Number>().Uint32Value()));
  return returnTensor(info.Env(), at::einsum(argString(info, 0), operands));
}

// topK(x, k, sorted) -> [values, indices]
ATEN_BINDING(TopK, "TopK") {
  auto r = at::topk(argTensor(info, 0), argInt(info, 1), -1, true, true);
  return returnTensors(info.Env(), {std::get<0>(r), std::get<1>(r)});
}

// multinomial(logitsOrProbs, numSamples, seed, normalized)
ATEN_BINDING(Multinomial, "Multinomial") {
  const at::Tensor& x = argTensor(info, 0);
  const int64_t samples = argInt(info, 1);
  const bool normalized = argBool(info, 3);
  at::Tensor probs = normalized ? x : at::softmax(x, -1);
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(static_cast<uint64_t>(argDouble(info, 2)));
  at::Tensor drawn = at::multinomial(probs.to(at::kCPU), samples, /*replacement=*/true, gen).to(x.device());
  return returnTensor(info.Env(), drawn);
}

void registerIndexOps(Napi::Env env, Napi::Object exports) {
  exports.Set("gather", Napi::Function::New(env, Gather));
  exports.Set("gatherNd", Napi::Function::New(env, GatherNd));
  exports.Set("scatterNd", Napi::Function::New(env, ScatterNd));
  exports.Set("unsortedSegmentSum", Napi::Function::New(env, UnsortedSegmentSum));
  exports.Set("oneHot", Napi::Function::New(env, OneHot));
  exports.Set("einsum", Napi::Function::New(env, Einsum));
  exports.Set("topK", Napi::Function::New(env, TopK));
  exports.Set("multinomial", Napi::Function::New(env, Multinomial));
}

}  // namespace aten_backend
