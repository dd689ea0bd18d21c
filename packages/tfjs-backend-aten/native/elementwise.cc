// Elementwise kernels: unary ops, broadcasting binary ops, Select, AddN, Cast.
// Unary and binary ops go through one binding each with an op index (the op name lists
// are exported so JS maps tfjs kernel names to indices once), keeping the per-call cost low.
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "common.h"

namespace aten_backend {
namespace {

using UnaryFn = at::Tensor (*)(const at::Tensor& x, double a, double b);
struct UnaryOp { const char* name; UnaryFn fn; bool needsFloat; };

// `a`/`b` carry the kernel's numeric attributes (alpha, clip bounds); unused by most ops.
const UnaryOp kUnaryOps[] = {
    {"Abs", [](const at::Tensor& x, double, double) { return at::abs(x); }, false},
    {"Acos", [](const at::Tensor& x, double, double) { return at::acos(x); }, true},
    {"Acosh", [](const at::Tensor& x, double, double) { return at::acosh(x); }, true},
    {"Asin", [](const at::Tensor& x, double, double) { return at::asin(x); }, true},
    {"Asinh", [](const at::Tensor& x, double, double) { return at::asinh(x); }, true},
    {"Atan", [](const at::Tensor& x, double, double) { return at::atan(x); }, true},
    {"Atanh", [](const at::Tensor& x, double, double) { return at::atanh(x); }, true},
    {"Ceil", [](const at::Tensor& x, double, double) { return at::ceil(x); }, false},
    {"ClipByValue", [](const at::Tensor& x, double lo, double hi) { return at::clamp(x, lo, hi); }, false},
    {"Cos", [](const at::Tensor& x, double, double) { return at::cos(x); }, true},
    {"Cosh", [](const at::Tensor& x, double, double) { return at::cosh(x); }, true},
    {"Elu", [](const at::Tensor& x, double, double) { return at::elu(x); }, true},
    {"Erf", [](const at::Tensor& x, double, double) { return at::erf(x); }, true},
    {"Exp", [](const at::Tensor& x, double, double) { return at::exp(x); }, true},
    {"Expm1", [](const at::Tensor& x, double, double) { return at::expm1(x); }, true},
    {"Floor", [](const at::Tensor& x, double, double) { return at::floor(x); }, false},
    {"IsFinite", [](const at::Tensor& x, double, double) { return at::isfinite(x); }, false},
    {"IsInf", [](const at::Tensor& x, double, double) { return at::isinf(x); }, false},
    {"IsNan", [](const at::Tensor& x, double, double) { return at::isnan(x); }, false},
    {"LeakyRelu", [](const at::Tensor& x, double alpha, double) { return at::leaky_relu(x, alpha); }, true},
    {"Log", [](const at::Tensor& x, double, double) { return at::log(x); }, true},
    {"Log1p", [](const at::Tensor& x, double, double) { return at::log1p(x); }, true},
    {"LogicalNot", [](const at::Tensor& x, double, double) { return at::logical_not(x); }, false},
    {"Neg", [](const at::Tensor& x, double, double) { return at::neg(x); }, false},
    {"Reciprocal", [](const at::Tensor& x, double, double) { return at::reciprocal(x); }, true},
    {"Relu", [](const at::Tensor& x, double, double) { return at::relu(x); }, false},
    {"Relu6", [](const at::Tensor& x, double, double) { return at::clamp(x, 0, 6); }, false},
    // tfjs rounds half to even, as ATen's round does.
    {"Round", [](const at::Tensor& x, double, double) { return at::round(x); }, false},
    {"Rsqrt", [](const at::Tensor& x, double, double) { return at::rsqrt(x); }, true},
    {"Selu", [](const at::Tensor& x, double, double) { return at::selu(x); }, true},
    {"Sigmoid", [](const at::Tensor& x, double, double) { return at::sigmoid(x); }, true},
    {"Sign", [](const at::Tensor& x, double, double) { return at::sign(x); }, false},
    {"Sin", [](const at::Tensor& x, double, double) { return at::sin(x); }, true},
    {"Sinh", [](const at::Tensor& x, double, double) { return at::sinh(x); }, true},
    {"Softplus", [](const at::Tensor& x, double, double) { return at::softplus(x); }, true},
    {"Sqrt", [](const at::Tensor& x, double, double) { return at::sqrt(x); }, true},
    {"Square", [](const at::Tensor& x, double, double) { return at::square(x); }, false},
    // tfjs Step: 1 where x > 0, alpha elsewhere, NaN stays NaN.
    {"Step", [](const at::Tensor& x, double alpha, double) {
       at::Tensor s = at::where(x > 0, at::ones({}, x.options()), at::full({}, alpha, x.options()));
       return at::where(at::isnan(x), x, s);
     }, true},
    {"Tan", [](const at::Tensor& x, double, double) { return at::tan(x); }, true},
    {"Tanh", [](const at::Tensor& x, double, double) { return at::tanh(x); }, true},
};

// True when alpha holds one value per channel (x's last axis), the layout of a PReLU layer with shared spatial axes,
// and both are float32 on the CPU: PReLU and its gradients then run as one loop over x.
bool preluPerChannel(const at::Tensor& x, const at::Tensor& alpha) {
  const int64_t channels = x.dim() > 0 ? x.size(-1) : 1;
  return x.is_cpu() && x.scalar_type() == at::kFloat && alpha.scalar_type() == at::kFloat && x.numel() > 0 &&
         alpha.dim() <= x.dim() && alpha.numel() == channels && (alpha.dim() == 0 || alpha.size(-1) == channels);
}

// PReLU: x where x >= 0, alpha·x elsewhere; alpha broadcasts against x. Per channel, one pass and one buffer (the
// composed form is a comparison, a product and a select, three buffers).
at::Tensor prelu(const at::Tensor& x, const at::Tensor& alpha) {
  if (!preluPerChannel(x, alpha)) return at::where(x < 0, x * alpha, x);
  const at::Tensor xc = x.contiguous(), ac = alpha.contiguous();
  const int64_t channels = ac.numel(), rows = xc.numel() / channels;
  at::Tensor y = at::empty_like(xc, at::MemoryFormat::Contiguous);
  const float *px = xc.data_ptr<float>(), *pa = ac.data_ptr<float>();
  float* py = y.data_ptr<float>();
  at::parallel_for(0, rows, std::max<int64_t>(1, 32768 / channels), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t o = r * channels;
      for (int64_t c = 0; c < channels; ++c) {
        // Indexed by the sign, not branched on: a branch mispredicts on every other element (4× slower here).
        const float pick[2] = {px[o + c] * pa[c], px[o + c]};
        py[o + c] = pick[!(px[o + c] < 0)];
      }
    }
  });
  return y;
}

using BinaryFn = at::Tensor (*)(const at::Tensor& a, const at::Tensor& b);
struct BinaryOp { const char* name; BinaryFn fn; bool needsFloat; };

const BinaryOp kBinaryOps[] = {
    {"Add", [](const at::Tensor& a, const at::Tensor& b) { return a.scalar_type() == at::kBool ? at::logical_or(a, b) : at::add(a, b); }, false},
    {"Sub", [](const at::Tensor& a, const at::Tensor& b) { return at::sub(a, b); }, false},
    {"Multiply", [](const at::Tensor& a, const at::Tensor& b) { return at::mul(a, b); }, false},
    {"RealDiv", [](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b); }, false},
    {"FloorDiv", [](const at::Tensor& a, const at::Tensor& b) { return at::div(a, b, "floor"); }, false},
    // tfjs mod takes the sign of the divisor, like ATen's remainder.
    {"Mod", [](const at::Tensor& a, const at::Tensor& b) { return at::remainder(a, b); }, false},
    {"Maximum", [](const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }, false},
    {"Minimum", [](const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); }, false},
    {"Pow", [](const at::Tensor& a, const at::Tensor& b) { return at::pow(a, b); }, false},
    {"SquaredDifference", [](const at::Tensor& a, const at::Tensor& b) { return at::square(at::sub(a, b)); }, false},
    {"Atan2", [](const at::Tensor& a, const at::Tensor& b) { return at::atan2(a, b); }, true},
    {"Equal", [](const at::Tensor& a, const at::Tensor& b) { return at::eq(a, b); }, false},
    {"NotEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::ne(a, b); }, false},
    {"Less", [](const at::Tensor& a, const at::Tensor& b) { return at::lt(a, b); }, false},
    {"LessEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::le(a, b); }, false},
    {"Greater", [](const at::Tensor& a, const at::Tensor& b) { return at::gt(a, b); }, false},
    {"GreaterEqual", [](const at::Tensor& a, const at::Tensor& b) { return at::ge(a, b); }, false},
    {"LogicalAnd", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_and(a, b); }, false},
    {"LogicalOr", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_or(a, b); }, false},
    {"LogicalXor", [](const at::Tensor& a, const at::Tensor& b) { return at::logical_xor(a, b); }, false},
    {"BitwiseAnd", [](const at::Tensor& a, const at::Tensor& b) { return at::bitwise_and(a, b); }, false},
    {"Prelu", prelu, false},
    // EluGrad(dy, y): dy where y >= 0, dy * (y + 1) elsewhere. ATen's elu_backward from the result is that, in one
    // pass (the where form read and wrote four full-size buffers; BEGAN's nets are ELUs throughout).
    {"EluGrad", [](const at::Tensor& dy, const at::Tensor& y) {
       if (dy.sizes() == y.sizes() && dy.scalar_type() == y.scalar_type()) return at::elu_backward(dy, 1, 1, 1, true, y);
       return at::where(y < 0, dy * (y + 1), dy);
     }, true},
};

template <typename Table, size_t N>
Napi::Array opNames(Napi::Env env, const Table (&table)[N]) {
  Napi::Array names = Napi::Array::New(env, N);
  for (size_t i = 0; i < N; ++i) names.Set(i, table[i].name);
  return names;
}

at::Tensor toOutType(at::Tensor t, int32_t outDtype) {
  at::ScalarType want = toScalarType(outDtype);
  return t.scalar_type() == want ? t : t.to(want);
}

template <typename Table, size_t N>
const Table& lookup(const Table (&table)[N], int64_t op) {
  if (op < 0 || op >= static_cast<int64_t>(N)) throw std::invalid_argument("unknown op index " + std::to_string(op));
  return table[op];
}

// unary(op, x, outDtype, a, b)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  const int64_t opIndex = info[0].As<Napi::Number>().Int64Value();
  const char* name = opIndex >= 0 && opIndex < static_cast<int64_t>(std::size(kUnaryOps)) ? kUnaryOps[opIndex].name : "unary";
  return guarded(info, name, [&] {
    const UnaryOp& op = lookup(kUnaryOps, opIndex);
    at::Tensor x = argTensor(info, 1);
    if (op.needsFloat && !x.is_floating_point()) x = x.to(at::kFloat);
    double a = info.Length() > 3 ? argDouble(info, 3) : 0, b = info.Length() > 4 ? argDouble(info, 4) : 0;
    return returnTensor(info.Env(), toOutType(op.fn(x, a, b), static_cast<int32_t>(argInt(info, 2))));
  });
}

// binary(op, a, b, outDtype)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  const int64_t opIndex = info[0].As<Napi::Number>().Int64Value();
  const char* name = opIndex >= 0 && opIndex < static_cast<int64_t>(std::size(kBinaryOps)) ? kBinaryOps[opIndex].name : "binary";
  return guarded(info, name, [&] {
    const BinaryOp& op = lookup(kBinaryOps, opIndex);
    at::Tensor a = argTensor(info, 1), b = argTensor(info, 2);
    const int32_t outDtype = static_cast<int32_t>(argInt(info, 3));
    if (op.needsFloat || (outDtype == kFloat32 && !a.is_floating_point() && std::string(op.name) == "RealDiv")) {
      a = a.to(at::kFloat);
      b = b.to(at::kFloat);
    }
    return returnTensor(info.Env(), toOutType(op.fn(a, b), outDtype));
  });
}

}  // namespace

// cast(x, dtype)
ATEN_BINDING(Cast, "Cast") {
  const at::Tensor& x = argTensor(info, 0);
  return returnTensor(info.Env(), x.to(toScalarType(static_cast<int32_t>(argInt(info, 1)))));
}

// select(condition, t, e): a rank-1 condition picks whole rows of t/e, as in tfjs.
ATEN_BINDING(Select, "Select") {
  at::Tensor cond = argTensor(info, 0);
  const at::Tensor &t = argTensor(info, 1), &e = argTensor(info, 2);
  if (cond.scalar_type() != at::kBool) cond = cond.to(at::kBool);
  if (cond.dim() == 1 && t.dim() > 1) {
    std::vector<int64_t> shape(t.dim(), 1);
    shape[0] = cond.size(0);
    cond = cond.view(shape);
  }
  return returnTensor(info.Env(), at::where(cond, t, e));
}

// activationGrad(kind, dy, x, alpha): the input gradient of Relu (kind 0) or LeakyRelu (kind 1) in one
// pass — tfjs builds them from Step/Greater, Select and Multiply, three kernels with three fresh buffers.
ATEN_BINDING(ActivationGrad, "ActivationGrad") {
  const int64_t kind = argInt(info, 0);
  const at::Tensor &dy = argTensor(info, 1), &x = argTensor(info, 2);
  const double alpha = argDouble(info, 3);
  TORCH_CHECK(dy.sizes() == x.sizes(), "dy and x differ in shape: ", dy.sizes(), " vs ", x.sizes());
  at::Tensor d = dy.scalar_type() == at::kFloat ? dy : dy.to(at::kFloat);
  at::Tensor xf = x.scalar_type() == at::kFloat ? x : x.to(at::kFloat);
  if (kind == 0) return returnTensor(info.Env(), at::threshold_backward(d, xf, 0));
  return returnTensor(info.Env(), at::leaky_relu_backward(d, xf, alpha, false));
}

namespace {

// PReLU's gradients where preluPerChannel holds (dy made contiguous float32 too): one pass over dy and x for each
// gradient, where the composed forms (a mask, two products, two selects, a reduction) made five full-size buffers.
at::Tensor preluDxPerChannel(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& alpha) {
  const int64_t channels = alpha.numel(), rows = x.numel() / channels;
  at::Tensor dx = at::empty_like(x, at::MemoryFormat::Contiguous);
  const float *pdy = dy.data_ptr<float>(), *px = x.data_ptr<float>(), *pa = alpha.data_ptr<float>();
  float* pdx = dx.data_ptr<float>();
  at::parallel_for(0, rows, std::max<int64_t>(1, 32768 / channels), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t o = r * channels;
      for (int64_t c = 0; c < channels; ++c) {
        const float pick[2] = {pdy[o + c] * pa[c], pdy[o + c]};  // indexed by the sign, as in prelu
        pdx[o + c] = pick[px[o + c] > 0];
      }
    }
  });
  return dx;
}

// Σ over every axis but the last of dy·x where x ≤ 0 (or is NaN): row blocks summed in double per thread, then added.
at::Tensor preluDalphaPerChannel(const at::Tensor& dy, const at::Tensor& x, int64_t channels) {
  const int64_t rows = x.numel() / channels;
  const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), rows * channels / 32768));
  std::vector<double> partial(blocks * channels, 0.0);
  const float *pdy = dy.data_ptr<float>(), *px = x.data_ptr<float>();
  at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      double* acc = partial.data() + k * channels;
      for (int64_t r = rows * k / blocks; r < rows * (k + 1) / blocks; ++r) {
        const int64_t o = r * channels;
        for (int64_t c = 0; c < channels; ++c) {
          const double pick[2] = {static_cast<double>(pdy[o + c]) * px[o + c], 0.0};
          acc[c] += pick[px[o + c] > 0];
        }
      }
    }
  });
  at::Tensor out = at::empty({channels}, x.options());
  float* po = out.data_ptr<float>();
  for (int64_t c = 0; c < channels; ++c) {
    double sum = 0;
    for (int64_t k = 0; k < blocks; ++k) sum += partial[k * channels + c];
    po[c] = static_cast<float>(sum);
  }
  return out;
}

}  // namespace

// preluGrad(which, dy, x, alpha): which 0 → dx = dy where x > 0, alpha·dy elsewhere; 1 → dalpha = dy·x where
// x ≤ 0, summed over the axes along which alpha broadcasts (the result has alpha's shape). The mask is tfjs's
// (x > 0), so x = 0 takes alpha's branch. dy and x have one shape; alpha broadcasts against it.
ATEN_BINDING(PreluGrad, "PreluGrad") {
  const int64_t which = argInt(info, 0);
  const auto asFloat = [](const at::Tensor& t) { return t.scalar_type() == at::kFloat ? t : t.to(at::kFloat); };
  const at::Tensor dy = asFloat(argTensor(info, 1)), x = asFloat(argTensor(info, 2)), alpha = asFloat(argTensor(info, 3));
  TORCH_CHECK(dy.sizes() == x.sizes(), "dy and x differ in shape: ", dy.sizes(), " vs ", x.sizes());
  TORCH_CHECK(which == 0 || which == 1, "unknown gradient ", which);
  const int64_t channels = x.dim() > 0 ? x.size(-1) : 1;
  const auto sizes = alpha.sizes();
  if (preluPerChannel(x, alpha)) {
    const at::Tensor dyc = dy.contiguous(), xc = x.contiguous();
    if (which == 0) return returnTensor(info.Env(), preluDxPerChannel(dyc, xc, alpha.contiguous()));
    return returnTensor(info.Env(), preluDalphaPerChannel(dyc, xc, channels).view(sizes));
  }
  const at::Tensor positive = x > 0;
  if (which == 0) return returnTensor(info.Env(), at::where(positive, dy, dy * alpha));
  return returnTensor(info.Env(), at::where(positive, at::zeros({}, dy.options()), dy * x).sum_to_size(sizes).contiguous());
}

// addN([ids])
ATEN_BINDING(AddN, "AddN") {
  Napi::Array ids = info[0].As<Napi::Array>();
  at::Tensor sum = tensorAt(ids.Get(0u).As<Napi::Number>().Uint32Value());
  for (uint32_t i = 1; i < ids.Length(); ++i) sum = at::add(sum, tensorAt(ids.Get(i).As<Napi::Number>().Uint32Value()));
  return returnTensor(info.Env(), ids.Length() == 1 ? sum.clone() : sum);
}

// ---- The gated linear unit over the last axis: [..., 2n] → [..., n], a ⊙ σ(b) with [a, b] the two halves ----
// Composed of tfjs ops it is two slices, a sigmoid and a product forward and five kernels backward (two products,
// the sigmoid's gradient, two pads and their sum); ATen's glu and glu_backward are one pass each way.
ATEN_BINDING(Glu, "GatedLinearUnit") {
  const at::Tensor& x = argTensor(info, 0);
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) % 2 == 0, "the last axis must be even, got ", x.sizes());
  return returnTensor(info.Env(), at::glu(x, -1));
}

// gluGrad(dy, x) → dx: [dy·σ(b), dy·a·σ(b)(1 − σ(b))] along the last axis.
ATEN_BINDING(GluGrad, "GatedLinearUnitGrad") {
  const at::Tensor &dy = argTensor(info, 0), &x = argTensor(info, 1);
  TORCH_CHECK(x.dim() >= 1 && x.size(-1) % 2 == 0 && dy.dim() == x.dim() && dy.size(-1) * 2 == x.size(-1),
              "dy must be x's shape with half its last axis, got ", dy.sizes(), " and ", x.sizes());
  return returnTensor(info.Env(), at::glu_backward(dy, x, -1));
}

void registerElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("unaryOps", opNames(env, kUnaryOps));
  exports.Set("binaryOps", opNames(env, kBinaryOps));
  exports.Set("unary", Napi::Function::New(env, Unary));
  exports.Set("binary", Napi::Function::New(env, Binary));
  exports.Set("cast", Napi::Function::New(env, Cast));
  exports.Set("select", Napi::Function::New(env, Select));
  exports.Set("addN", Napi::Function::New(env, AddN));
  exports.Set("activationGrad", Napi::Function::New(env, ActivationGrad));
  exports.Set("preluGrad", Napi::Function::New(env, PreluGrad));
  exports.Set("glu", Napi::Function::New(env, Glu));
  exports.Set("gluGrad", Napi::Function::New(env, GluGrad));
}

}  // namespace aten_backend
