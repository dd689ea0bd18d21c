import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startStudio } from '../../src/studio/server.js';
import { fakeRun, rawGet } from './helpers.js';

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-studio-'));
const runs = path.join(tmp, 'runs');
await fakeRun(path.join(runs, 'a'), [{ step: 1, time: 1, 'loss/D': 1, 'loss/G': 2 }, { step: 2, time: 2, 'loss/D': 1, 'loss/G': 2 }]);
await fakeRun(path.join(runs, 'sweep', 'b'), [{ step: 1, time: 1, 'loss/D': 1 }]);
await fs.writeFile(path.join(tmp, 'secret.txt'), 'do not serve');
// A page folder of our own, so these tests do not need the vite build.
const web = path.join(tmp, 'web');
await fs.mkdir(web);
await fs.writeFile(path.join(web, 'index.html'), '<!doctype html><title>studio</title>');
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

test('binds to 127.0.0.1 by default and serves runs, run details and samples', async (t) => {
  const studio = await startStudio({ runs, port: 0, webDir: web });
  t.after(() => studio.close());
  const addr = studio.app.server.address() as { address: string; port: number };
  assert.equal(addr.address, '127.0.0.1');
  assert.equal(studio.token, null);
  const list = JSON.parse((await rawGet(addr.port, '/api/runs')).body) as { id: string; step: number }[];
  assert.deepEqual(list.map((r) => [r.id, r.step]), [['a', 2], ['sweep/b', 1]]);
  const detail = JSON.parse((await rawGet(addr.port, '/api/runs/sweep%2Fb')).body) as { samples: string[]; diversity: unknown[] };
  assert.deepEqual(detail.samples, ['step-000005.png', 'step-000010.png']);
  assert.equal(detail.diversity.length, 2);
  const png = await rawGet(addr.port, '/api/runs/a/samples/step-000010.png');
  assert.equal(png.status, 200);
  assert.equal(png.headers['content-type'], 'image/png');
  assert.equal((await rawGet(addr.port, '/')).status, 200);
});

test('path traversal, in plain and encoded forms, is refused; unknown runs are 404', async (t) => {
  const studio = await startStudio({ runs, port: 0, webDir: web });
  t.after(() => studio.close());
  const port = (studio.app.server.address() as { port: number }).port;
  const attempts = [
    '/../secret.txt',
    '/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/..%2f..%2fsecret.txt',
    '/%252e%252e/secret.txt',
    '/api/runs/..',
    '/api/runs/%2e%2e',
    '/api/runs/..%2F..%2Fsecret.txt',
    '/api/runs/a/samples/..%2F..%2F..%2Fsecret.txt',
    '/api/runs/a/samples/%2e%2e%2fconfig.json',
    '/api/runs/a/checkpoints/..%2F..%2F/generator/model.json',
    '/api/runs/sweep%2F..%2F..%2Fsecret.txt',
  ];
  for (const p of attempts) {
    const res = await rawGet(port, p);
    assert.ok(res.status === 404 || res.status === 400, `${p} → ${res.status}`);
    assert.ok(!res.body.includes('do not serve'), `${p} leaked the file`);
  }
  assert.equal((await rawGet(port, '/api/runs/nope')).status, 404);
  assert.equal((await rawGet(port, '/api/runs/nope/events')).status, 404);
  // A page elsewhere that resolves its own name to 127.0.0.1 (DNS rebinding) is refused by Host.
  assert.equal((await rawGet(port, '/api/runs', { host: 'evil.example:80' })).status, 403);
});

test('a non-loopback host requires the token: wrong or missing → 401, right → 200 and a cookie', async (t) => {
  const studio = await startStudio({ runs, port: 0, host: '0.0.0.0', token: 'sesame-123', webDir: web });
  t.after(() => studio.close());
  const port = (studio.app.server.address() as { port: number }).port;
  assert.match(studio.url, /\?token=sesame-123$/);
  assert.equal((await rawGet(port, '/api/runs')).status, 401);
  assert.equal((await rawGet(port, '/api/runs?token=wrong-1234')).status, 401);
  assert.equal((await rawGet(port, '/api/runs', { authorization: 'Bearer nope' })).status, 401);
  const ok = await rawGet(port, '/?token=sesame-123');
  assert.equal(ok.status, 200);
  const cookie = String(ok.headers['set-cookie']).split(';')[0];
  assert.equal((await rawGet(port, '/api/runs', { cookie })).status, 200);
  assert.equal((await rawGet(port, '/api/runs', { authorization: 'Bearer sesame-123' })).status, 200);
  const random = await startStudio({ runs, port: 0, host: '0.0.0.0', webDir: web });
  t.after(() => random.close());
  assert.ok(random.token && random.token.length >= 20, 'a random token is made when none is given');
});
