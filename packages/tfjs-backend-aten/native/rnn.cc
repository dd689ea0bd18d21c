// A masked LSTM and a masked GRU over a whole sequence in one call each (forward and gradient); the GRU's math is
// described at GruSequence below. The LSTM has tfjs-layers' LSTM math:
// z = x·W + h·U + b split into gates i, f, g, o (that order); i, f, o through the recurrent activation
// (sigmoid or hardSigmoid = clip(0.2·z + 0.5, 0, 1)), g and the output through tanh;
// c' = f·c + i·g, h' = o·tanh(c'). A mask m ∈ [0, 1] per (sample, step) blends each state with the previous one,
// h = m·h' + (1 − m)·h, as tfjs-layers' rnn() does, so padded steps hold a direction's state and repeat its output.
// tfjs-layers runs this as ~40 small kernels per step dispatched from JS; here a step is one GEMM, the gates'
// activations and two loops over [B, H] (float32 on the CPU), or a dozen ATen ops on other devices and dtypes.
//
// Time: step s = 0 … T−1 reads input t(s) = reverse ? T−1−s : s and writes output s (processing order, as
// tfjs-layers' goBackwards does; Bidirectional flips it back).
#include <cmath>

#include "common.h"

namespace aten_backend {

namespace {

struct Sizes {
  int64_t B, T, E, H;
};

Sizes checkShapes(const at::Tensor& x, const at::Tensor& kernel, const at::Tensor& recurrent, const at::Tensor* bias,
                  const at::Tensor& mask, int64_t gates) {
  TORCH_CHECK(x.dim() == 3, "x must be [B, T, E], got ", x.sizes());
  const int64_t B = x.size(0), T = x.size(1), E = x.size(2);
  TORCH_CHECK(recurrent.dim() == 2 && recurrent.size(1) == gates * recurrent.size(0), "recurrentKernel must be [H, ",
              gates, "H], got ", recurrent.sizes());
  const int64_t H = recurrent.size(0);
  TORCH_CHECK(kernel.dim() == 2 && kernel.size(0) == E && kernel.size(1) == gates * H, "kernel must be [", E, ", ",
              gates * H, "], got ", kernel.sizes());
  if (bias)
    TORCH_CHECK(bias->dim() == 1 && bias->size(0) == gates * H, "bias must be [", gates * H, "], got ", bias->sizes());
  TORCH_CHECK(mask.dim() == 2 && mask.size(0) == B && mask.size(1) == T, "mask must be [", B, ", ", T, "], got ",
              mask.sizes());
  TORCH_CHECK(T > 0, "the sequence is empty");
  return {B, T, E, H};
}

bool fastPath(std::initializer_list<const at::Tensor*> ts) {
  for (const at::Tensor* t : ts)
    if (t->scalar_type() != at::kFloat || !t->device().is_cpu()) return false;
  return true;
}

// OpenMP's thread count, where libtorch's OpenMP runtime is loaded (weak: an addon against a libtorch without it
// still loads, and OneThread does nothing).
extern "C" int omp_get_max_threads() __attribute__((weak));
extern "C" void omp_set_num_threads(int) __attribute__((weak));

// The steps' kernels are small ([B, 4H]): this thread's parallel regions run on one thread while it lives. With
// two threads the idle one's spinning between a step's regions tripled the forward's CPU time at B = 32 (and its
// wall time on a loaded machine); the whole-sequence GEMMs outside the step loops keep every thread.
struct OneThread {
  const int previous = omp_get_max_threads ? omp_get_max_threads() : 0;
  OneThread() {
    if (omp_set_num_threads) omp_set_num_threads(1);
  }
  ~OneThread() {
    if (omp_set_num_threads && previous > 0) omp_set_num_threads(previous);
  }
};

// In place on a [B, ·] view: sigmoid, or hardSigmoid = clip(0.2·z + 0.5, 0, 1).
void activate_(at::Tensor z, bool hard) {
  if (hard) z.mul_(0.2).add_(0.5).clamp_(0, 1);
  else z.sigmoid_();
}
at::Tensor activate(const at::Tensor& z, bool hard) { return hard ? at::clamp(z * 0.2 + 0.5, 0, 1) : at::sigmoid(z); }
// The activation's derivative from its output a (hardSigmoid: 0.2 inside the linear part, 0 where clipped).
inline float slopeOf(float a, bool hard) { return hard ? (a > 0.0f && a < 1.0f ? 0.2f : 0.0f) : a * (1.0f - a); }
at::Tensor slope(const at::Tensor& a, bool hard) {
  return hard ? ((a > 0) & (a < 1)).to(a.scalar_type()) * 0.2 : a * (1 - a);
}

}  // namespace

// lstmSequence(x [B,T,E], kernel [E,4H], recurrentKernel [H,4H], bias [4H], mask [B,T], reverse, hardSigmoid, generic)
//   -> [y [B,T,H], gates [T,B,4H] (i, f, g, o after their activations), tanhC [T,B,H] (tanh(f·c + i·g)), c [T,B,H]
//   (after the mask's blend)], all in processing order; the last three are for the gradient. `generic` forces the
//   ATen-op path (it is what other devices run; tests compare the two on the CPU).
// On the CPU, the transcendental functions run as ATen's vectorised kernels over a step's whole [B, 4H] (scalar
// std::exp/std::tanh made the step 2x slower than the GEMMs); the products and blends are plain loops.
ATEN_BINDING(LstmSequence, "LstmSequence") {
  const at::Tensor &x = argTensor(info, 0), &kernel = argTensor(info, 1), &recurrent = argTensor(info, 2),
                   &bias = argTensor(info, 3), &mask = argTensor(info, 4);
  const bool reverse = argBool(info, 5), hard = argBool(info, 6), generic = argBool(info, 7);
  const Sizes size = checkShapes(x, kernel, recurrent, &bias, mask, 4);
  const int64_t B = size.B, T = size.T, E = size.E, H = size.H;
  const at::Tensor m = mask.to(x.scalar_type()).contiguous();
  // Every step's input projection in one GEMM: [B·T, E]·[E, 4H] + b.
  const at::Tensor xz = at::addmm(bias, x.reshape({B * T, E}), kernel).view({B, T, 4 * H});
  at::Tensor y = at::empty({B, T, H}, x.options()), gates = at::empty({T, B, 4 * H}, x.options());
  at::Tensor tanhC = at::empty({T, B, H}, x.options()), cAll = at::empty({T, B, H}, x.options());
  at::Tensor h = at::zeros({B, H}, x.options()), c = at::zeros({B, H}, x.options());
  if (!generic && fastPath({&x, &kernel, &recurrent, &bias})) {
    OneThread oneThread;
    const float* mp = m.data_ptr<float>();
    float *yp = y.data_ptr<float>(), *hp = h.data_ptr<float>(), *cp = c.data_ptr<float>();
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = reverse ? T - 1 - s : s;
      at::Tensor z = gates.select(0, s);  // [B, 4H], contiguous: the gates are computed where they are kept
      at::addmm_out(z, xz.select(1, t), h, recurrent);
      activate_(z.narrow(1, 0, 2 * H), hard);
      z.narrow(1, 2 * H, H).tanh_();
      activate_(z.narrow(1, 3 * H, H), hard);
      const float* gp = z.data_ptr<float>();
      float *tcp = tanhC.select(0, s).data_ptr<float>(), *cap = cAll.select(0, s).data_ptr<float>();
      for (int64_t b = 0; b < B; ++b) {
        const float mb = mp[b * T + t];
        const float* gb = gp + b * 4 * H;
        for (int64_t j = 0; j < H; ++j) {
          const int64_t k = b * H + j;
          const float cn = gb[H + j] * cp[k] + gb[j] * gb[2 * H + j];
          tcp[k] = cn;
          cp[k] = mb * cn + (1.0f - mb) * cp[k];
          cap[k] = cp[k];
        }
      }
      tanhC.select(0, s).tanh_();
      for (int64_t b = 0; b < B; ++b) {
        const float mb = mp[b * T + t];
        const float* ob = gp + b * 4 * H + 3 * H;
        for (int64_t j = 0; j < H; ++j) {
          const int64_t k = b * H + j;
          hp[k] = mb * ob[j] * tcp[k] + (1.0f - mb) * hp[k];
          yp[(b * T + s) * H + j] = hp[k];
        }
      }
    }
  } else {
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = reverse ? T - 1 - s : s;
      const auto zs = at::addmm(xz.select(1, t), h, recurrent).chunk(4, 1);
      const at::Tensor i = activate(zs[0], hard), f = activate(zs[1], hard), g = at::tanh(zs[2]),
                       o = activate(zs[3], hard);
      const at::Tensor cn = f * c + i * g, tc = at::tanh(cn), mb = m.select(1, t).unsqueeze(1);
      c = mb * cn + (1 - mb) * c;
      h = mb * (o * tc) + (1 - mb) * h;
      gates.select(0, s).copy_(at::cat({i, f, g, o}, 1));
      tanhC.select(0, s).copy_(tc);
      cAll.select(0, s).copy_(c);
      y.select(1, s).copy_(h);
    }
  }
  return returnTensors(info.Env(), {y, gates, tanhC, cAll});
}

// lstmSequenceGrad(dy [B,T,H], x, kernel, recurrentKernel, mask, y, gates, tanhC, c, reverse, hardSigmoid, generic)
//   -> [dx [B,T,E], dKernel [E,4H], dRecurrentKernel [H,4H], dBias [4H]]. Backpropagation through time over the
//   saved gates and states: per step, the gate gradients dz (one loop, no transcendental functions left) and
//   dh += dz·Uᵀ (one GEMM); then dx, dW, dU and db are each one GEMM or sum over all steps.
ATEN_BINDING(LstmSequenceGrad, "LstmSequenceGrad") {
  const at::Tensor &dyIn = argTensor(info, 0), &x = argTensor(info, 1), &kernel = argTensor(info, 2),
                   &recurrent = argTensor(info, 3), &mask = argTensor(info, 4), &yIn = argTensor(info, 5),
                   &gatesIn = argTensor(info, 6), &tanhCIn = argTensor(info, 7), &cAllIn = argTensor(info, 8);
  const bool reverse = argBool(info, 9), hard = argBool(info, 10), generic = argBool(info, 11);
  const Sizes size = checkShapes(x, kernel, recurrent, nullptr, mask, 4);
  const int64_t B = size.B, T = size.T, E = size.E, H = size.H;
  TORCH_CHECK(dyIn.sizes() == yIn.sizes() && yIn.dim() == 3 && yIn.size(0) == B && yIn.size(1) == T && yIn.size(2) == H,
              "dy and y must be [", B, ", ", T, ", ", H, "], got ", dyIn.sizes(), " and ", yIn.sizes());
  const at::Tensor m = mask.to(x.scalar_type()).contiguous(), dy = dyIn.contiguous(), y = yIn.contiguous();
  const at::Tensor gates = gatesIn.contiguous(), tanhC = tanhCIn.contiguous(), cAll = cAllIn.contiguous();
  at::Tensor dz = at::empty({B, T, 4 * H}, x.options());  // by input time t, as the input projection's rows
  at::Tensor dh = at::zeros({B, H}, x.options()), dc = at::zeros({B, H}, x.options());
  const at::Tensor uT = recurrent.t();
  if (!generic && fastPath({&x, &kernel, &recurrent, &dy, &y, &gates, &tanhC, &cAll})) {
    OneThread oneThread;
    at::Tensor dzStep = at::empty({B, 4 * H}, x.options());
    const float *dyp = dy.data_ptr<float>(), *mp = m.data_ptr<float>(), *gp = gates.data_ptr<float>(),
                *tcp = tanhC.data_ptr<float>(), *cap = cAll.data_ptr<float>();
    float *dzp = dz.data_ptr<float>(), *dsp = dzStep.data_ptr<float>(), *dhp = dh.data_ptr<float>(),
          *dcp = dc.data_ptr<float>();
    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = reverse ? T - 1 - s : s;
      for (int64_t b = 0; b < B; ++b) {
        const float mb = mp[b * T + t];
        const float* gb = gp + (s * B + b) * 4 * H;
        float* ds = dsp + b * 4 * H;
        for (int64_t j = 0; j < H; ++j) {
          const int64_t k = b * H + j;
          const float i = gb[j], f = gb[H + j], g = gb[2 * H + j], o = gb[3 * H + j];
          const float cPrev = s > 0 ? cap[(s - 1) * B * H + k] : 0.0f, tc = tcp[s * B * H + k];
          const float dhAll = dhp[k] + dyp[(b * T + s) * H + j], dhn = mb * dhAll;
          const float dcn = mb * dcp[k] + dhn * o * (1.0f - tc * tc);
          ds[j] = dcn * g * slopeOf(i, hard);
          ds[H + j] = dcn * cPrev * slopeOf(f, hard);
          ds[2 * H + j] = dcn * i * (1.0f - g * g);
          ds[3 * H + j] = dhn * tc * slopeOf(o, hard);
          dcp[k] = (1.0f - mb) * dcp[k] + dcn * f;
          dhp[k] = (1.0f - mb) * dhAll;
        }
        std::copy(ds, ds + 4 * H, dzp + (b * T + t) * 4 * H);
      }
      if (s > 0) dh.addmm_(dzStep, uT);  // the step's h came from h_{s−1}
    }
  } else {
    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = reverse ? T - 1 - s : s;
      const auto gs = gates.select(0, s).chunk(4, 1);
      const at::Tensor &i = gs[0], &f = gs[1], &g = gs[2], &o = gs[3];
      const at::Tensor cPrev = s > 0 ? cAll.select(0, s - 1) : at::zeros({B, H}, x.options());
      const at::Tensor tc = tanhC.select(0, s), mb = m.select(1, t).unsqueeze(1);
      const at::Tensor dhAll = dh + dy.select(1, s), dhn = mb * dhAll;
      const at::Tensor dcn = mb * dc + dhn * o * (1 - tc * tc);
      const at::Tensor dzStep = at::cat({dcn * g * slope(i, hard), dcn * cPrev * slope(f, hard), dcn * i * (1 - g * g),
                                         dhn * tc * slope(o, hard)}, 1);
      dz.select(1, t).copy_(dzStep);
      dc = (1 - mb) * dc + dcn * f;
      dh = (1 - mb) * dhAll;
      if (s > 0) dh = dh + dzStep.mm(uT);
    }
  }
  // dU = Σ_s h_{s−1}ᵀ·dz_s: the previous outputs, re-indexed by input time t as dz is.
  at::Tensor hPrev = at::zeros({B, T, H}, x.options());  // hPrev[:, t(s)] = y[:, s − 1]
  if (T > 1) {
    const at::Tensor earlier = y.narrow(1, 0, T - 1);
    if (reverse) hPrev.narrow(1, 0, T - 1).copy_(earlier.flip({1}));
    else hPrev.narrow(1, 1, T - 1).copy_(earlier);
  }
  const at::Tensor dz2 = dz.view({B * T, 4 * H});
  at::Tensor dx = dz2.mm(kernel.t()).view({B, T, E});
  at::Tensor dKernel = x.reshape({B * T, E}).t().mm(dz2);
  at::Tensor dRecurrent = hPrev.view({B * T, H}).t().mm(dz2);
  at::Tensor dBias = dz2.sum(0);
  return returnTensors(info.Env(), {dx, dKernel, dRecurrent, dBias});
}

// gruSequence(x [B,T,E], kernel [E,3H], recurrentKernel [H,3H], bias [3H], mask [B,T], reverse, hardSigmoid, generic)
//   -> [y [B,T,H], zr [T,B,2H] (update and reset gates after their activation), hh [T,B,H] (the candidate
//   tanh(x·W_h + b_h + (r·h)·U_h)), rh [T,B,H] (r·h, the candidate's recurrent input)], in processing order; the last
//   three are for the gradient. tfjs-layers' GRUCell (reset_after false, which is all it has): gates z, r, h in that
//   order along 3H; z, r = σ(x·W + b + h·U) over the first 2H columns; h' = z·h + (1 − z)·hh; the mask blends as the
//   LSTM's. U splits by columns into U_zr [H, 2H] and U_h [H, H] once per call, so each step is two small GEMMs.
ATEN_BINDING(GruSequence, "GruSequence") {
  const at::Tensor &x = argTensor(info, 0), &kernel = argTensor(info, 1), &recurrent = argTensor(info, 2),
                   &bias = argTensor(info, 3), &mask = argTensor(info, 4);
  const bool reverse = argBool(info, 5), hard = argBool(info, 6), generic = argBool(info, 7);
  const Sizes size = checkShapes(x, kernel, recurrent, &bias, mask, 3);
  const int64_t B = size.B, T = size.T, E = size.E, H = size.H;
  const at::Tensor m = mask.to(x.scalar_type()).contiguous();
  const at::Tensor xz = at::addmm(bias, x.reshape({B * T, E}), kernel).view({B, T, 3 * H});
  const bool fast = !generic && fastPath({&x, &kernel, &recurrent, &bias});
  // On the fast path tanh(a) = 2·σ(2a) − 1: ATen's vectorised sigmoid costs a fifth of its tanh here (the step's
  // largest cost after the GEMMs at H = 24), and the identity loses nothing in absolute terms (|error| ~ 1e-7). The
  // candidate's input projection and recurrent kernel are doubled once (exactly), so a step computes 2a directly.
  if (fast) xz.narrow(2, 2 * H, H).mul_(2.0f);  // xz is this call's own
  const at::Tensor uZr = recurrent.narrow(1, 0, 2 * H).contiguous();
  const at::Tensor uH = fast ? recurrent.narrow(1, 2 * H, H) * 2.0f : recurrent.narrow(1, 2 * H, H);
  at::Tensor y = at::empty({B, T, H}, x.options()), zr = at::empty({T, B, 2 * H}, x.options());
  at::Tensor hh = at::empty({T, B, H}, x.options()), rh = at::empty({T, B, H}, x.options());
  at::Tensor h = at::zeros({B, H}, x.options());
  if (fast) {
    OneThread oneThread;
    const float* mp = m.data_ptr<float>();
    float *yp = y.data_ptr<float>(), *hp = h.data_ptr<float>();
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = reverse ? T - 1 - s : s;
      const at::Tensor xt = xz.select(1, t);
      at::Tensor gates = zr.select(0, s), candidate = hh.select(0, s), reset = rh.select(0, s);
      at::addmm_out(gates, xt.narrow(1, 0, 2 * H), h, uZr);
      activate_(gates, hard);
      const float* gp = gates.data_ptr<float>();
      float *rp = reset.data_ptr<float>(), *cp = candidate.data_ptr<float>();
      for (int64_t b = 0; b < B; ++b)
        for (int64_t j = 0; j < H; ++j) rp[b * H + j] = gp[b * 2 * H + H + j] * hp[b * H + j];
      at::addmm_out(candidate, xt.narrow(1, 2 * H, H), reset, uH);
      candidate.sigmoid_();
      for (int64_t b = 0; b < B; ++b) {
        const float mb = mp[b * T + t];
        for (int64_t j = 0; j < H; ++j) {
          const int64_t k = b * H + j;
          cp[k] = 2.0f * cp[k] - 1.0f;
          const float z = gp[b * 2 * H + j], hn = z * hp[k] + (1.0f - z) * cp[k];
          hp[k] = mb * hn + (1.0f - mb) * hp[k];
          yp[(b * T + s) * H + j] = hp[k];
        }
      }
    }
  } else {
    for (int64_t s = 0; s < T; ++s) {
      const int64_t t = reverse ? T - 1 - s : s;
      const at::Tensor xt = xz.select(1, t);
      const at::Tensor gates = activate(at::addmm(xt.narrow(1, 0, 2 * H), h, uZr), hard);
      const at::Tensor z = gates.narrow(1, 0, H), r = gates.narrow(1, H, H), reset = r * h;
      const at::Tensor candidate = at::tanh(at::addmm(xt.narrow(1, 2 * H, H), reset, uH));
      const at::Tensor mb = m.select(1, t).unsqueeze(1);
      h = mb * (z * h + (1 - z) * candidate) + (1 - mb) * h;
      zr.select(0, s).copy_(gates);
      hh.select(0, s).copy_(candidate);
      rh.select(0, s).copy_(reset);
      y.select(1, s).copy_(h);
    }
  }
  return returnTensors(info.Env(), {y, zr, hh, rh});
}

// gruSequenceGrad(dy [B,T,H], x, kernel, recurrentKernel, mask, y, zr, hh, rh, reverse, hardSigmoid, generic)
//   -> [dx [B,T,E], dKernel [E,3H], dRecurrentKernel [H,3H], dBias [3H]]. Per step (backwards): the candidate's
//   pre-activation gradient, one GEMM for d(r·h) = that·U_hᵀ, the gates' pre-activation gradients, and one GEMM
//   dh += d(z, r)·U_zrᵀ; then dx, dW, dU and db are each one GEMM or sum over all steps.
ATEN_BINDING(GruSequenceGrad, "GruSequenceGrad") {
  const at::Tensor &dyIn = argTensor(info, 0), &x = argTensor(info, 1), &kernel = argTensor(info, 2),
                   &recurrent = argTensor(info, 3), &mask = argTensor(info, 4), &yIn = argTensor(info, 5),
                   &zrIn = argTensor(info, 6), &hhIn = argTensor(info, 7), &rhIn = argTensor(info, 8);
  const bool reverse = argBool(info, 9), hard = argBool(info, 10), generic = argBool(info, 11);
  const Sizes size = checkShapes(x, kernel, recurrent, nullptr, mask, 3);
  const int64_t B = size.B, T = size.T, E = size.E, H = size.H;
  TORCH_CHECK(dyIn.sizes() == yIn.sizes() && yIn.dim() == 3 && yIn.size(0) == B && yIn.size(1) == T && yIn.size(2) == H,
              "dy and y must be [", B, ", ", T, ", ", H, "], got ", dyIn.sizes(), " and ", yIn.sizes());
  const at::Tensor m = mask.to(x.scalar_type()).contiguous(), dy = dyIn.contiguous(), y = yIn.contiguous();
  const at::Tensor zr = zrIn.contiguous(), hh = hhIn.contiguous(), rh = rhIn.contiguous();
  at::Tensor dz = at::empty({B, T, 3 * H}, x.options());  // by input time t, as the input projection's rows
  at::Tensor dh = at::zeros({B, H}, x.options());
  const at::Tensor uZrT = recurrent.narrow(1, 0, 2 * H).t(), uHT = recurrent.narrow(1, 2 * H, H).t();
  if (!generic && fastPath({&x, &kernel, &recurrent, &dy, &y, &zr, &hh, &rh})) {
    OneThread oneThread;
    at::Tensor dzStep = at::empty({B, 3 * H}, x.options()), dReset = at::empty({B, H}, x.options());
    const at::Tensor dGates = dzStep.narrow(1, 0, 2 * H), dCandidate = dzStep.narrow(1, 2 * H, H);
    const float *dyp = dy.data_ptr<float>(), *mp = m.data_ptr<float>(), *yp = y.data_ptr<float>(),
                *gp = zr.data_ptr<float>(), *cp = hh.data_ptr<float>(), *drp = dReset.data_ptr<float>();
    float *dzp = dz.data_ptr<float>(), *dsp = dzStep.data_ptr<float>(), *dhp = dh.data_ptr<float>();
    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = reverse ? T - 1 - s : s;
      for (int64_t b = 0; b < B; ++b) {
        const float mb = mp[b * T + t];
        const float* gb = gp + (s * B + b) * 2 * H;
        float* ds = dsp + b * 3 * H;
        for (int64_t j = 0; j < H; ++j) {
          const int64_t k = b * H + j;
          const float z = gb[j], c = cp[s * B * H + k], hPrev = s > 0 ? yp[(b * T + s - 1) * H + j] : 0.0f;
          const float dhAll = dhp[k] + dyp[(b * T + s) * H + j], dhn = mb * dhAll;
          ds[j] = dhn * (hPrev - c) * slopeOf(z, hard);
          ds[2 * H + j] = dhn * (1.0f - z) * (1.0f - c * c);
          dhp[k] = (1.0f - mb) * dhAll + dhn * z;
        }
      }
      at::mm_out(dReset, dCandidate, uHT);
      for (int64_t b = 0; b < B; ++b) {
        const float* gb = gp + (s * B + b) * 2 * H;
        float* ds = dsp + b * 3 * H;
        for (int64_t j = 0; j < H; ++j) {
          const int64_t k = b * H + j;
          const float r = gb[H + j], hPrev = s > 0 ? yp[(b * T + s - 1) * H + j] : 0.0f;
          ds[H + j] = drp[k] * hPrev * slopeOf(r, hard);
          dhp[k] += drp[k] * r;
        }
        std::copy(ds, ds + 3 * H, dzp + (b * T + t) * 3 * H);
      }
      if (s > 0) dh.addmm_(dGates, uZrT);
    }
  } else {
    for (int64_t s = T - 1; s >= 0; --s) {
      const int64_t t = reverse ? T - 1 - s : s;
      const at::Tensor gates = zr.select(0, s), z = gates.narrow(1, 0, H), r = gates.narrow(1, H, H);
      const at::Tensor c = hh.select(0, s), mb = m.select(1, t).unsqueeze(1);
      const at::Tensor hPrev = s > 0 ? y.select(1, s - 1) : at::zeros({B, H}, x.options());
      const at::Tensor dhAll = dh + dy.select(1, s), dhn = mb * dhAll;
      const at::Tensor dCandidate = dhn * (1 - z) * (1 - c * c), dReset = dCandidate.mm(uHT);
      const at::Tensor dGates = at::cat({dhn * (hPrev - c) * slope(z, hard), dReset * hPrev * slope(r, hard)}, 1);
      dz.select(1, t).copy_(at::cat({dGates, dCandidate}, 1));
      dh = (1 - mb) * dhAll + dhn * z + dReset * r;
      if (s > 0) dh = dh + dGates.mm(uZrT);
    }
  }
  // dU_zr = Σ_s h_{s−1}ᵀ·d(z, r)_s and dU_h = Σ_s (r·h)_sᵀ·dhh_s, with the states re-indexed by input time t as dz is.
  at::Tensor hPrev = at::zeros({B, T, H}, x.options());  // hPrev[:, t(s)] = y[:, s − 1]
  if (T > 1) {
    const at::Tensor earlier = y.narrow(1, 0, T - 1);
    if (reverse) hPrev.narrow(1, 0, T - 1).copy_(earlier.flip({1}));
    else hPrev.narrow(1, 1, T - 1).copy_(earlier);
  }
  const at::Tensor resetByT = (reverse ? rh.flip({0}) : rh).transpose(0, 1).contiguous();  // [B, T, H]
  const at::Tensor dz2 = dz.view({B * T, 3 * H});
  at::Tensor dx = dz2.mm(kernel.t()).view({B, T, E});
  at::Tensor dKernel = x.reshape({B * T, E}).t().mm(dz2);
  at::Tensor dRecurrent = at::cat({hPrev.view({B * T, H}).t().mm(dz2.narrow(1, 0, 2 * H)),
                                   resetByT.view({B * T, H}).t().mm(dz2.narrow(1, 2 * H, H))}, 1);
  at::Tensor dBias = dz2.sum(0);
  return returnTensors(info.Env(), {dx, dKernel, dRecurrent, dBias});
}

void registerRnn(Napi::Env env, Napi::Object exports) {
  exports.Set("lstmSequence", Napi::Function::New(env, LstmSequence));
  exports.Set("lstmSequenceGrad", Napi::Function::New(env, LstmSequenceGrad));
  exports.Set("gruSequence", Napi::Function::New(env, GruSequence));
  exports.Set("gruSequenceGrad", Napi::Function::New(env, GruSequenceGrad));
}

}  // namespace aten_backend
