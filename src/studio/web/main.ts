import { isLive, listRuns } from './api.js';
import { showCompare } from './compare.js';
import { showExplore } from './explore.js';
import { esc, showRun } from './live.js';
import { showTranslate } from './translate.js';
import { showText } from './text.js';
import { showSequences } from './sequences.js';

// Hash routes: #/run/ID, #/compare/ID,ID, #/explore/ID (a translator's goes on to #/translate/ID, a text run's to #/text/ID, a sequence run's to #/sequences/ID; #/inpaint/ID and #/upscale/ID are the same page). The page is one static bundle; all data is /api.
const view = document.getElementById('view')!;
let stop: () => void = () => undefined;
let current = '';

async function route(): Promise<void> {
  stop();
  stop = () => undefined;
  delete view.dataset.ready; // a page sets it once drawn; a hash change alone must not find the last page's
  const [, page = '', arg = ''] = location.hash.split('/');
  const ids = arg.split(',').filter(Boolean).map(decodeURIComponent);
  current = ids[0] ?? current;
  try {
    if (page === 'run' && ids[0]) stop = await showRun(view, ids[0]);
    else if (page === 'compare') stop = await showCompare(view, ids.length ? ids : current ? [current] : []);
    else if (page === 'explore' && (ids[0] || current)) stop = await showExplore(view, ids[0] ?? current);
    else if (page === 'text' && (ids[0] || current)) stop = await showText(view, ids[0] ?? current);
    else if (page === 'sequences' && (ids[0] || current)) stop = await showSequences(view, ids[0] ?? current);
    else if ((page === 'translate' || page === 'inpaint' || page === 'upscale') && (ids[0] || current)) stop = await showTranslate(view, ids[0] ?? current);
    else view.innerHTML = '<p>Pick a run on the left.</p>';
  } catch (e) {
    view.innerHTML = `<p class="alerts">${esc((e as Error).message)}</p>`;
  }
}

/** The run list, refreshed every few seconds so runs started after the page opened appear. */
async function refreshRuns(): Promise<void> {
  const runs = await listRuns().catch(() => []);
  document.getElementById('run-list')!.innerHTML = runs
    .map(
      (r) =>
        `<li><a href="#/run/${encodeURIComponent(r.id)}">${esc(r.id)}</a>` +
        `<span class="badge ${isLive(r) ? 'live' : ''}">${isLive(r) ? 'live' : `${r.step}/${r.steps}`}</span></li>`,
    )
    .join('');
  if (!location.hash && runs.length) location.hash = `#/run/${encodeURIComponent(runs[0].id)}`;
}

window.addEventListener('hashchange', () => void route());
void refreshRuns().then(route);
setInterval(() => void refreshRuns(), 5000);
