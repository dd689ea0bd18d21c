import type { Rng } from '../util/rng.js';
import type { SamplerSource } from './types.js';

/** An equal-weight mixture of isotropic 2-D Gaussians. */
export interface Mixture2D {
  name: 'ring8' | 'grid25';
  centres: [number, number][];
  /** Standard deviation of every component, per axis. */
  sigma: number;
}

/** 8 Gaussians equally spaced on a circle of radius 2, σ = 0.02 (Metz et al. 2017, Unrolled GAN). */
export const RING8: Mixture2D = {
  name: 'ring8',
  centres: Array.from({ length: 8 }, (_, k): [number, number] => [2 * Math.cos((2 * Math.PI * k) / 8), 2 * Math.sin((2 * Math.PI * k) / 8)]),
  sigma: 0.02,
};

/** 25 Gaussians on a 5×5 grid at −4, −2, 0, 2, 4, σ = 0.05 (Srivastava et al. 2017, VEEGAN). */
export const GRID25: Mixture2D = {
  name: 'grid25',
  centres: [-4, -2, 0, 2, 4].flatMap((x) => [-4, -2, 0, 2, 4].map((y): [number, number] => [x, y])),
  sigma: 0.05,
};

/** The mixtures by name. */
export const MIXTURES: Readonly<Record<Mixture2D['name'], Mixture2D>> = { ring8: RING8, grid25: GRID25 };

/** A SamplerSource drawing from `m`: values float32 [n, 2], labels = the component index. */
export function mixtureSource(m: Mixture2D): SamplerSource {
  const k = m.centres.length;
  return {
    kind: 'sampler',
    info: { name: `toy:${m.name}`, kind: 'points', shape: [2], numClasses: k, classNames: m.centres.map((_, i) => `mode ${i}`) },
    sample(n: number, rng: Rng) {
      const values = new Float32Array(2 * n);
      const labels = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const c = rng.int(k);
        labels[i] = c;
        values[2 * i] = m.centres[c][0] + m.sigma * rng.normal();
        values[2 * i + 1] = m.centres[c][1] + m.sigma * rng.normal();
      }
      return { values, labels };
    },
  };
}

export interface ModeCoverage {
  /** Modes that received at least `minCount` high-quality samples. */
  modesCovered: number;
  /** Share of all samples within `radiusSigmas`·σ of their nearest centre. */
  highQualityShare: number;
  /** High-quality samples per mode, index-aligned with `mixture.centres`. */
  perMode: number[];
  /** The per-mode threshold that was used. */
  minCount: number;
}

/**
 * Mode-collapse statistics for generated 2-D points [n, 2] (flat x0, y0, x1, y1, ...).
 *
 * Convention (the one used for these mixtures since Unrolled GAN / VEEGAN, with PacGAN's explicit threshold):
 * a sample is *high quality* when it lies within 3σ of its nearest centre; a mode is *covered* when it
 * receives at least 20% of the high-quality samples it would get under a perfect, uniform generator, i.e.
 * `minCount = max(1, ceil(0.2 · n / K))` — 20 of 2,500 samples for grid25. Override with `opts.minCount`.
 * NaN points count as samples but are never high quality.
 */
export function modeCoverage(
  points: Float32Array,
  mixture: Mixture2D,
  opts: { minCount?: number; radiusSigmas?: number } = {},
): ModeCoverage {
  const n = Math.floor(points.length / 2);
  const k = mixture.centres.length;
  const radius = (opts.radiusSigmas ?? 3) * mixture.sigma;
  const r2 = radius * radius;
  const perMode = new Array<number>(k).fill(0);
  let hq = 0;
  for (let i = 0; i < n; i++) {
    const x = points[2 * i];
    const y = points[2 * i + 1];
    let best = -1;
    let bestD = Infinity;
    for (let j = 0; j < k; j++) {
      const dx = x - mixture.centres[j][0];
      const dy = y - mixture.centres[j][1];
      const d = dx * dx + dy * dy;
      if (d < bestD) { bestD = d; best = j; }
    }
    if (best >= 0 && bestD <= r2) { perMode[best]++; hq++; }
  }
  const minCount = opts.minCount ?? Math.max(1, Math.ceil((0.2 * n) / k));
  return {
    modesCovered: perMode.filter((c) => c >= minCount).length,
    highQualityShare: n > 0 ? hq / n : 0,
    perMode,
    minCount,
  };
}
