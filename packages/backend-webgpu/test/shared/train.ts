/**
 * A training-like workload shared by the Node test and the browser test: a two-layer MLP
 * (fused matmul + bias + relu, softmax cross-entropy, hand-written backward pass, fused Adam
 * step) run for a few steps on the current backend, against the same arithmetic in float64
 * on the host.
 */
import type * as Core from '@tessera/core';

type Api = typeof Core;

const N = 16, D = 8, H = 12, C = 4;

/** Deterministic values in [-1, 1). */
function lcg(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}

/** Row-major float64 matrix helpers for the reference. */
function mm(a: number[], b: number[], m: number, k: number, n: number): number[] {
  const o = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) for (let q = 0; q < k; q++) for (let j = 0; j < n; j++) o[i * n + j] += a[i * k + q] * b[q * n + j];
  return o;
}
function tr(a: number[], m: number, n: number): number[] {
  const o = new Array<number>(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) o[j * m + i] = a[i * n + j];
  return o;
}

interface Params { w1: number[]; b1: number[]; w2: number[]; b2: number[] }

/** One step of the reference (float64): returns the loss and updates params/state in place. */
function refStep(x: number[], y: number[], p: Params, st: Record<keyof Params, [number[], number[]]>, step: number, lr: number): number {
  const h = mm(x, p.w1, N, D, H).map((v, i) => Math.max(0, v + p.b1[i % H]));
  const logits = mm(h, p.w2, N, H, C).map((v, i) => v + p.b2[i % C]);
  let loss = 0;
  const dlog = new Array<number>(N * C);
  for (let r = 0; r < N; r++) {
    const row = logits.slice(r * C, r * C + C);
    const mx = Math.max(...row);
    const se = row.reduce((s, v) => s + Math.exp(v - mx), 0);
    for (let j = 0; j < C; j++) {
      const ls = row[j] - mx - Math.log(se);
      loss -= y[r * C + j] * ls;
      dlog[r * C + j] = (Math.exp(ls) - y[r * C + j]) / N;
    }
  }
  loss /= N;
  const g: Params = {
    w2: mm(tr(h, N, H), dlog, H, N, C),
    b2: Array.from({ length: C }, (_, j) => dlog.filter((_, i) => i % C === j).reduce((s, v) => s + v, 0)),
    w1: [], b1: [],
  };
  const dh = mm(dlog, tr(p.w2, H, C), N, C, H).map((v, i) => (h[i] > 0 ? v : 0));
  g.w1 = mm(tr(x, N, D), dh, D, N, H);
  g.b1 = Array.from({ length: H }, (_, j) => dh.filter((_, i) => i % H === j).reduce((s, v) => s + v, 0));
  const b1 = 0.9, b2 = 0.999, eps = 1e-7;
  const alpha = (lr * Math.sqrt(1 - b2 ** step)) / (1 - b1 ** step);
  for (const k of ['w1', 'b1', 'w2', 'b2'] as const) {
    const [m, v] = st[k];
    for (let i = 0; i < p[k].length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[k][i];
      v[i] = b2 * v[i] + (1 - b2) * g[k][i] ** 2;
      p[k][i] -= (alpha * m[i]) / (Math.sqrt(v[i]) + eps);
    }
  }
  return loss;
}

/** Result of {@link runTraining}. */
export interface TrainingResult {
  losses: number[];
  refLosses: number[];
  /** Largest |param − reference| after the last step. */
  maxParamErr: number;
}

/**
 * Runs `steps` training steps on the current backend and the float64 reference.
 * @example const r = await runTraining(core, 5); // r.losses decrease, r.maxParamErr < 1e-4
 */
export async function runTraining(api: Api, steps = 5, lr = 0.05): Promise<TrainingResult> {
  const xv = lcg(N * D, 1), yv = new Array<number>(N * C).fill(0);
  for (let r = 0; r < N; r++) yv[r * C + (r * 7) % C] = 1;
  const init: Params = { w1: lcg(D * H, 2).map((v) => v * 0.5), b1: lcg(H, 3).map((v) => v * 0.1), w2: lcg(H * C, 4).map((v) => v * 0.5), b2: lcg(C, 5).map((v) => v * 0.1) };
  const shapes: Record<keyof Params, number[]> = { w1: [D, H], b1: [H], w2: [H, C], b2: [C] };
  const keys = ['w1', 'b1', 'w2', 'b2'] as const;
  const ref: Params = { w1: init.w1.map(Math.fround), b1: init.b1.map(Math.fround), w2: init.w2.map(Math.fround), b2: init.b2.map(Math.fround) };
  const refSt = Object.fromEntries(keys.map((k) => [k, [new Array(ref[k].length).fill(0), new Array(ref[k].length).fill(0)]])) as Record<keyof Params, [number[], number[]]>;
  const xr = xv.map(Math.fround);

  const x = api.tensor(Float32Array.from(xv), [N, D]);
  const y = api.tensor(Float32Array.from(yv), [N, C]);
  const params = keys.map((k) => api.tensor(Float32Array.from(init[k]), shapes[k]));
  const state = params.map((p) => [api.zerosLike(p), api.zerosLike(p)]);
  const losses: number[] = [], refLosses: number[] = [];
  try {
    for (let step = 1; step <= steps; step++) {
      const [w1, b1, w2, b2] = params;
      const lossT = api.tidy(() => {
        const h = api.linear(x, w1, b1, 'relu');
        const logits = api.linear(h, w2, b2);
        const loss = api.mean(api.softmaxCrossEntropy(logits, y));
        const dlog = api.div(api.sub(api.softmax(logits), y), N);
        const gw2 = api.matmul(h, dlog, { transposeA: true });
        const gb2 = api.sum(dlog, 0);
        const dh = api.mul(api.matmul(dlog, w2, { transposeB: true }), api.cast(api.greater(h, 0), 'float32'));
        const gw1 = api.matmul(x, dh, { transposeA: true });
        const gb1 = api.sum(dh, 0);
        api.optimizerStep('adam', params, [gw1, gb1, gw2, gb2], state, { lr, step });
        return loss;
      });
      losses.push((await lossT.data())[0]);
      lossT.dispose();
      refLosses.push(refStep(xr, yv, ref, refSt, step, lr));
    }
    let maxParamErr = 0;
    for (let i = 0; i < keys.length; i++) {
      const got = await params[i].data();
      ref[keys[i]].forEach((v, j) => { maxParamErr = Math.max(maxParamErr, Math.abs(got[j] - v)); });
    }
    return { losses, refLosses, maxParamErr };
  } finally {
    for (const t of [x, y, ...params, ...state.flat()]) t.dispose();
  }
}
