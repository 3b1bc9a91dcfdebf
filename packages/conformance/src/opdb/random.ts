/**
 * Random ops (`randomUniform randomNormal truncatedNormal randomBits`). Seeded draws are
 * checked bit for bit against the threefry2x32 reference (`reference` cases), and every draw
 * by properties: ranges, moments (5σ bounds on fixed seeds, so never flaky), the 2^-24 grid
 * of uniforms, and uniform = bits >>> 8 with the same seed.
 * @module
 */
import type { HostTensor } from '../host.js';
import { shapeText } from '../shapes.js';
import { bitsToUniform, threefryBits } from '../threefry.js';

/**
 * The threefry key core derives from a seed (core `ops/random.ts`, `keyOf`): the seed's low
 * and high 32-bit words; a seeded draw starts at counter 0.
 * @example
 * seedKey(2 ** 32 + 7); // [7, 1]
 */
export function seedKey(seed: number): [number, number] {
  return [seed >>> 0, Math.floor(seed / 2 ** 32) >>> 0];
}

/** The reference bits of a seeded draw of `n` values. */
function refBits(seed: number, n: number): Uint32Array {
  return threefryBits(seedKey(seed), 0, n);
}

/** First element where `got` and `want` differ, as a message. */
function firstDiff(got: Float64Array, want: ArrayLike<number>, what: string): string | null {
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) return `${what}: element ${i} is ${got[i]}, the threefry reference gives ${want[i]}`;
  }
  return null;
}
import type { Attrs, CaseDef, OpSpec, Tag } from '../types.js';

function moments(d: Float64Array): { mean: number; std: number } {
  let s = 0;
  for (const v of d) s += v;
  const mean = s / d.length;
  let q = 0;
  for (const v of d) q += (v - mean) * (v - mean);
  return { mean, std: Math.sqrt(q / d.length) };
}

const within = (what: string, v: number, lo: number, hi: number): string | null =>
  v >= lo && v <= hi ? null : `${what} ${v} outside [${lo}, ${hi}]`;

function checkShape(o: HostTensor, a: Attrs): string | null {
  const s = a.shape as number[];
  if (o.shape.length !== s.length || o.shape.some((d, i) => d !== s[i])) return `shape [${o.shape}], expected [${s}]`;
  return null;
}

function first(...xs: (string | null)[]): string | null {
  return xs.find((x) => x !== null) ?? null;
}

const shapesCases = (extra: Attrs): CaseDef[] =>
  ([[[3, 0], ['size0']], [[], ['scalar']], [[17, 33], ['odd']]] as [number[], Tag[]][]).map(([shape, tags]) => ({
    label: `shape-${shapeText(shape)}`, inputs: [], attrs: { ...extra, shape, seed: 11 }, tags: [...tags, 'stats' as Tag],
  }));

const randomUniform: OpSpec = {
  name: 'randomUniform',
  family: 'random',
  kind: 'composite',
  op: 'randomUniform',
  kernels: ['randomBits'],
  dtypes: ['float32'],
  run: (api, _xs, a) => {
    const o = {
      min: a.min as number | undefined, max: a.max as number | undefined, seed: a.seed as number,
      dtype: a.dtype as 'float32' | 'int32' | undefined,
    };
    if (a.compareSeed !== undefined) {
      return [api.randomUniform(a.shape as number[], o), api.randomUniform(a.shape as number[], { ...o, seed: a.compareSeed as number })];
    }
    if (a.withBits) return [api.randomUniform(a.shape as number[], o), api.randomBits(a.shape as number[], a.seed as number)];
    return api.randomUniform(a.shape as number[], o);
  },
  check: ([u, other], a) => {
    const lo = (a.min as number | undefined) ?? 0;
    const hi = (a.max as number | undefined) ?? 1;
    const dtype = (a.dtype as string | undefined) ?? 'float32';
    if (u.dtype !== dtype) return `dtype ${u.dtype}, expected ${dtype}`;
    const shapeErr = checkShape(u, a);
    if (shapeErr) return shapeErr;
    for (const v of u.data) if (!(v >= lo && v < hi)) return `value ${v} outside [${lo}, ${hi})`;
    if (dtype === 'int32') {
      const seen = new Set(u.data);
      for (let k = lo; k < hi; k++) if (!seen.has(k)) return `integer ${k} in [${lo}, ${hi}) never drawn in ${u.data.length} draws`;
      return null;
    }
    if (a.reference) {
      const want = Array.from(refBits(a.seed as number, u.data.length), bitsToUniform);
      return firstDiff(u.data, want, 'randomUniform');
    }
    if (a.compareSeed !== undefined) {
      const same = u.data.every((v, i) => v === other.data[i]);
      return same ? `seeds ${a.seed} and ${a.compareSeed} drew the same numbers` : null;
    }
    if (a.withBits) {
      for (let i = 0; i < u.data.length; i++) {
        const want = ((other.data[i] >>> 0) >>> 8) * 2 ** -24;
        if (u.data[i] !== want) return `element ${i}: uniform ${u.data[i]} but bits ${other.data[i] >>> 0} give ${want}`;
      }
      return null;
    }
    if (lo === 0 && hi === 1) {
      for (const v of u.data) if (!Number.isInteger(v * 2 ** 24)) return `value ${v} is not a multiple of 2^-24`;
    }
    if (u.data.length < 1000) return null;
    const { mean, std } = moments(u.data);
    const w = hi - lo;
    const n = u.data.length;
    return first(
      within('mean', mean, lo + w / 2 - (5 * w) / Math.sqrt(12 * n), lo + w / 2 + (5 * w) / Math.sqrt(12 * n)),
      within('std', std, (w / Math.sqrt(12)) * 0.98, (w / Math.sqrt(12)) * 1.02),
    );
  },
  cases: () => [
    { label: 'stats-[10000]', inputs: [], attrs: { shape: [10000], seed: 1 }, tags: ['stats', 'large'] },
    { label: 'range-[-2,5]-[4096]', inputs: [], attrs: { shape: [64, 64], seed: 7, min: -2, max: 5 }, tags: ['stats'] },
    ...shapesCases({}),
    { label: 'seeds-differ', inputs: [], attrs: { shape: [64], seed: 1, compareSeed: 2 }, tags: ['stats'] },
    { label: 'equals-bits-shifted', inputs: [], attrs: { shape: [1001], seed: 5, withBits: true }, tags: ['bit-exact', 'odd'] },
    { label: 'reference-[1001]', inputs: [], attrs: { shape: [1001], seed: 3, reference: true }, tags: ['bit-exact', 'odd'] },
    { label: 'reference-[4,5]-seed0', inputs: [], attrs: { shape: [4, 5], seed: 0, reference: true }, tags: ['bit-exact'] },
    { label: 'int32-[-3,4)', inputs: [], attrs: { shape: [2000], seed: 8, min: -3, max: 4, dtype: 'int32' }, tags: ['stats'] },
  ],
  grad: 'none',
};

function normalSpec(truncated: boolean): OpSpec {
  const name = truncated ? 'truncatedNormal' : 'randomNormal';
  return {
    name,
    family: 'random',
    kind: 'composite',
    op: name,
    kernels: ['randomBits'],
    dtypes: ['float32'],
    run: (api, _xs, a) =>
      api[name](a.shape as number[], { mean: a.mean as number | undefined, stddev: a.stddev as number | undefined, seed: a.seed as number }),
    check: ([x], a) => {
      const mu = (a.mean as number | undefined) ?? 0;
      const sigma = (a.stddev as number | undefined) ?? 1;
      if (x.dtype !== 'float32') return `dtype ${x.dtype}, expected float32`;
      const shapeErr = checkShape(x, a);
      if (shapeErr) return shapeErr;
      if (a.reference) {
        const n = x.data.length;
        const u = Array.from(refBits(a.seed as number, 2 * n), bitsToUniform);
        for (let i = 0; i < n; i++) {
          const z = Math.sqrt(-2 * Math.log(1 - u[i])) * Math.cos(2 * Math.PI * u[n + i]);
          const want = Math.fround(z * sigma + mu);
          if (!(Math.abs(x.data[i] - want) <= 1e-4 + 1e-3 * Math.abs(want))) {
            return `element ${i} is ${x.data[i]}, Box–Muller over the threefry reference gives ${want}`;
          }
        }
      }
      for (const v of x.data) {
        if (!Number.isFinite(v)) return `non-finite value ${v}`;
        if (truncated && Math.abs(v - mu) > 2 * sigma * (1 + 1e-6)) return `value ${v} beyond 2σ of ${mu}`;
      }
      const n = x.data.length;
      if (n < 1000) return null;
      const { mean, std } = moments(x.data);
      // A normal truncated to ±2σ has standard deviation 0.87962566σ.
      const s = truncated ? 0.87962566 * sigma : sigma;
      return first(
        within('mean', mean, mu - (5 * s) / Math.sqrt(n), mu + (5 * s) / Math.sqrt(n)),
        within('std', std, s * (1 - 5 / Math.sqrt(2 * n)), s * (1 + 5 / Math.sqrt(2 * n))),
      );
    },
    cases: () => [
      { label: 'stats-[20000]', inputs: [], attrs: { shape: [20000], seed: 3 }, tags: ['stats', 'large'] },
      { label: 'mean-std-[100,100]', inputs: [], attrs: { shape: [100, 100], seed: 4, mean: 2, stddev: 0.5 }, tags: ['stats'] },
      ...shapesCases({}),
      ...(truncated ? [] : [{ label: 'reference-[999]', inputs: [], attrs: { shape: [999], seed: 12, mean: 1, stddev: 2, reference: true }, tags: ['bit-exact', 'odd'] } as CaseDef]),
    ],
    grad: 'none',
  };
}

const randomBits: OpSpec = {
  name: 'randomBits',
  family: 'random',
  kind: 'primitive',
  op: 'randomBits',
  kernels: ['randomBits'],
  dtypes: ['int32'],
  run: (api, _xs, a) => api.randomBits(a.shape as number[], a.seed as number),
  check: ([x], a) => {
    if (x.dtype !== 'int32') return `dtype ${x.dtype}, expected int32`;
    const shapeErr = checkShape(x, a);
    if (shapeErr) return shapeErr;
    const n = x.data.length;
    if (a.reference) return firstDiff(x.data, Array.from(refBits(a.seed as number, n), (b) => b | 0), 'randomBits');
    if (n < 1000) return null;
    const tol = 5 * Math.sqrt(0.25 / n);
    for (let b = 0; b < 32; b++) {
      let ones = 0;
      for (const v of x.data) ones += (v >>> b) & 1;
      const err = within(`frequency of bit ${b}`, ones / n, 0.5 - tol, 0.5 + tol);
      if (err) return err;
    }
    return null;
  },
  cases: () => [
    { label: 'bits-[10001]', inputs: [], attrs: { shape: [10001], seed: 9 }, tags: ['stats', 'odd', 'large'] },
    { label: 'bits-[100,100]', inputs: [], attrs: { shape: [100, 100], seed: 0 }, tags: ['stats'] },
    ...shapesCases({}),
    ...([[[1], 0], [[7], 1], [[2, 3], 42], [[1001], 123456789], [[5], 2 ** 32 + 7], [[64], 2 ** 40 + 3]] as [number[], number][]).map(
      ([shape, seed]): CaseDef => ({
        label: `reference-${shapeText(shape)}-seed${seed}`, inputs: [], attrs: { shape, seed, reference: true }, tags: ['bit-exact'],
      }),
    ),
  ],
  grad: 'none',
};

/** Random number ops. */
export const randomSpecs: readonly OpSpec[] = [randomUniform, normalSpec(false), normalSpec(true), randomBits];
