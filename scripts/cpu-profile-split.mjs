// Where a step's CPU time goes by layer of the stack, from a V8 CPU profile of a bench run:
//   node --single-threaded --cpu-prof --cpu-prof-dir=/tmp/prof dist/bench/attngan_speed.js --runs 1 --steps 15
//   node scripts/cpu-profile-split.mjs /tmp/prof/*.cpuprofile [ROOT_FUNCTION=stepRate]
// Samples under ROOT_FUNCTION are split into native kernels (the aten kernels' JS wrappers, which the profiler charges
// with the native call's time, and the in-place Adam), tfjs-core, tfjs-layers, the aten backend's own JS and
// ganforge's JS, as ms and shares.
import fs from 'node:fs';
const p = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const root = process.argv[3] ?? 'stepRate';
const byId = new Map(p.nodes.map(n => [n.id, n]));
const parent = new Map(); for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const counts = new Map(); for (let i = 0; i < p.samples.length; i++) counts.set(p.samples[i], (counts.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const cls = new Map(); let tot = 0;
for (const [id, t] of counts) {
  let cur = id, under = false; while (cur != null) { if (byId.get(cur).callFrame.functionName === root) { under = true; break; } cur = parent.get(cur); }
  if (!under) continue; tot += t;
  const n = byId.get(id); const url = n.callFrame.url;
  let c = url.includes('tfjs-backend-aten/dist/kernels') || n.callFrame.functionName === 'adamUpdateInPlace' ? 'native kernels'
    : url.includes('tfjs-backend-aten') ? 'aten js' : url.includes('tfjs-core') ? 'tfjs-core js' : url.includes('tfjs-layers') ? 'tfjs-layers js'
    : n.callFrame.functionName.startsWith('(garbage') ? 'gc' : url.includes('/dist/src') || url.includes('/dist/bench') ? 'ganforge js' : 'other:' + (n.callFrame.functionName || url.split('/').pop());
  cls.set(c, (cls.get(c) ?? 0) + t);
}
for (const [k, v] of [...cls].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log((v / 1000).toFixed(0).padStart(7), 'ms', (100 * v / tot).toFixed(1).padStart(5) + '%', k);
