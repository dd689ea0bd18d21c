import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunStore, latestCheckpoint, listSamples, readConfig, readMetricsFrom, type MetricRecord } from './runs.js';
import { fileDiversity } from './diversity.js';
import { detectAlerts } from './alerts.js';
import type { RunFolder } from '../gan/run_folder.js';
import { MODELS } from '../models/registry.js';
import { manifestFolders } from './manifest.js';
import { styledManifest } from './style_export.js';
import { readCheckpointState } from '../gan/checkpoint.js';
import type { DatasetInfo } from '../data/types.js';
import { EMBEDDING_METHODS, type EmbeddingMethod } from '../metrics/sequence_embedding.js';
import { MAX_SHOWN, SequenceViews } from './sequences.js';

export interface StudioOptions {
  /** Folder of run folders (each the --out of a `ganforge train`). */
  runs: string;
  port?: number;
  /** 127.0.0.1 by default; any other address requires a token. */
  host?: string;
  /** Access token for non-loopback hosts (random when not given). */
  token?: string;
  /** How often live connections look at the run folder's files. */
  pollMs?: number;
  /** The built page (vite's output); defaults to dist/studio-web next to the compiled server. */
  webDir?: string;
}

export interface Studio {
  app: FastifyInstance;
  /** The address to open, with ?token=… when one is needed. */
  url: string;
  token: string | null;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const DEFAULT_WEB = fileURLToPath(new URL('../../studio-web/', import.meta.url));
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.json': 'application/json', '.svg': 'image/svg+xml', '.bin': 'application/octet-stream' };
const COOKIE = 'ganforge_studio';

/** Starts the studio's HTTP server: JSON and SSE under /api, the built page everywhere else. */
export async function startStudio(opts: StudioOptions): Promise<Studio> {
  const host = opts.host ?? '127.0.0.1';
  const loopback = LOOPBACK.has(host);
  const token = loopback ? null : (opts.token ?? randomBytes(18).toString('base64url'));
  const store = new RunStore(opts.runs);
  const webDir = path.resolve(opts.webDir ?? DEFAULT_WEB);
  const pollMs = opts.pollMs ?? 1000;
  const sequences = new SequenceViews();
  const app = Fastify({ logger: false, forceCloseConnections: true }); // open event streams must not hold close()

  app.addHook('onRequest', async (req, reply) => {
    // A page on another site can point a DNS name at 127.0.0.1; checking Host stops it reading our API.
    const hostName = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (loopback && !LOOPBACK.has(hostName)) return reply.code(403).send({ error: 'forbidden host' });
    if (token !== null && !authorized(req, reply, token)) return reply.code(401).send({ error: 'missing or wrong token: open the URL studio printed' });
  });

  const withRun = (handler: (run: RunFolder, id: string, req: FastifyRequest, reply: FastifyReply) => Promise<unknown>) =>
    async (req: FastifyRequest, reply: FastifyReply) => {
      const id = (req.params as { id: string }).id;
      const run = await store.resolve(id);
      if (!run) return reply.code(404).send({ error: `no run '${id}' under ${store.root}` });
      return handler(run, id, req, reply);
    };

  app.get('/api/runs', async () => {
    const ids = await store.list();
    return Promise.all(ids.map(async (id) => store.summary(id, (await store.resolve(id))!)));
  });

  app.get('/api/runs/:id', withRun(async (run, id) => {
    const { records, offset } = await readMetricsFrom(run, 0);
    const samples = await listSamples(run);
    const config = await readConfig(run);
    const diversity = await diversitySeries(run, samples, config);
    const checkpoint = await latestCheckpoint(run);
    const found = checkpoint ? await manifestOf(checkpoint.dir) : null;
    const [manifest, manifestError] = found && 'error' in found ? [null, found.error] : [found, undefined];
    // The family's condition says which page explores the run (latents, or translation) before any checkpoint.
    const family = MODELS[String(config.model)];
    const condition = family?.condition ?? 'none';
    // What the run makes: its checkpoint's data says, else a family that takes one kind of data only.
    const kind = (checkpoint?.data as DatasetInfo | undefined)?.kind ?? (family?.dataKinds?.length === 1 ? family.dataKinds[0] : undefined);
    return { id, config, condition, kind, metrics: records, offset, samples, diversity, checkpoint: publicCheckpoint(checkpoint), manifest, manifestError, alerts: detectAlerts(records, diversity) };
  }));

  // What the page needs to run the newest checkpoint's generator(s): the family's declarations (manifest.ts).
  app.get('/api/runs/:id/manifest', withRun(async (run, _id, _req, reply) => {
    const checkpoint = await latestCheckpoint(run);
    if (!checkpoint) return reply.code(404).send({ error: 'no checkpoint yet' });
    const manifest = await manifestOf(checkpoint.dir);
    return 'error' in manifest ? reply.code(422).send(manifest) : manifest;
  }));

  app.get('/api/runs/:id/samples/:file', withRun(async (run, _id, req, reply) => {
    const file = (req.params as { file: string }).file;
    if (!/^step-\d+\.png$/.test(file)) return reply.code(404).send({ error: 'no such sample' });
    return sendFile(reply, path.join(run.samples, file));
  }));

  // Only the generator folders the checkpoint's manifest names (never a discriminator or optimizer state).
  app.get('/api/runs/:id/checkpoints/:ckpt/:net/:file', withRun(async (run, _id, req, reply) => {
    const { ckpt, net, file } = req.params as { ckpt: string; net: string; file: string };
    if (!/^step-\d+$/.test(ckpt) || !['model.json', 'weights.bin'].includes(file)) return reply.code(404).send({ error: 'no such file' });
    const manifest = await manifestOf(path.join(run.checkpoints, ckpt));
    if ('error' in manifest || !manifestFolders(manifest).includes(net)) return reply.code(404).send({ error: 'no such file' });
    return sendFile(reply, path.join(run.checkpoints, ckpt, net, file));
  }));

  // A style-based generator's two halves (manifest.style), cut from the checkpoint's generator in memory.
  app.get('/api/runs/:id/checkpoints/:ckpt/style/:part/:file', withRun(async (run, _id, req, reply) => {
    const { ckpt, part, file } = req.params as { ckpt: string; part: string; file: string };
    if (!/^step-\d+$/.test(ckpt) || (part !== 'mapping' && part !== 'synthesis') || (file !== 'model.json' && file !== 'weights.bin')) {
      return reply.code(404).send({ error: 'no such file' });
    }
    const found = await styled(path.join(run.checkpoints, ckpt));
    if ('error' in found || !found.files) return reply.code(404).send({ error: 'no such file' });
    return reply.type(TYPES[path.extname(file)]).header('cache-control', 'no-cache').send(found.files[part][file]);
  }));

  // A text run's composed model (manifest.text), built over the checkpoint's networks in memory.
  app.get('/api/runs/:id/checkpoints/:ckpt/text/:file', withRun(async (run, _id, req, reply) => {
    const { ckpt, file } = req.params as { ckpt: string; file: string };
    if (!/^step-\d+$/.test(ckpt) || (file !== 'model.json' && file !== 'weights.bin')) return reply.code(404).send({ error: 'no such file' });
    const found = await styled(path.join(run.checkpoints, ckpt));
    if ('error' in found || !found.textFiles) return reply.code(404).send({ error: 'no such file' });
    return reply.type(TYPES[path.extname(file)]).header('cache-control', 'no-cache').send(found.textFiles[file]);
  }));

  // A sequence run's page (sequences.ts): real and generated sequences, and the TimeGAN figure's coordinates.
  app.get('/api/runs/:id/sequences', withRun(async (run, _id, req, reply) => {
    const q = req.query as { seed?: string; count?: string; class?: string };
    const seed = wholeNumber(q.seed, 0), count = wholeNumber(q.count, undefined), k = wholeNumber(q.class, undefined);
    if (seed === null || count === null || k === null || (count !== undefined && (count < 1 || count > MAX_SHOWN))) {
      return reply.code(400).send({ error: `seed: a whole number ≥ 0; count: 1..${MAX_SHOWN}; class: a class index` });
    }
    return sequences.sequences(run.dir, { seed, count, class: k }).catch((e: Error) => reply.code(422).send({ error: e.message }));
  }));

  app.get('/api/runs/:id/embedding', withRun(async (run, _id, req, reply) => {
    const q = req.query as { method?: string; seed?: string; count?: string };
    const seed = wholeNumber(q.seed, 0), count = wholeNumber(q.count, undefined);
    if (!(EMBEDDING_METHODS as readonly string[]).includes(q.method ?? '') || seed === null || count === null || (count !== undefined && (count < 2 || count > 1000))) {
      return reply.code(400).send({ error: `method: ${EMBEDDING_METHODS.join(' or ')}; seed: a whole number ≥ 0; count: 2..1000` });
    }
    return sequences.embedding(run.dir, { method: q.method as EmbeddingMethod, seed, count }).catch((e: Error) => reply.code(422).send({ error: e.message }));
  }));

  app.get('/api/runs/:id/events', withRun(async (run, _id, req, reply) => liveEvents(run, req, reply, pollMs)));

  // The page: files of the vite build, anything unknown → index.html is not needed (hash routing).
  app.get('/*', async (req, reply) => {
    const rel = decodeURIComponent((req.params as { '*': string })['*'] || 'index.html');
    const file = path.resolve(webDir, rel);
    if (!file.startsWith(webDir + path.sep)) return reply.code(404).send({ error: 'not found' });
    if (rel === 'index.html' && !(await isFile(file))) {
      return reply.type('text/plain').code(503).send("ganforge studio: the page is not built; run 'npm run build:studio' (scripts/setup.sh does it)");
    }
    return sendFile(reply, file);
  });

  await app.listen({ host, port: opts.port ?? 7860 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const url = `http://${shown}:${port}/${token ? `?token=${token}` : ''}`;
  return { app, url, token, close: () => app.close() };
}

/** Token from ?token= (then remembered in an HttpOnly cookie), the cookie, or Authorization: Bearer. */
function authorized(req: FastifyRequest, reply: FastifyReply, token: string): boolean {
  const same = (given: string | undefined) => given !== undefined && given.length === token.length && timingSafeEqual(Buffer.from(given), Buffer.from(token));
  const query = (req.query as { token?: string } | undefined)?.token;
  if (same(query)) {
    reply.header('set-cookie', `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`);
    return true;
  }
  const cookie = /(?:^|;\s*)ganforge_studio=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  return same(cookie) || same(bearer);
}

/** A query's whole number ≥ 0, `fallback` when absent, null when malformed. */
function wholeNumber<T extends number | undefined>(v: string | undefined, fallback: T): number | T | null {
  if (v === undefined || v === '') return fallback;
  return /^\d{1,9}$/.test(v) ? Number(v) : null;
}

async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then((s) => s.isFile(), () => false);
}

async function sendFile(reply: FastifyReply, file: string) {
  if (!(await isFile(file))) return reply.code(404).send({ error: 'not found' });
  return reply
    .type(TYPES[path.extname(file)] ?? 'application/octet-stream')
    .header('cache-control', 'no-cache')
    .send(await fs.readFile(file));
}

function publicCheckpoint(c: Awaited<ReturnType<typeof latestCheckpoint>>) {
  return c && { name: c.name, data: c.data, numClasses: c.numClasses };
}

/** A checkpoint's manifest, or what keeps a browser from running it. */
async function manifestOf(dir: string) {
  const found = await styled(dir);
  return 'error' in found ? found : found.manifest;
}

/** Where the page fetches a style space's halves from, relative to the checkpoint's URL (see the route above). */
const STYLE_FOLDERS = { mapping: 'style/mapping', synthesis: 'style/synthesis' };
type Styled = Awaited<ReturnType<typeof styledManifest>> | { error: string };
/** A few checkpoints' manifests with their style halves, by folder and state.json's time: a style run's costs a load of G. */
const styledCache = new Map<string, Promise<Styled>>();

async function styled(dir: string): Promise<Styled> {
  const stamp = await fs.stat(path.join(dir, 'state.json')).then((s) => s.mtimeMs, () => 0);
  const key = `${dir}\0${stamp}`;
  let found = styledCache.get(key);
  if (!found) {
    found = readCheckpointState(dir).then((state) => styledManifest(state, dir, STYLE_FOLDERS)).catch((e: Error) => ({ error: e.message }));
    styledCache.set(key, found);
    if (styledCache.size > 4) styledCache.delete(styledCache.keys().next().value!);
  }
  return found;
}

/**
 * Diversity of the newest 200 grids (older ones are skipped to keep a first load fast). Only where the grid
 * is the default picture, samples of fixed latents; a family's own picture (a translator's input | output |
 * target rows) has another layout and other variation.
 */
async function diversitySeries(run: RunFolder, samples: string[], config: Record<string, unknown>) {
  const out: { step: number; value: number }[] = [];
  if (MODELS[String(config.model)]?.picture) return out;
  for (const f of samples.slice(-200)) {
    const value = await fileDiversity(path.join(run.samples, f));
    if (value !== null) out.push({ step: Number(/\d+/.exec(f)![0]), value });
  }
  return out;
}

/**
 * Server-sent events for one open page: every pollMs, what training appended to metrics.jsonl, new sample
 * grids, a new checkpoint and the alerts. Reading the files (not the trainer) is what lets studio watch a
 * run started by another process, or on another machine with a shared disk.
 */
async function liveEvents(run: RunFolder, req: FastifyRequest, reply: FastifyReply, pollMs: number) {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const send = (type: string, data: unknown) => res.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
  const { offset: start, records: initial } = await readMetricsFrom(run, 0);
  let offset = start;
  const records: MetricRecord[] = initial;
  let samples = await listSamples(run);
  const config = await readConfig(run);
  let diversity = await diversitySeries(run, samples, config);
  let checkpoint = (await latestCheckpoint(run))?.name ?? null;
  let alertCount = -1;
  let closed = false;
  let busy = false;
  const tick = async () => {
    if (closed || busy) return;
    busy = true;
    try {
      let changed = false;
      const next = await readMetricsFrom(run, offset);
      if (next.offset < offset) records.length = 0; // the log was truncated by a resume
      if (next.records.length > 0 || next.offset < offset) {
        records.push(...next.records);
        send('metrics', { records: next.records, reset: next.offset < offset });
        changed = true;
      }
      offset = next.offset;
      const nowSamples = await listSamples(run);
      if (nowSamples.length !== samples.length || nowSamples.at(-1) !== samples.at(-1)) {
        samples = nowSamples;
        diversity = await diversitySeries(run, samples, config);
        send('samples', { samples, diversity });
        changed = true;
      }
      const ckpt = await latestCheckpoint(run);
      if ((ckpt?.name ?? null) !== checkpoint) {
        checkpoint = ckpt?.name ?? null;
        send('checkpoint', publicCheckpoint(ckpt));
      }
      const alerts = detectAlerts(records, diversity);
      if (changed && alerts.length !== alertCount) {
        alertCount = alerts.length;
        send('alerts', alerts);
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void tick().catch(() => undefined), pollMs);
  const ping = setInterval(() => res.write(': ping\n\n'), 15000); // keeps proxies from closing an idle stream
  req.raw.on('close', () => {
    closed = true;
    clearInterval(timer);
    clearInterval(ping);
  });
}
