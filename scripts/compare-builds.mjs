// Train every family 6 steps from seed 0 (2-D points and 28×28 images) and print a hash of all its weights, so
// two builds of ganforge can be compared bit for bit, e.g. before and after a change of the family contract:
//   git worktree add /tmp/old <commit> && ln -s $PWD/node_modules /tmp/old/node_modules && (cd /tmp/old && npx tsc -p .)
//   node scripts/compare-builds.mjs /tmp/old cpu > old.txt && node scripts/compare-builds.mjs $PWD cpu > new.txt && diff old.txt new.txt
import { createHash } from 'node:crypto';
const root = process.argv[2];
const backend = process.argv[3] ?? 'cpu';
await import(`${root}/node_modules/@tensorflow/tfjs-layers/dist/tf-layers.node.js`).catch(() => import('@tensorflow/tfjs-layers'));
const { initBackend } = await import(`${root}/dist/src/backend/index.js`);
await initBackend({ prefer: backend, quiet: true });
const { MODELS } = await import(`${root}/dist/src/models/registry.js`);
const { resolveConfig } = await import(`${root}/dist/src/gan/config.js`);
const { freshState, runStep, disposeState } = await import(`${root}/dist/src/gan/training_step.js`);
const { loadData } = await import(`${root}/dist/src/data/registry.js`);
const ring = await loadData('toy:ring8');
const images = await loadData('fashion-mnist', { limit: 64 });
const names = ['vanilla', 'dcgan', 'wgan', 'wgan-gp', 'lsgan', 'cgan', 'sngan', 'bigan', 'aae', 'acgan', 'infogan'];
for (const name of names) {
  for (const [label, source, over] of [['ring8', ring, { batchSize: 32, hidden: 16, latentDim: 8 }], ['images', images, { batchSize: 8, width: 4, latentDim: 16 }]]) {
    const family = MODELS[name];
    const config = resolveConfig(family.defaults(source.info), { model: name, seed: 0, ...over, ...(name === 'infogan' ? { latentDim: 20 } : {}) });
    if (label === 'ring8' && ['dcgan'].includes(name)) continue;
    if (label === 'images' && name === 'vanilla') delete config.width;
    if (family.check(source.info, config) !== null) { console.log(name, label, 'skipped:', family.check(source.info, config)); continue; }
    const state = freshState(family, source, config);
    const losses = [];
    for (let i = 0; i < 6; i++) losses.push(runStep(state).lossG);
    const h = createHash('sha256');
    for (const [k, m] of [['g', state.nets.generator], ['d', state.nets.discriminator], ...Object.entries(state.nets.extra ?? {})]) for (const w of m.getWeights()) h.update(Buffer.from(w.dataSync().buffer));
    console.log(name.padEnd(8), label.padEnd(7), h.digest('hex').slice(0, 16), losses.at(-1).toFixed(6));
    disposeState(state);
  }
}
