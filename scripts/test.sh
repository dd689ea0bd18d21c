#!/usr/bin/env bash
# The whole suite in one node:test run: ganforge's tests and the native backend's (when it is built).
# Only *.test.js files are tests; other files under dist/test are fixtures and helpers they start.
set -euo pipefail
cd "$(dirname "$0")/.."
roots=(dist/test)
if [ -d packages/tfjs-backend-aten/dist/test ]; then roots+=(packages/tfjs-backend-aten/dist/test); fi
mapfile -t files < <(find "${roots[@]}" -name '*.test.js' | sort)
# --test-force-exit: a test file whose test finished (or failed) while leaving a handle open (a browser, a
# child process) still ends, instead of holding CI until its time limit; --test-timeout bounds each test.
exec node --test --test-force-exit --test-timeout=600000 --test-reporter=spec "${files[@]}"
