#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine (root, Node 20): system packages, npm packages, the native
# ATen backend, the TypeScript build. Each part runs only when something is missing or out of date, so a
# second run installs nothing. Extra apt packages can be named in GANFORGE_EXTRA_APT (the benches add
# python3-torch; chromium is for the studio's browser tests, python3-numpy for the .npy interchange test, the fonts
# for font-digits, which its tests render).
set -euo pipefail
cd "$(dirname "$0")/.."

apt_packages=(dataset-fashion-mnist libtorch-dev libgloo-dev libopenblas0-pthread chromium python3-numpy fonts-dejavu-core fonts-liberation fonts-freefont-ttf ${GANFORGE_EXTRA_APT:-})
missing=()
for p in "${apt_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "ganforge setup: apt-get install ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "ganforge setup: missing system packages: ${missing[*]} (install them with apt-get as root); continuing without them"
  fi
fi

# npm packages: install when node_modules is missing or older than the manifest/lock.
if [ ! -f node_modules/.package-lock.json ] || [ package.json -nt node_modules/.package-lock.json ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ] || [ packages/tfjs-backend-aten/package.json -nt node_modules/.package-lock.json ]; then
  echo "ganforge setup: npm install"
  npm install --no-audit --no-fund --loglevel=error 2>&1 | grep -v "Unknown user config" || true
  touch node_modules/.package-lock.json
fi

# The native backend: built when libtorch is present (incremental; prints one line when it is not).
node packages/tfjs-backend-aten/scripts/build-native.mjs

# TypeScript: incremental builds, near-instant when nothing changed.
for cfg in packages/tfjs-backend-aten/tsconfig.json packages/tfjs-backend-aten/tsconfig.test.json; do
  if [ -f "$cfg" ]; then npx tsc -p "$cfg" --incremental; fi
done
npx tsc -p tsconfig.json --incremental

# The studio page and vendored TF.js (dist/studio-web): rebuilt only when its sources or the lock file changed.
# The vendored TF.js bundles ganforge's own layers (src/nn), so that a model holding them loads in the browser.
if [ ! -f dist/studio-web/index.html ] || [ -n "$(find src/studio/web src/studio/generator_core.ts src/studio/translate_page.ts src/studio/style_core.ts src/studio/style_page.ts src/nn package-lock.json -newer dist/studio-web/index.html -print -quit)" ]; then
  echo "ganforge setup: npm run build:studio"
  npm run --silent build:studio
fi
