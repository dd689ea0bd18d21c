import { getRun, listRuns, series, type RunDetail } from './api.js';
import { LineChart, align } from './chart.js';
import { esc } from './live.js';

/** Several runs' curves overlaid on one chart per metric, and the config keys in which they differ. */
export async function showCompare(view: HTMLElement, ids: string[]): Promise<() => void> {
  const all = await listRuns();
  const runs: RunDetail[] = await Promise.all(ids.map((id) => getRun(id)));
  const keys = [...new Set(runs.flatMap((r) => r.metrics.flatMap((m) => (m.event === undefined ? Object.keys(m) : []))))].filter((k) => k !== 'step' && k !== 'time');
  view.innerHTML = `
    <h2>Compare runs</h2>
    <p id="picks">${all
      .map((r) => `<label><input type="checkbox" value="${esc(r.id)}" ${ids.includes(r.id) ? 'checked' : ''}> ${esc(r.id)}</label>`)
      .join('')}</p>
    <div class="row"><div>
      <label>metric <select id="metric">${keys.map((k) => `<option ${k === 'loss/G' ? 'selected' : ''}>${esc(k)}</option>`).join('')}</select></label>
      <div id="chart-compare"></div></div>
      <table class="diff" id="diff"></table>
    </div>`;
  view.querySelectorAll<HTMLInputElement>('#picks input').forEach((box) =>
    box.addEventListener('change', () => {
      const picked = [...view.querySelectorAll<HTMLInputElement>('#picks input:checked')].map((b) => b.value);
      location.hash = `#/compare/${picked.map(encodeURIComponent).join(',')}`;
    }),
  );
  const chart = new LineChart(view.querySelector('#chart-compare') as HTMLElement, 'overlay');
  const select = view.querySelector('#metric') as HTMLSelectElement;
  const draw = () => {
    const { xs, ys } = align(Object.fromEntries(runs.map((r) => [r.id, series(r.metrics, select.value)])));
    chart.set(xs, ys);
  };
  select.addEventListener('change', draw);
  if (runs.length && keys.length) draw();
  (view.querySelector('#diff') as HTMLElement).innerHTML = configDiff(runs);
  return () => chart.destroy();
}

/** Rows of config keys whose values differ between the runs (the output folder always does). */
function configDiff(runs: RunDetail[]): string {
  if (runs.length < 2) return '<tr><td>pick two or more runs to see their config differences</td></tr>';
  const keys = [...new Set(runs.flatMap((r) => Object.keys(r.config)))].filter((k) => k !== 'out');
  const differing = keys.filter((k) => new Set(runs.map((r) => JSON.stringify(r.config[k]))).size > 1);
  const head = `<tr><th>config</th>${runs.map((r) => `<th>${esc(r.id)}</th>`).join('')}</tr>`;
  if (!differing.length) return head + '<tr><td colspan="99">same config</td></tr>';
  return head + differing.map((k) => `<tr><td>${esc(k)}</td>${runs.map((r) => `<td>${esc(JSON.stringify(r.config[k] ?? null))}</td>`).join('')}</tr>`).join('');
}
