import type { TopLevelSpec } from 'vega-lite';
import { vegaLitePng } from './vega_png.js';

export interface LineChart {
  title: string;
  x: string;
  y: string;
  /** One row per point; `series` names the line it belongs to. */
  points: { x: number; y: number; series: string }[];
}

/** A line chart as a PNG: drawn by Vega-Lite to SVG (no canvas needed), rasterised by sharp. */
export async function lineChartPng(chart: LineChart): Promise<Buffer> {
  const spec: TopLevelSpec = {
    title: chart.title,
    width: 420,
    height: 260,
    background: 'white',
    data: { values: chart.points },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: chart.x },
      y: { field: 'y', type: 'quantitative', title: chart.y },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
  return vegaLitePng(spec, 2);
}
