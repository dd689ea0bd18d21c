#!/usr/bin/env bash
# The whole suite in one node:test run: ganforge's tests and the native backend's (when it is built).
# Only *.test.js files are tests; other files under dist/test are fixtures and helpers they start.
set -euo pipefail
cd "$(dirname "$0")/.."
roots=(dist/test)
if [ -d packages/tfjs-backend-aten/dist/test ]; then roots+=(packages/tfjs-backend-aten/dist/test); fi
mapfile -t files < <(find "${roots[@]}" -name '*.test.js' | sort)
# Test files run side by side, one per core (at least two unless GANFORGE_TEST_JOBS says: much of a CLI test is
# process start-up and file I/O, which leave a core idle), each with one ATen thread so that they do not fight over
# cores; GANFORGE_THREADS and GANFORGE_TEST_JOBS override. First-use dataset installs take a lock (src/util/install_lock.ts), so files that
# need the same dataset install it once.
jobs=${GANFORGE_TEST_JOBS:-$(nproc)}
if ! [[ "$jobs" =~ ^[1-9][0-9]*$ ]]; then echo "GANFORGE_TEST_JOBS must be a positive integer, got '$jobs'" >&2; exit 2; fi
if [ -z "${GANFORGE_TEST_JOBS:-}" ] && [ "$jobs" -lt 2 ]; then jobs=2; fi
export GANFORGE_THREADS=${GANFORGE_THREADS:-1}
# --test-force-exit: a test file whose test finished (or failed) while leaving a handle open (a browser, a
# child process) still ends, instead of holding CI until its time limit; --test-timeout bounds each test.
exec node --test --test-concurrency="$jobs" --test-force-exit --test-timeout=600000 --test-reporter=spec "${files[@]}"
