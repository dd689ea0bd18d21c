// npm `install` script of tfjs-backend-aten: builds the N-API addon when libtorch is present.
// Never fails the install because libtorch is missing: the backend then reports itself unavailable
// (registerAtenBackend() returns false) and ganforge keeps using the other backends.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { findLibtorch } from './libtorch-paths.mjs';

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = path.join(packageDir, 'build');
// The configuration a build was made for; a change (other LIBTORCH_DIR) forces a fresh configure.
const stampFile = path.join(buildDir, 'ganforge-configure.json');

const libtorch = findLibtorch();
if (!libtorch || libtorch.error) {
  console.log(`tfjs-backend-aten: ${libtorch?.error ?? 'libtorch not found (set LIBTORCH_DIR or apt-get install libtorch-dev)'}; skipping the native build, the 'aten' backend will be unavailable.`);
  process.exit(0);
}

const nodeGyp = locateNodeGyp();
if (!nodeGyp) {
  console.log('tfjs-backend-aten: node-gyp not found; skipping the native build, the \'aten\' backend will be unavailable.');
  process.exit(0);
}

const wanted = JSON.stringify({ libtorch, node: process.version });
const configured = fs.existsSync(path.join(buildDir, 'Makefile')) && fs.existsSync(stampFile) &&
  fs.readFileSync(stampFile, 'utf8') === wanted;
if (!configured || fs.statSync(path.join(packageDir, 'binding.gyp')).mtimeMs > fs.statSync(stampFile).mtimeMs) {
  run(['configure']);
  fs.writeFileSync(stampFile, wanted);
}
// Up to date (addon newer than every native source): skip node-gyp, so a repeated set-up stays quiet.
const addon = path.join(buildDir, 'Release', 'aten_backend.node');
const sources = [path.join(packageDir, 'binding.gyp'), ...fs.readdirSync(path.join(packageDir, 'native')).map((f) => path.join(packageDir, 'native', f))];
if (fs.existsSync(addon) && sources.every((f) => fs.statSync(f).mtimeMs < fs.statSync(addon).mtimeMs)) process.exit(0);
// Two compile jobs by default: each translation unit including ATen needs ~1 GB and ~5 s.
const jobs = process.env.JOBS ?? String(Math.min(2, os.availableParallelism()));
run(['build', '-j', jobs]);

function run(args) {
  // Use the headers installed next to this node binary when present: no download needed.
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const local = fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi')) ? [`--nodedir=${prefix}`] : [];
  const r = spawnSync(process.execPath, [nodeGyp, ...args, ...local], { cwd: packageDir, stdio: 'inherit' });
  if (r.status !== 0) {
    // A compile error in our own sources is a real failure, unlike a missing libtorch.
    console.error(`tfjs-backend-aten: node-gyp ${args[0]} failed (exit ${r.status})`);
    // During `npm install` a broken libtorch must not break the whole install: report and go on
    // without the backend. An explicit `npm run build` does fail, so developers see the error.
    process.exit(process.env.npm_lifecycle_event === 'install' ? 0 : (r.status ?? 1));
  }
}

function locateNodeGyp() {
  const require = createRequire(import.meta.url);
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    // npm bundles node-gyp; npm_config_node_gyp points at it during npm scripts.
    const bundled = process.env.npm_config_node_gyp;
    return bundled && fs.existsSync(bundled) ? bundled : null;
  }
}
