// Data-parallel collectives on PyTorch's c10d: a TCPStore/FileStore rendezvous and a Gloo (CPU) or NCCL (GPU)
// process group. All c10d code of the addon lives here, with version guards for libtorch 1.13 (Debian) and 2.x.
//
// Rules this file keeps:
// - Collectives are *issued* on the JS thread, in JS call order: c10d matches operations across ranks by the
//   order they are issued, so async and sync calls may interleave as long as every rank makes the same calls.
//   Only the waiting happens off the JS thread (async variants) or on it (the *Sync variants).
// - Every c10d call runs inside a try/catch that turns c10::Error / std::exception into a JS Error: an
//   uncaught c10::Error (a timeout, a dead peer) would abort the whole process.
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "common.h"

#if defined(USE_C10D_GLOO) || defined(USE_C10D_NCCL)
#define GANFORGE_C10D 1
#include <torch/csrc/distributed/c10d/FileStore.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <c10/core/DeviceGuard.h>
#endif
#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace aten_backend {

#ifdef GANFORGE_C10D
namespace {

using ms = std::chrono::milliseconds;
// 2.x split the communication backends (ProcessGroupGloo, ProcessGroupNCCL) from ProcessGroup into Backend;
// in 1.13 they are ProcessGroups. Both bases offer the same collective signatures used here.
#if TORCH_VERSION_MAJOR >= 2
using Comm = c10d::Backend;
#else
using Comm = c10d::ProcessGroup;
#endif
using WorkPtr = c10::intrusive_ptr<c10d::Work>;

enum Kind : int { kAllReduce = 0, kBroadcast = 1 };
enum Op : int { kSum = 0, kAvg = 1, kMax = 2, kMin = 3 };
enum CheckSizes : int { kCheckNever = 0, kCheckFirst = 1, kCheckAlways = 2 };

struct Group {
  c10::intrusive_ptr<c10d::Store> store;  // on rank 0 of a TCPStore: the server, alive as long as the group
  c10::intrusive_ptr<Comm> comm;
  int size = 1;
  at::Device device{at::kCPU};  // where the collectives run: CPU for Gloo, cuda:LOCAL_RANK for NCCL
  ms timeout{0};
  int checkSizes = kCheckFirst;
  int64_t collectives = 0;  // tensor collectives issued so far: the same count on every rank
};

// Never freed: at process exit a group's destructor would join Gloo's threads, which can block on a dead
// peer or run after the libraries it needs are gone. The OS reclaims the sockets.
std::unordered_map<uint32_t, std::shared_ptr<Group>>& groups() {
  static auto* table = new std::unordered_map<uint32_t, std::shared_ptr<Group>>();
  return *table;
}
uint32_t g_nextGroupId = 1;

std::shared_ptr<Group> groupAt(const Napi::CallbackInfo& info, size_t i) {
  auto it = groups().find(info[i].As<Napi::Number>().Uint32Value());
  if (it == groups().end()) throw std::runtime_error("process group destroyed");
  return it->second;
}

std::string describe(const std::exception& e) {
  if (auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

// Waits a little longer than the backend's own timeout so that c10d's (more telling) error comes first;
// the bound itself keeps a stuck peer from blocking the caller forever.
void waitFor(const Group& g, const WorkPtr& w) { w->wait(g.timeout + ms(1000)); }

WorkPtr issue(Group& g, int kind, at::Tensor& flat, int arg) {
  std::vector<at::Tensor> v{flat};
  if (kind == kBroadcast) {
    c10d::BroadcastOptions o;
    o.rootRank = arg;
    o.timeout = g.timeout;
    return g.comm->broadcast(v, o);
  }
  c10d::AllreduceOptions o;
  // Gloo has no AVG: 'avg' is a sum divided by the world size, the same on both backends.
  o.reduceOp = arg == kMax ? c10d::ReduceOp::MAX : arg == kMin ? c10d::ReduceOp::MIN : c10d::ReduceOp::SUM;
  o.timeout = g.timeout;
  return g.comm->allreduce(v, o);
}

// Tensors flattened into buckets: one collective per bucket, members of one dtype, at most bucketBytes
// unless a single tensor is larger. The grouping depends only on sizes and order, so it is the same on
// every rank that passes the same tensors.
struct Bucket {
  at::ScalarType type;
  std::vector<size_t> members;
  int64_t numel = 0;
};

std::vector<Bucket> makeBuckets(const std::vector<at::Tensor>& ts, int64_t bucketBytes) {
  std::vector<Bucket> buckets;
  std::unordered_map<int, size_t> open;  // dtype -> index of its bucket being filled
  for (size_t i = 0; i < ts.size(); ++i) {
    const at::ScalarType type = ts[i].scalar_type();
    if (type != at::kFloat && type != at::kInt) {
      throw std::invalid_argument(std::string("collectives take float32 and int32 values, got ") + c10::toString(type));
    }
    const int64_t bytes = ts[i].numel() * 4;
    auto it = open.find(static_cast<int>(type));
    if (it == open.end() || (buckets[it->second].numel * 4 + bytes > bucketBytes && !buckets[it->second].members.empty())) {
      buckets.push_back(Bucket{type, {}, 0});
      open[static_cast<int>(type)] = buckets.size() - 1;
      it = open.find(static_cast<int>(type));
    }
    buckets[it->second].members.push_back(i);
    buckets[it->second].numel += ts[i].numel();
  }
  return buckets;
}

// Ranks passing different sizes would make Gloo fail obscurely (or read past a buffer), so the first
// collective of a group (or every one, with checkSizes 'always') first compares a summary of the call across
// ranks: one all-reduce MAX of [s, -s], where max(s) == -max(-s) holds only when every rank has the same s.
void checkAgreement(Group& g, int kind, int arg, const std::vector<Bucket>& buckets, const char* what) {
  const bool check = g.checkSizes == kCheckAlways || (g.checkSizes == kCheckFirst && g.collectives == 0);
  ++g.collectives;
  if (!check || g.size == 1) return;
  int64_t total = 0, weighted = 0;
  for (size_t b = 0; b < buckets.size(); ++b) {
    total += buckets[b].numel;
    weighted = (weighted + static_cast<int64_t>(b + 1) * (buckets[b].numel * 2 + (buckets[b].type == at::kInt))) % (int64_t(1) << 40);
  }
  const int64_t mine[] = {kind, arg, static_cast<int64_t>(buckets.size()), total, weighted};
  const int n = 5;
  at::Tensor s = at::empty({2 * n}, at::kLong);
  int64_t* q = s.data_ptr<int64_t>();
  for (int k = 0; k < n; ++k) q[k] = mine[k], q[n + k] = -mine[k];
  at::Tensor onDevice = s.to(g.device);
  std::vector<at::Tensor> v{onDevice};
  c10d::AllreduceOptions o;
  o.reduceOp = c10d::ReduceOp::MAX;
  o.timeout = g.timeout;
  waitFor(g, g.comm->allreduce(v, o));
  at::Tensor r = onDevice.to(at::kCPU);
  auto* p = r.data_ptr<int64_t>();
  for (int k = 0; k < n; ++k) {
    if (p[k] != -p[n + k]) {
      static const char* names[] = {"operation", kind == kBroadcast ? "root" : "reduce op", "bucket count", "element count",
                                    "bucket layout"};
      throw std::runtime_error(std::string(what) + ": ranks disagree on the " + names[k] + " (this rank " +
                               std::to_string(mine[k]) + ", across ranks " + std::to_string(-p[n + k]) + ".." +
                               std::to_string(p[k]) + "); every rank must pass the same tensor sizes in the same order");
    }
  }
}

// Bucket memory for CPU groups, reused across calls. A fresh 40 MB buffer per call cost more than the
// all-reduce itself on this VM (page faults: ~300 ms for 40 MB under load, vs ~60 ms reusing warm memory),
// and a training step reduces the same sizes every time. A bucket's storage comes back here when its last
// view (the result tensors tfjs owns) is freed, from whichever thread drops it; never destroyed, like the groups.
class BucketPool {
 public:
  at::Tensor take(int64_t numel, at::ScalarType type) {
    const size_t bytes = std::max<size_t>(1, numel * c10::elementSize(type));
    void* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(bytes);
      if (it != free_.end()) {
        p = it->second;
        free_.erase(it);
        freeBytes_ -= bytes;
      }
    }
    if (!p && !(p = std::malloc(bytes))) throw std::bad_alloc();
    return at::from_blob(p, {numel}, [this, bytes](void* q) { give(q, bytes); }, at::TensorOptions().dtype(type));
  }

 private:
  void give(void* p, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    if (freeBytes_ + bytes > kMaxFreeBytes) return std::free(p);
    free_.emplace(bytes, p);
    freeBytes_ += bytes;
  }
  static constexpr size_t kMaxFreeBytes = size_t(128) << 20;  // idle memory kept at most
  std::mutex mu_;
  std::unordered_multimap<size_t, void*> free_;
  size_t freeBytes_ = 0;
};
BucketPool& bucketPool() {
  static auto* pool = new BucketPool();
  return *pool;
}

// The collectives of one call: issued at construction (on the JS thread), finished by finish().
struct Pending {
  std::shared_ptr<Group> group;
  std::vector<Bucket> buckets;
  std::vector<at::Tensor> flats;                 // one per bucket, on group->device
  std::vector<std::vector<at::Tensor>> targets;  // per bucket: where the results go (empty: flat is the target)
  std::vector<WorkPtr> works;
  bool average = false;

  void finish() {
    // NCCL work and the copies below must see the group's GPU as current, also on a worker thread.
    std::unique_ptr<c10::DeviceGuard> guard;
    if (!group->device.is_cpu()) guard = std::make_unique<c10::DeviceGuard>(group->device);
    for (const WorkPtr& w : works) waitFor(*group, w);
    for (size_t b = 0; b < flats.size(); ++b) {
      if (average) flats[b].div_(group->size);
      int64_t off = 0;
      for (at::Tensor& t : targets[b]) {
        const int64_t n = t.numel();
        t.copy_(flats[b].narrow(0, off, n));
        off += n;
      }
    }
  }
};

// Flattens, buckets and issues. `writeBack`: the results go back into `ts` (the JS buffers); a bucket of one
// buffer on a CPU group is then reduced where it lies instead of through a copy.
Pending start(const std::shared_ptr<Group>& g, const std::vector<at::Tensor>& ts, int kind, int arg,
              int64_t bucketBytes, bool writeBack, const char* what) {
  if (kind == kBroadcast && (arg < 0 || arg >= g->size)) {
    throw std::invalid_argument("broadcast root " + std::to_string(arg) + " is not a rank of this group (size " +
                                std::to_string(g->size) + ")");
  }
  if (kind == kAllReduce && arg == kAvg) {
    for (const at::Tensor& t : ts) {
      if (t.scalar_type() != at::kFloat) throw std::invalid_argument("'avg' needs float32 values (int32 would truncate)");
    }
  }
  Pending p;
  p.group = g;
  p.buckets = makeBuckets(ts, bucketBytes);
  p.average = kind == kAllReduce && arg == kAvg;
  checkAgreement(*g, kind, arg, p.buckets, what);
  for (const Bucket& b : p.buckets) {
    std::vector<at::Tensor> parts;
    for (size_t i : b.members) parts.push_back(ts[i].reshape(-1));
    const bool inPlace = writeBack && parts.size() == 1 && g->device.is_cpu();
    // A copy (the caller's tensors stay untouched) into one contiguous tensor, as Gloo wants.
    at::Tensor flat;
    if (inPlace) {
      flat = parts[0];
    } else if (g->device.is_cpu() && parts[0].device().is_cpu()) {
      flat = bucketPool().take(b.numel, b.type);
      at::cat_out(flat, parts, 0);
    } else {
      flat = at::cat(parts).to(g->device);  // on CUDA the caching allocator already reuses memory
    }
    p.flats.push_back(flat);
    p.targets.push_back(writeBack && !inPlace ? parts : std::vector<at::Tensor>());
    if (b.numel > 0) p.works.push_back(issue(*g, kind, flat, arg));
  }
  return p;
}

std::vector<at::Tensor> bufferTensors(Napi::Array arr) {
  std::vector<at::Tensor> ts;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    Napi::Value v = arr.Get(i);
    if (!v.IsTypedArray()) throw std::invalid_argument("buffers must be Float32Array or Int32Array");
    Napi::TypedArray ta = v.As<Napi::TypedArray>();
    at::ScalarType type;
    switch (ta.TypedArrayType()) {
      case napi_float32_array: type = at::kFloat; break;
      case napi_int32_array: type = at::kInt; break;
      default: throw std::invalid_argument("buffers must be Float32Array or Int32Array");
    }
    auto* data = static_cast<uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    // Borrows the JS memory: the caller keeps the array alive (and untouched) until the operation ends.
    ts.push_back(at::from_blob(data, {static_cast<int64_t>(ta.ElementLength())}, at::TensorOptions().dtype(type)));
  }
  return ts;
}

// Runs `body` on a libuv worker thread and settles a promise: resolved with `result()` (JS thread), or
// rejected with an Error carrying c10d's message.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, std::function<void()> body, std::function<Napi::Value(Napi::Env)> result,
                Napi::Value keepAlive)
      : Napi::AsyncWorker(env, "ganforge:c10d"), deferred_(Napi::Promise::Deferred::New(env)), body_(std::move(body)),
        result_(std::move(result)) {
    if (keepAlive.IsObject()) keep_ = Napi::Persistent(keepAlive.As<Napi::Object>());
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      body_();
    } catch (const std::exception& e) {
      SetError(describe(e));
    } catch (...) {
      SetError("unknown error in a c10d operation");
    }
  }
  void OnOK() override { deferred_.Resolve(result_ ? result_(Env()) : Env().Undefined()); }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> body_;
  std::function<Napi::Value(Napi::Env)> result_;
  Napi::ObjectReference keep_;
};

Napi::Value runAsync(Napi::Env env, std::function<void()> body, std::function<Napi::Value(Napi::Env)> result = nullptr,
                     Napi::Value keepAlive = Napi::Value()) {
  auto* w = new PromiseWorker(env, std::move(body), std::move(result), keepAlive);
  Napi::Promise p = w->promise();
  w->Queue();  // the worker deletes itself after OnOK/OnError
  return p;
}

std::string optString(Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}
int64_t optInt(Napi::Object o, const char* key, int64_t fallback) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : fallback;
}

struct InitArgs {
  int rank, size, localRank, checkSizes;
  bool hostStore;
  std::string storeKind, masterAddr, file, iface, hostname, backend;
  int masterPort;
  ms timeout;
};

std::shared_ptr<Group> createGroup(const InitArgs& a) {
  auto g = std::make_shared<Group>();
  g->size = a.size;
  g->timeout = a.timeout;
  g->checkSizes = a.checkSizes;
  // Every rank announces itself and waits for the others: a missing rank fails here, with the store's
  // timeout, for every store and backend (NCCL would otherwise only notice at its first collective).
  try {
    if (a.storeKind == "tcp") {
      c10d::TCPStoreOptions o;
      o.port = static_cast<uint16_t>(a.masterPort);
      // Rank 0 hosts the store, unless a launcher already does (torchrun's agent: every rank is a client).
      o.isServer = a.hostStore;
      o.numWorkers = static_cast<size_t>(a.size);
      // Not TCPStore's own wait for workers (it took ~2.5x the timeout to give up): the key wait below.
      o.waitWorkers = false;
      o.timeout = a.timeout;
      g->store = c10::make_intrusive<c10d::TCPStore>(a.masterAddr, o);
    } else {
      g->store = c10::make_intrusive<c10d::FileStore>(a.file, a.size);
      g->store->setTimeout(a.timeout);
    }
    g->store->set("ganforge/arrived/" + std::to_string(a.rank), std::vector<uint8_t>{1});
    std::vector<std::string> keys;
    for (int r = 0; r < a.size; ++r) keys.push_back("ganforge/arrived/" + std::to_string(r));
    g->store->wait(keys, a.timeout);
  } catch (const std::exception& e) {
    const std::string where = a.storeKind == "tcp" ? "TCPStore " + a.masterAddr + ":" + std::to_string(a.masterPort)
                                                   : "FileStore " + a.file;
    throw std::runtime_error("rank " + std::to_string(a.rank) + ": rendezvous of " + std::to_string(a.size) +
                             " ranks failed within the " + std::to_string(a.timeout.count()) + " ms timeout (" + where +
                             "): " + describe(e));
  }
  if (a.backend == "gloo") {
#ifdef USE_C10D_GLOO
    auto o = c10d::ProcessGroupGloo::Options::create(a.timeout);
    // The device decides which address peers connect to: an explicit interface, else a hostname/address.
    o->devices.push_back(!a.iface.empty() ? c10d::ProcessGroupGloo::createDeviceForInterface(a.iface)
                                          : c10d::ProcessGroupGloo::createDeviceForHostname(a.hostname));
    g->comm = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, a.rank, a.size, o);
#endif
  } else {
#ifdef USE_C10D_NCCL
    // Blocking wait: wait() then throws on a timeout or a dead peer instead of NCCL's watchdog tearing the
    // process down. Read when the group is created; a value the user set wins.
#if TORCH_VERSION_MAJOR >= 2
    setenv("TORCH_NCCL_BLOCKING_WAIT", "1", 0);
#else
    setenv("NCCL_BLOCKING_WAIT", "1", 0);  // the 1.x name (2.x warns that it is deprecated)
#endif
    g->device = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(a.localRank));
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(a.localRank));
    auto o = c10d::ProcessGroupNCCL::Options::create();
    o->timeout = a.timeout;
    g->comm = c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, a.rank, a.size, o);
#endif
  }
  return g;
}

}  // namespace

static std::vector<std::string> compiledBackends() {
  std::vector<std::string> b;
#ifdef USE_C10D_GLOO
  b.push_back("gloo");
#endif
#ifdef USE_C10D_NCCL
  b.push_back("nccl");
#endif
  return b;
}
#else
static std::vector<std::string> compiledBackends() { return {}; }
#endif  // GANFORGE_C10D

static const char* kUnavailable =
    "distributed unavailable: install libgloo-dev (apt-get install libgloo-dev) and rebuild the addon; it was "
    "compiled without c10d's Gloo headers";

ATEN_BINDING(DistAvailable, "distributed") {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  std::vector<std::string> backends = compiledBackends();
  o.Set("ok", !backends.empty());
  if (backends.empty()) o.Set("why", kUnavailable);
  Napi::Array arr = Napi::Array::New(env, backends.size());
  for (size_t i = 0; i < backends.size(); ++i) arr.Set(i, backends[i]);
  o.Set("backends", arr);
  return o;
}

#ifdef GANFORGE_C10D
// distInit({rank, worldSize, storeKind, masterAddr, masterPort, file, iface, hostname, timeoutMs, backend,
//           localRank, checkSizes}) -> Promise<group id>
ATEN_BINDING(DistInit, "distributed init") {
  Napi::Object o = info[0].As<Napi::Object>();
  InitArgs a;
  a.rank = static_cast<int>(optInt(o, "rank", -1));
  a.size = static_cast<int>(optInt(o, "worldSize", 0));
  a.localRank = static_cast<int>(optInt(o, "localRank", 0));
  a.checkSizes = static_cast<int>(optInt(o, "checkSizes", kCheckFirst));
  a.storeKind = optString(o, "storeKind");
  a.masterAddr = optString(o, "masterAddr");
  a.masterPort = static_cast<int>(optInt(o, "masterPort", 0));
  a.hostStore = optInt(o, "hostStore", a.rank == 0 ? 1 : 0) != 0;
  a.file = optString(o, "file");
  a.iface = optString(o, "iface");
  a.hostname = optString(o, "hostname");
  if (a.hostname.empty()) a.hostname = "127.0.0.1";
  a.backend = optString(o, "backend");
  a.timeout = ms(optInt(o, "timeoutMs", 0));
  if (a.size < 1 || a.rank < 0 || a.rank >= a.size) throw std::invalid_argument("rank must be in [0, worldSize)");
  if (a.timeout.count() <= 0) throw std::invalid_argument("timeoutMs must be positive");
  if (a.storeKind == "tcp" ? (a.masterPort <= 0 || a.masterPort > 65535 || a.masterAddr.empty())
                           : (a.storeKind != "file" || a.file.empty())) {
    throw std::invalid_argument("store must be {kind:'tcp', masterAddr, masterPort} or {kind:'file', file}");
  }
  std::vector<std::string> backends = compiledBackends();
  if (std::find(backends.begin(), backends.end(), a.backend) == backends.end()) {
    throw std::invalid_argument(
        a.backend == "gloo" ? std::string(kUnavailable)
        : a.backend == "nccl" ? "backend 'nccl' is not compiled into this addon (build against a CUDA libtorch with "
                                "ProcessGroupNCCL.hpp and nccl.h, see LIBTORCH_DIR)"
                              : "unknown backend '" + a.backend + "' (gloo or nccl)");
  }
  auto made = std::make_shared<std::shared_ptr<Group>>();
  return runAsync(
      info.Env(), [a, made] { *made = createGroup(a); },
      [made](Napi::Env env) {
        uint32_t id = g_nextGroupId++;
        groups()[id] = *made;
        return Napi::Number::New(env, id);
      });
}

// distTensors(group, handles, kind, arg, bucketBytes) -> handles of new tensors (meta written), synchronous.
ATEN_BINDING(DistTensors, "distributed collective") {
  std::shared_ptr<Group> g = groupAt(info, 0);
  std::vector<int64_t> handles = argInts(info, 1);
  const int kind = static_cast<int>(argInt(info, 2)), arg = static_cast<int>(argInt(info, 3));
  std::vector<at::Tensor> ts;
  for (int64_t h : handles) ts.push_back(tensorAt(static_cast<uint32_t>(h)));
  Pending p = start(g, ts, kind, arg, argInt(info, 4), /*writeBack=*/false,
                    kind == kBroadcast ? "broadcastSync" : "allReduceSync");
  p.finish();
  // Results are views of the reduced buckets, owned by the handle table like any kernel output.
  std::vector<at::Tensor> outs(ts.size());
  for (size_t b = 0; b < p.buckets.size(); ++b) {
    int64_t off = 0;
    for (size_t i : p.buckets[b].members) {
      outs[i] = p.flats[b].narrow(0, off, ts[i].numel()).view(ts[i].sizes()).to(device());
      off += ts[i].numel();
    }
  }
  return returnTensors(info.Env(), outs);
}

// distBuffers(group, buffers, kind, arg, bucketBytes, sync): in place on Float32Array/Int32Array buffers;
// returns undefined (sync) or a promise.
ATEN_BINDING(DistBuffers, "distributed collective") {
  std::shared_ptr<Group> g = groupAt(info, 0);
  Napi::Array arr = info[1].As<Napi::Array>();
  const int kind = static_cast<int>(argInt(info, 2)), arg = static_cast<int>(argInt(info, 3));
  const bool sync = argBool(info, 5);
  auto p = std::make_shared<Pending>(start(g, bufferTensors(arr), kind, arg, argInt(info, 4), /*writeBack=*/true,
                                           kind == kBroadcast ? "broadcast" : "allReduce"));
  if (sync) {
    p->finish();
    return info.Env().Undefined();
  }
  return runAsync(info.Env(), [p] { p->finish(); }, nullptr, arr);
}

ATEN_BINDING(DistBarrier, "distributed barrier") {
  std::shared_ptr<Group> g = groupAt(info, 0);
  c10d::BarrierOptions o;
  o.timeout = g->timeout;
  if (!g->device.is_cpu()) o.device_ids = {g->device.index()};
  WorkPtr w = g->comm->barrier(o);
  return runAsync(info.Env(), [g, w] { waitFor(*g, w); });
}

// Drops the group; its last reference (here, or in an operation still finishing) shuts the backend down.
ATEN_BINDING(DistDestroy, "distributed destroy") {
  groups().erase(info[0].As<Napi::Number>().Uint32Value());
  return info.Env().Undefined();
}
#endif  // GANFORGE_C10D

void registerDistributed(Napi::Env env, Napi::Object exports) {
  exports.Set("distAvailable", Napi::Function::New(env, DistAvailable));
#ifdef GANFORGE_C10D
  exports.Set("distInit", Napi::Function::New(env, DistInit));
  exports.Set("distTensors", Napi::Function::New(env, DistTensors));
  exports.Set("distBuffers", Napi::Function::New(env, DistBuffers));
  exports.Set("distBarrier", Napi::Function::New(env, DistBarrier));
  exports.Set("distDestroy", Napi::Function::New(env, DistDestroy));
#endif
}

}  // namespace aten_backend
