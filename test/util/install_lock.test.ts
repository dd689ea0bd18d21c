import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { withInstallLock } from '../../src/util/install_lock.js';
import { ensureNpmPackage } from '../../src/data/package_data.js';

const LOCK_MODULE = pathToFileURL(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/util/install_lock.js')).href;
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ganforge-lock-'));
test.after(() => fs.rm(tmp, { recursive: true, force: true }));

/** A node process that holds `lock` for `ms`, writing "start PID" and "end PID" lines to `log` around the wait. */
function holder(lock: string, log: string, ms: number): Promise<number | null> {
  const script = `import { withInstallLock } from ${JSON.stringify(LOCK_MODULE)};
import { appendFileSync } from 'node:fs';
await withInstallLock(${JSON.stringify(lock)}, async () => {
  appendFileSync(${JSON.stringify(log)}, 'start ' + process.pid + '\\n');
  await new Promise((r) => setTimeout(r, ${ms}));
  appendFileSync(${JSON.stringify(log)}, 'end ' + process.pid + '\\n');
}, { pollMs: 20 });`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('close', resolve));
}

test('processes that share an install lock run their installs one after the other', async () => {
  const lock = path.join(tmp, 'a', 'locks', 'npm');
  const log = path.join(tmp, 'a.log');
  const codes = await Promise.all([holder(lock, log, 300), holder(lock, log, 300), holder(lock, log, 300)]);
  assert.deepEqual(codes, [0, 0, 0]);
  const lines = (await fs.readFile(log, 'utf8')).trim().split('\n');
  assert.equal(lines.length, 6);
  for (let i = 0; i < 6; i += 2) {
    assert.match(lines[i], /^start \d+$/);
    assert.equal(lines[i + 1], lines[i].replace('start', 'end'), `no other install between: ${lines.join(' | ')}`);
  }
  await assert.rejects(fs.access(lock), 'the lock is released');
});

test('a lock left by a process that died is taken over; a live holder is waited for, said once', async () => {
  const lock = path.join(tmp, 'b', 'locks', 'deb-x');
  const dead = spawn(process.execPath, ['-e', '0']);
  await new Promise((r) => dead.on('close', r));
  await fs.mkdir(lock, { recursive: true });
  await fs.writeFile(path.join(lock, 'pid'), String(dead.pid));
  assert.equal(await withInstallLock(lock, async () => 'ran', { onWait: () => assert.fail('waited on a dead holder') }), 'ran');
  // A live pid (ours: this test's parent runs) on a lock untouched for an hour: a reused pid, taken over too.
  await fs.mkdir(lock, { recursive: true });
  await fs.writeFile(path.join(lock, 'pid'), String(process.ppid));
  const hourAgo = new Date(Date.now() - 3_600_000);
  await fs.utimes(lock, hourAgo, hourAgo);
  assert.equal(await withInstallLock(lock, async () => 'ran', { onWait: () => assert.fail('waited on an hour-old lock') }), 'ran');

  const log = path.join(tmp, 'b.log');
  const live = holder(lock, log, 600);
  while (!(await fs.readFile(log, 'utf8').catch(() => '')).startsWith('start')) await new Promise((r) => setTimeout(r, 10));
  let waits = 0;
  await withInstallLock(lock, async () => fs.appendFile(log, 'me\n'), { pollMs: 20, onWait: () => waits++ });
  assert.equal(await live, 0);
  assert.equal(waits, 1);
  assert.match(await fs.readFile(log, 'utf8'), /^start \d+\nend \d+\nme\n$/);
});

test('ensureNpmPackage: two first uses at once in one process install once, never concurrently', async () => {
  const cache = path.join(tmp, 'c');
  const pkg = { name: 'fake-data', version: '1.2.3', size: '1 kB', attribution: 'credit' };
  let running = 0;
  let installs = 0;
  const install = async (prefix: string, spec: string): Promise<void> => {
    assert.equal(running++, 0, 'an install started while another ran');
    installs++;
    await new Promise((r) => setTimeout(r, 100));
    const dir = path.join(prefix, 'node_modules', spec.split('@')[0]);
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, 'package.json'), JSON.stringify({ version: spec.split('@')[1] }));
    running--;
  };
  const lines: string[] = [];
  const dirs = await Promise.all([0, 1, 2].map(() => ensureNpmPackage(pkg, { cache, install, log: (l) => lines.push(l) })));
  assert.equal(installs, 1);
  assert.ok(dirs.every((d) => d === path.join(cache, 'npm', 'node_modules', 'fake-data')));
  assert.equal(lines.filter((l) => l.startsWith('ganforge: installing fake-data@1.2.3')).length, 1, lines.join('\n'));
  assert.equal(lines.filter((l) => l === 'credit').length, 1);
});
