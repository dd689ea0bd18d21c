#!/usr/bin/env bash
# The whole suite in one node:test run: ganforge's tests and the native backend's (when it is built).
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(dist/test/)
if [ -d packages/tfjs-backend-aten/dist/test ]; then targets+=(packages/tfjs-backend-aten/dist/test/); fi
exec node --test --test-reporter=spec "${targets[@]}"
