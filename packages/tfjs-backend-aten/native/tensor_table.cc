// The handle table, tensor transfer (write/read/free), memory accounting and runtime setup.
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <climits>
#include <cstdlib>
#include <cstring>
#include <unordered_set>

#include "common.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace aten_backend {

namespace {
std::vector<at::Tensor> g_tensors(1);  // slot 0 is never used: 0 is not a valid handle
std::vector<uint32_t> g_freeSlots;
size_t g_liveCount = 0;
at::Device g_device(at::kCPU);
// Shared with JS (src/native.ts): output dtype/shape records.
int32_t* g_meta = nullptr;
size_t g_metaLength = 0;
Napi::Reference<Napi::Int32Array> g_metaRef;
}  // namespace

at::ScalarType toScalarType(int32_t code) {
  switch (code) {
    case kFloat32: return at::kFloat;
    case kInt32: return at::kInt;
    case kBool: return at::kBool;
  }
  throw std::invalid_argument("unsupported dtype code " + std::to_string(code));
}

int32_t toDtypeCode(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return kFloat32;
    case at::kInt: return kInt32;
    case at::kBool: return kBool;
    default: throw std::invalid_argument(std::string("no tfjs dtype for ") + c10::toString(t));
  }
}

const at::Device& device() { return g_device; }
at::TensorOptions options(int32_t dtypeCode) { return at::TensorOptions().dtype(toScalarType(dtypeCode)).device(g_device); }

const at::Tensor& tensorAt(uint32_t id) {
  if (id == 0 || id >= g_tensors.size() || !g_tensors[id].defined()) {
    throw std::invalid_argument("invalid or disposed tensor handle " + std::to_string(id));
  }
  return g_tensors[id];
}

uint32_t storeTensor(at::Tensor t) {
  // tfjs knows float32/int32/bool only: narrow what ATen widens (int64 indices, double).
  switch (t.scalar_type()) {
    case at::kFloat: case at::kInt: case at::kBool: break;
    case at::kLong: case at::kShort: case at::kChar: case at::kByte: t = t.to(at::kInt); break;
    default: t = t.to(at::kFloat); break;
  }
  uint32_t id;
  if (!g_freeSlots.empty()) {
    id = g_freeSlots.back();
    g_freeSlots.pop_back();
    g_tensors[id] = std::move(t);
  } else {
    id = static_cast<uint32_t>(g_tensors.size());
    g_tensors.push_back(std::move(t));
  }
  ++g_liveCount;
  return id;
}

void relayoutTensor(uint32_t id, at::Tensor t) {
  const at::Tensor& old = tensorAt(id);
  TORCH_CHECK(t.sizes() == old.sizes() && t.scalar_type() == old.scalar_type(), "relayout must keep sizes and dtype");
  g_tensors[id] = std::move(t);
}

void freeTensor(uint32_t id) {
  tensorAt(id);  // validates
  g_tensors[id] = at::Tensor();
  g_freeSlots.push_back(id);
  --g_liveCount;
}

static size_t writeMeta(size_t offset, const at::Tensor& t) {
  const size_t need = offset + 2 + t.dim();
  if (need > g_metaLength) throw std::length_error("too many outputs for the meta buffer");
  g_meta[offset] = toDtypeCode(t.scalar_type());
  g_meta[offset + 1] = static_cast<int32_t>(t.dim());
  for (int64_t d = 0; d < t.dim(); ++d) g_meta[offset + 2 + d] = static_cast<int32_t>(t.size(d));
  return need;
}

Napi::Value returnTensor(Napi::Env env, at::Tensor t) {
  uint32_t id = storeTensor(std::move(t));
  writeMeta(0, g_tensors[id]);
  return Napi::Number::New(env, id);
}

Napi::Value returnTensors(Napi::Env env, const std::vector<at::Tensor>& ts) {
  Napi::Array ids = Napi::Array::New(env, ts.size());
  size_t offset = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    uint32_t id = storeTensor(ts[i]);
    offset = writeMeta(offset, g_tensors[id]);
    ids.Set(i, Napi::Number::New(env, id));
  }
  return ids;
}

const at::Tensor& argTensor(const Napi::CallbackInfo& info, size_t i) {
  return tensorAt(info[i].As<Napi::Number>().Uint32Value());
}
int64_t argInt(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }
double argDouble(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
bool argBool(const Napi::CallbackInfo& info, size_t i) { return info[i].ToBoolean().Value(); }
std::string argString(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::String>().Utf8Value(); }

std::vector<int64_t> argInts(const Napi::CallbackInfo& info, size_t i) {
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<int64_t> v(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) v[k] = a.Get(k).As<Napi::Number>().Int64Value();
  return v;
}

std::vector<double> argDoubles(const Napi::CallbackInfo& info, size_t i) {
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<double> v(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) v[k] = a.Get(k).As<Napi::Number>().DoubleValue();
  return v;
}

namespace {
// tfjs frees a step's intermediates when its scope closes, all at once, so the heap peaks every step and glibc
// returns the top of it to the kernel (trim), to take it back the next step page by page: on the StyleGAN2 bench
// ~1.3 M page faults per profile run, half the system time. Keeping freed memory in the heap (blocks up to
// 32 MiB, glibc's largest heap threshold) makes a step reuse the last one's pages: 0.27 M faults. GANFORGE_KEEP_HEAP=0
// leaves glibc's defaults.
void keepFreedHeap() {
#if defined(__GLIBC__)
  const char* keep = std::getenv("GANFORGE_KEEP_HEAP");
  if (keep && std::string(keep) == "0") return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, INT_MAX);
#endif
}
}  // namespace

// OpenBLAS's own thread pool (weak: absent where libtorch's BLAS is another). at::set_num_threads sets OpenMP's count
// and MKL's, not OpenBLAS's, whose pthread build starts one worker per core that spins (sched_yield) between GEMMs:
// at GANFORGE_THREADS=1 that worker burnt a second core (an acgan step: 25 CPU-seconds where 13 do the work), and
// two ranks or two processes on one machine each kept one spinning.
extern "C" void openblas_set_num_threads(int) __attribute__((weak));
extern "C" int openblas_get_num_threads() __attribute__((weak));

// init(metaBuffer, threads, device)
ATEN_BINDING(Init, "init") {
  Napi::Int32Array meta = info[0].As<Napi::Int32Array>();
  g_metaRef = Napi::Persistent(meta);
  g_meta = meta.Data();
  g_metaLength = meta.ElementLength();
  int64_t threads = argInt(info, 1);
  if (threads > 0) {
    at::set_num_threads(static_cast<int>(threads));
    if (openblas_set_num_threads) openblas_set_num_threads(static_cast<int>(threads));
  }
  std::string dev = argString(info, 2);
  if (dev == "cuda" || dev.rfind("cuda:", 0) == 0) {
    if (!at::hasCUDA()) {
      throw std::runtime_error("GANFORGE_DEVICE=" + dev + " but this libtorch has no CUDA support or no GPU is visible "
                               "(build against a CUDA libtorch with LIBTORCH_DIR)");
    }
    g_device = at::Device(dev);
    // PyTorch's defaults: cuDNN convolutions may use TF32 (10-bit mantissa, ~1e-3 relative), cuBLAS matmuls not.
    // GANFORGE_TF32=0 keeps convolutions in float32 too (the kernel tests compare against the cpu backend so).
    const char* tf32 = std::getenv("GANFORGE_TF32");
    if (tf32 && std::string(tf32) == "0") {
      at::globalContext().setAllowTF32CuDNN(false);
      at::globalContext().setAllowTF32CuBLAS(false);
    }
  } else if (dev == "cpu" || dev.empty()) {
    g_device = at::Device(at::kCPU);
    keepFreedHeap();
  } else {
    throw std::invalid_argument("unknown GANFORGE_DEVICE '" + dev + "' (expected cpu or cuda)");
  }
  return info.Env().Undefined();
}

ATEN_BINDING(Info, "info") {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("libtorchVersion", TORCH_VERSION);
  o.Set("device", g_device.str());
  o.Set("threads", at::get_num_threads());
  std::string config = at::show_config();
  std::string blas = "unknown";
  auto pos = config.find("BLAS_INFO=");
  if (pos != std::string::npos) blas = config.substr(pos + 10, config.find_first_of(", \n", pos + 10) - pos - 10);
  o.Set("blas", blas);
  o.Set("blasThreads", openblas_get_num_threads ? openblas_get_num_threads() : -1);
  o.Set("mkldnn", at::hasMKLDNN());
  return o;
}

// write(typedArray, shape, dtypeCode): copies the JS values into a new tensor.
ATEN_BINDING(Write, "write") {
  Napi::TypedArray values = info[0].As<Napi::TypedArray>();
  std::vector<int64_t> shape = argInts(info, 1);
  at::ScalarType type = toScalarType(static_cast<int32_t>(argInt(info, 2)));
  int64_t numel = 1;
  for (int64_t d : shape) numel *= d;
  if (static_cast<int64_t>(values.ByteLength()) != numel * static_cast<int64_t>(c10::elementSize(type))) {
    throw std::invalid_argument("value count does not match the shape");
  }
  at::Tensor t;
  if (numel == 0) {
    t = at::empty(shape, at::TensorOptions().dtype(type).device(g_device));
  } else {
    auto* data = static_cast<uint8_t*>(values.ArrayBuffer().Data()) + values.ByteOffset();
    // from_blob borrows the JS buffer; clone/to make the tensor own its memory before returning.
    at::Tensor borrowed = at::from_blob(data, shape, at::TensorOptions().dtype(type));
    t = g_device.is_cpu() ? borrowed.clone() : borrowed.to(g_device, /*non_blocking=*/false, /*copy=*/true);
  }
  return Napi::Number::New(info.Env(), storeTensor(std::move(t)));
}

// read(id): a fresh ArrayBuffer with the values in row-major order.
ATEN_BINDING(Read, "read") {
  at::Tensor t = tensorAt(info[0].As<Napi::Number>().Uint32Value()).to(at::kCPU).contiguous();
  size_t bytes = t.numel() * t.element_size();
  Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(info.Env(), bytes);
  if (bytes > 0) std::memcpy(buf.Data(), t.data_ptr(), bytes);
  return buf;
}

ATEN_BINDING(Free, "free") {
  freeTensor(info[0].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}

// Bytes held by live handles; views sharing one storage count once.
ATEN_BINDING(MemoryBytes, "memory") {
  std::unordered_set<const void*> seen;
  double bytes = 0;
  for (const at::Tensor& t : g_tensors) {
    if (!t.defined()) continue;
    const auto& storage = t.storage();
    if (seen.insert(storage.unsafeGetStorageImpl()).second) bytes += static_cast<double>(storage.nbytes());
  }
  return Napi::Number::New(info.Env(), bytes);
}

ATEN_BINDING(LiveCount, "count") { return Napi::Number::New(info.Env(), static_cast<double>(g_liveCount)); }

void registerTensorTable(Napi::Env env, Napi::Object exports) {
  exports.Set("init", Napi::Function::New(env, Init));
  exports.Set("info", Napi::Function::New(env, Info));
  exports.Set("write", Napi::Function::New(env, Write));
  exports.Set("read", Napi::Function::New(env, Read));
  exports.Set("free", Napi::Function::New(env, Free));
  exports.Set("memory", Napi::Function::New(env, MemoryBytes));
  exports.Set("count", Napi::Function::New(env, LiveCount));
}

}  // namespace aten_backend
