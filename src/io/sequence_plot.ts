import type { TopLevelSpec } from 'vega-lite';
import { vegaLitePng } from './vega_png.js';

/** Sequences to draw: float [count, T, F] row-major, feature names F, and a panel title per sequence. */
export interface SequencePanels {
  values: Float32Array;
  count: number;
  window: number;
  features: string[];
  /** Panel titles (default "#1", "#2", …). */
  titles?: string[];
}

/** The most panels one picture shows: past that the lines are too small to read. */
export const MAX_PANELS = 16;

/**
 * Small multiples of sequences as a PNG: one panel per sequence (up to MAX_PANELS, `cols` per row), one line per
 * feature, drawn by Vega-Lite to SVG and rasterised by sharp like the other charts.
 */
export async function sequencesPng(panels: SequencePanels, opts: { cols?: number; title?: string; yTitle?: string } = {}): Promise<Buffer> {
  const n = Math.min(panels.count, MAX_PANELS);
  const t = panels.window, f = panels.features.length;
  const rows: { panel: string; order: number; t: number; y: number; feature: string }[] = [];
  for (let s = 0; s < n; s++) {
    const panel = panels.titles?.[s] ?? `#${s + 1}`;
    for (let i = 0; i < t; i++) {
      for (let j = 0; j < f; j++) rows.push({ panel, order: s, t: i, y: panels.values[(s * t + i) * f + j], feature: panels.features[j] });
    }
  }
  const spec: TopLevelSpec = {
    ...(opts.title ? { title: opts.title } : {}),
    background: 'white',
    data: { values: rows },
    facet: { field: 'panel', type: 'nominal', title: null, sort: { field: 'order' }, header: { labelFontSize: 10 } },
    columns: opts.cols ?? Math.min(4, n),
    spec: {
      width: 150,
      height: 80,
      mark: { type: 'line', strokeWidth: 1.2 },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'step', axis: { tickCount: 4 } },
        y: { field: 'y', type: 'quantitative', title: opts.yTitle ?? null, scale: { zero: false }, axis: { tickCount: 4 } },
        color: { field: 'feature', type: 'nominal', title: null, sort: panels.features, legend: f > 12 ? null : { orient: 'bottom' } },
      },
    },
    resolve: { scale: { y: 'shared' } },
  };
  return vegaLitePng(spec, 1.5);
}
