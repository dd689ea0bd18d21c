import { getRun, runPath, series, type Alert, type MetricRecord, type RunDetail } from './api.js';
import { LineChart, align } from './chart.js';
import { chartIdOf, seriesGroups } from '../series.js';

const isEvalKey = (k: string) => k.startsWith('eval/') || k.startsWith('fid');
/** Augmentation of D's inputs: ADA's probability p and its overfitting heuristic r_t. */
const isAugKey = (k: string) => k.startsWith('aug/');

/**
 * One run as it trains: the newest sample grid, loss and D-output curves, evaluated scores when present,
 * grid diversity, speed and ETA, and alerts. Updates arrive as server-sent events; returns a stop function.
 */
export async function showRun(view: HTMLElement, id: string): Promise<() => void> {
  const run = await getRun(id);
  // A translator's grid is the family's picture: rows of fixed examples (input | output | target for pix2pix).
  const rows = run.condition === 'image';
  view.innerHTML = `
    <h2>${esc(id)} <small>${esc(String(run.config.model))} · ${esc(String(run.config.data))}</small>
      ${explore(id, run.condition, run.kind)}</h2>
    <div class="stats" id="stats"></div>
    <ul class="alerts" id="alerts"></ul>
    <div class="row">
      <figure><img id="grid" alt="sample grid" class="${rows ? 'rows' : ''}"><figcaption id="grid-step">no samples yet</figcaption></figure>
      <div class="charts">
        <div id="chart-loss"></div><div id="chart-d"></div><div id="chart-div"></div><div id="chart-eval"></div><div id="chart-aug"></div>
        <div id="charts-series"></div>
      </div>
    </div>`;
  const $ = (sel: string) => view.querySelector(sel) as HTMLElement;
  const charts = {
    loss: new LineChart($('#chart-loss'), 'losses'),
    d: new LineChart($('#chart-d'), 'mean D(x) and D(G(z))'),
    div: new LineChart($('#chart-div'), 'sample diversity (grid pixel std)'),
    eval: new LineChart($('#chart-eval'), 'evaluation (FID/KID/…)'),
    aug: new LineChart($('#chart-aug'), 'augmentation p and r_t (ADA)'),
  };
  // Every further series the steps report (a family's own state, penalties, tricks): a chart per prefix, made on first sight.
  const seriesCharts = new Map<string, LineChart>();
  const state: RunDetail = run;
  $('#chart-div').hidden = rows; // grid diversity measures fixed latents' samples, which a translator's grid is not

  const draw = () => {
    const m = state.metrics;
    const loss = align({ 'loss/D': series(m, 'loss/D'), 'loss/G': series(m, 'loss/G') });
    charts.loss.set(loss.xs, loss.ys);
    const d = align({ 'D(x)': series(m, 'D(x)'), 'D(G(z))': series(m, 'D(G(z))') });
    charts.d.set(d.xs, d.ys);
    charts.div.set(state.diversity.map((p) => p.step), { diversity: state.diversity.map((p) => p.value) });
    const evalKeys = [...new Set(m.flatMap((r) => Object.keys(r).filter(isEvalKey)))];
    $('#chart-eval').hidden = evalKeys.length === 0; // most runs are never evaluated while training
    if (evalKeys.length) {
      const e = align(Object.fromEntries(evalKeys.map((k) => [k, series(m, k)])));
      charts.eval.set(e.xs, e.ys);
    }
    const augKeys = [...new Set(m.flatMap((r) => Object.keys(r).filter(isAugKey)))];
    $('#chart-aug').hidden = augKeys.length === 0; // only runs with --ada-target report them
    if (augKeys.length) {
      const a = align(Object.fromEntries(augKeys.map((k) => [k, series(m, k)])));
      charts.aug.set(a.xs, a.ys);
    }
    for (const [group, keys] of seriesGroups(m)) {
      let chart = seriesCharts.get(group);
      if (!chart) {
        const el = document.createElement('div');
        el.id = chartIdOf(group);
        $('#charts-series').append(el);
        chart = new LineChart(el, group);
        seriesCharts.set(group, chart);
      }
      const g = align(Object.fromEntries(keys.map((k) => [k, series(m, k)])));
      chart.set(g.xs, g.ys);
    }
    const last = state.samples.at(-1);
    if (last) {
      const img = $('#grid') as HTMLImageElement;
      const src = `${runPath(id)}/samples/${last}`;
      if (!img.src.endsWith(src)) img.src = src;
      $('#grid-step').textContent = `${rows ? 'fixed examples, a row each' : 'fixed latents'}, ${last.replace('.png', '')}`;
    }
    $('#stats').textContent = stats(m, Number(state.config.steps ?? 0));
    showAlerts($('#alerts'), state.alerts);
  };
  draw();

  const events = new EventSource(`${runPath(id)}/events`);
  events.addEventListener('metrics', (e) => {
    const { records, reset } = JSON.parse((e as MessageEvent).data) as { records: MetricRecord[]; reset: boolean };
    if (reset) state.metrics = [];
    state.metrics.push(...records);
    draw();
  });
  events.addEventListener('samples', (e) => {
    Object.assign(state, JSON.parse((e as MessageEvent).data));
    draw();
  });
  events.addEventListener('alerts', (e) => {
    state.alerts = JSON.parse((e as MessageEvent).data) as Alert[];
    draw();
  });
  return () => {
    events.close();
    Object.values(charts).forEach((c) => c.destroy());
    seriesCharts.forEach((c) => c.destroy());
  };
}

/** The link to the run's explorer: latents for noise families, the draw/upload page for translators, line charts for sequences. */
function explore(id: string, condition: string, kind?: string): string {
  const href = encodeURIComponent(id);
  if (kind === 'sequence') return `<a href="#/sequences/${href}">sequences, PCA and t-SNE →</a>`;
  return condition === 'image' ? `<a href="#/translate/${href}">translate in the page →</a>` : `<a href="#/explore/${href}">explore latents →</a>`;
}

/** "step 40/60 · 210 img/s · ETA 4s", the rate taken over the last 20 logged steps. */
function stats(m: MetricRecord[], steps: number): string {
  const logged = m.filter((r) => r.event === undefined && typeof r.time === 'number');
  const last = logged.at(-1);
  if (!last) return 'waiting for the first logged step…';
  const first = logged[Math.max(0, logged.length - 21)];
  const rate = (Number(last.step) - Number(first.step)) / Math.max(1e-3, (Number(last.time) - Number(first.time)) / 1000);
  const left = steps - Number(last.step);
  const eta = left <= 0 ? 'done' : rate > 0 ? `ETA ${duration(left / rate)}` : 'ETA ?';
  const ips = typeof last['img/s'] === 'number' ? `${(last['img/s'] as number).toFixed(0)} img/s` : '';
  return [`step ${last.step}/${steps}`, ips, eta].filter(Boolean).join(' · ');
}

function duration(s: number): string {
  if (s < 90) return `${Math.round(s)}s`;
  if (s < 5400) return `${Math.round(s / 60)}min`;
  return `${(s / 3600).toFixed(1)}h`;
}

function showAlerts(el: HTMLElement, alerts: Alert[]): void {
  el.innerHTML = alerts.map((a) => `<li data-kind="${esc(a.kind)}">⚠ ${esc(a.message)}</li>`).join('');
}

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
