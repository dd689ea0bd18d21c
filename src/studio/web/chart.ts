import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#4b5563', '#ca8a04'];

/**
 * A line chart of several series over a shared x (steps). `set` replaces the data; the element's
 * data-points attribute counts x values, which the end-to-end test watches grow.
 */
export class LineChart {
  private plot: uPlot | null = null;
  private names: string[] = [];
  constructor(private readonly el: HTMLElement, private readonly title: string) {}

  set(xs: number[], ys: Record<string, (number | null)[]>): void {
    const names = Object.keys(ys);
    const data = [xs, ...names.map((n) => ys[n])] as uPlot.AlignedData;
    if (!this.plot || names.join('\n') !== this.names.join('\n')) {
      this.plot?.destroy();
      this.names = names;
      this.plot = new uPlot(
        {
          title: this.title,
          width: 420,
          height: 220,
          scales: { x: { time: false } },
          series: [{ label: 'step' }, ...names.map((n, i) => ({ label: n, stroke: COLORS[i % COLORS.length], spanGaps: true }))],
        },
        data,
        this.el,
      );
    } else {
      this.plot.setData(data);
    }
    this.el.dataset.points = String(xs.length);
  }

  destroy(): void {
    this.plot?.destroy();
  }
}

/** Aligns several (xs, ys) series on the union of their xs, with nulls where a series has no value. */
export function align(parts: Record<string, [number[], (number | null)[]]>): { xs: number[]; ys: Record<string, (number | null)[]> } {
  const xs = [...new Set(Object.values(parts).flatMap(([x]) => x))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys: Record<string, (number | null)[]> = {};
  for (const [name, [px, py]] of Object.entries(parts)) {
    const col = new Array<number | null>(xs.length).fill(null);
    px.forEach((x, i) => (col[index.get(x)!] = py[i]));
    ys[name] = col;
  }
  return { xs, ys };
}
