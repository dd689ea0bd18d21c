import type { TopLevelSpec } from 'vega-lite';
import sharp from 'sharp';

/**
 * A Vega-Lite spec drawn to SVG (no canvas needed) and rasterised by sharp at `scale`.
 * Vega and Vega-Lite are loaded on the first chart, not at start-up: together they are about half a second of
 * module loading that every CLI command would otherwise pay, most of which draw no chart.
 */
export async function vegaLitePng(spec: TopLevelSpec, scale: number): Promise<Buffer> {
  const [vega, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await sharp(Buffer.from(await view.toSVG(scale))).png().toBuffer();
  } finally {
    view.finalize();
  }
}
