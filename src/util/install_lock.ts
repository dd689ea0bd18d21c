import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Held locks of this process by folder: calls inside one process queue here instead of polling the disk. */
const local = new Map<string, Promise<unknown>>();

export interface LockOptions {
  /** Said once when another process holds the lock (e.g. "waiting for another ganforge installing X…"). */
  onWait?: () => void;
  /** Poll interval while another process holds it. */
  pollMs?: number;
}

/**
 * Runs `fn` while holding the lock folder `dir` (made with mkdir, which is atomic across processes), so two
 * ganforge processes that need the same first-use install do it once, one after the other: `npm install` into
 * one prefix from two processes at once can drop each other's packages. A lock whose holder process is gone
 * (killed mid-install) is taken over. Within one process, callers queue in order.
 */
export async function withInstallLock<T>(dir: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const before = local.get(dir) ?? Promise.resolve();
  const mine = before.catch(() => undefined).then(async () => {
    await acquire(dir, opts);
    try {
      return await fn();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
  local.set(dir, mine);
  try {
    return await mine;
  } finally {
    if (local.get(dir) === mine) local.delete(dir);
  }
}

async function acquire(dir: string, opts: LockOptions): Promise<void> {
  await fs.mkdir(path.dirname(dir), { recursive: true });
  let told = false;
  for (;;) {
    try {
      await fs.mkdir(dir);
      await fs.writeFile(path.join(dir, 'pid'), String(process.pid));
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    if (await holderGone(dir)) {
      await fs.rm(dir, { recursive: true, force: true });
      continue;
    }
    if (!told) opts.onWait?.();
    told = true;
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 250));
  }
}

/** A lock older than this is taken over even if its pid runs: the pid may have been reused by another program after
 *  the holder died (a container restart), and the slowest first-use install here (161 MB from Debian) takes ~1 min. */
const STALE_AFTER_MS = 30 * 60_000;

/** True when the lock's pid file names a process that no longer runs, when the folder has stayed without one, or when
 *  it is older than STALE_AFTER_MS. */
async function holderGone(dir: string): Promise<boolean> {
  const st = await fs.stat(dir).catch(() => undefined);
  if (st === undefined) return false; // released meanwhile: the next mkdir takes it
  if (Date.now() - st.mtimeMs > STALE_AFTER_MS) return true;
  let text: string;
  try {
    text = await fs.readFile(path.join(dir, 'pid'), 'utf8');
  } catch {
    // Between another process's mkdir and its pid write: give it a moment unless the folder is old.
    return Date.now() - st.mtimeMs > 10_000;
  }
  const pid = Number.parseInt(text, 10);
  // Our own pid here is a leftover of an earlier process that had it: this process queues its own calls above.
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
