/**
 * The in-place multi-tensor optimizer step: one dispatch per parameter tensor, all recorded
 * into the same batch (one submit for the whole step).
 * @module
 */
import type { OptimizerHyper, OptimizerKind, View } from '@tessera/core';
import { type Ctx, WG } from '../ctx.js';
import type { BindRange } from '../runtime.js';
import { entry, header, type BindingDecl, Words } from '../wgsl.js';
import { contiguousLike } from './map.js';
import { planWindows } from '../window.js';

const O_N = 0, O_P = 1, O_G = 2, O_S0 = 3, O_S1 = 4, O_LR = 5, O_MOM = 6, O_B1 = 7, O_1B1 = 8, O_B2 = 9, O_1B2 = 10;
const O_EPS = 11, O_DECAY = 12, O_ALPHA = 13;
const O_WORDS = 16;

const UPDATE: Record<OptimizerKind, string> = {
  sgd: '  P[p] = P[p] - lr * G[q];',
  momentum: `  let v = pf(${O_MOM}u) * S0[s0] - lr * G[q];
  S0[s0] = v;
  P[p] = P[p] + v;`,
  nesterov: `  let gr = G[q];
  let m = pf(${O_MOM}u);
  let v = m * S0[s0] - lr * gr;
  S0[s0] = v;
  P[p] = P[p] + (m * v - lr * gr);`,
  adam: `  let gr = G[q];
  var pv = P[p];
  let decay = pf(${O_DECAY}u);
  if (decay != 0.0) { pv = pv - decay * pv; }
  let m = pf(${O_B1}u) * S0[s0] + pf(${O_1B1}u) * gr;
  let v = pf(${O_B2}u) * S1[s1] + pf(${O_1B2}u) * gr * gr;
  S0[s0] = m;
  S1[s1] = v;
  P[p] = pv - pf(${O_ALPHA}u) * m / (sqrt(v) + pf(${O_EPS}u));`,
};

/**
 * Updates each contiguous `params[i]` and its `state[i]` (momentum: `[v]`, adam: `[m, v]`)
 * in place from `grads[i]`, with the rules of core's `OptimizerHyper`. Missing
 * hyper-parameters take the defaults of core's reference decomposition (momentum 0.9,
 * β1 0.9, β2 0.999, ε 1e-7).
 */
export function optimizerStep(
  ctx: Ctx, kind: OptimizerKind, params: readonly View[], grads: readonly View[], state: readonly (readonly View[])[], hyper: OptimizerHyper,
): void {
  const lr = hyper.lr;
  const b1 = hyper.beta1 ?? 0.9, b2 = hyper.beta2 ?? 0.999, eps = hyper.epsilon ?? 1e-7;
  const wd = hyper.weightDecay ?? 0;
  const alpha = (lr * Math.sqrt(1 - Math.pow(b2, hyper.step))) / (1 - Math.pow(b1, hyper.step));
  const nState = kind === 'sgd' ? 0 : kind === 'adam' ? 2 : 1;
  const bindings: BindingDecl[] = [{ name: 'P', ty: 'f32', access: 'w' }, { name: 'G', ty: 'f32', access: 'r' }];
  if (nState >= 1) bindings.push({ name: 'S0', ty: 'f32', access: 'w' });
  if (nState >= 2) bindings.push({ name: 'S1', ty: 'f32', access: 'w' });
  const code = (): string => `${header(O_WORDS, bindings)}\n${entry(WG, `  let i = g * ${WG}u + lid;
  if (i >= pu(${O_N}u)) { return; }
  let p = pi(${O_P}u) + i32(i);
  let q = pi(${O_G}u) + i32(i);
  let s0 = pi(${O_S0}u) + i32(i);
  let s1 = pi(${O_S1}u) + i32(i);
  let lr = pf(${O_LR}u);
${UPDATE[kind]}`)}`;
  for (let t = 0; t < params.length; t++) {
    const pv = params[t];
    const n = pv.size;
    if (n === 0) continue;
    const g = contiguousLike(ctx, grads[t], 'optimizerStep');
    const st = state[t] ?? [];
    // Windows: a tensor larger than one binding is updated in several dispatches.
    const views = [pv, g.view, ...st.slice(0, nState)];
    const plan = planWindows(ctx, [n], views.map((v) => ({ view: v, strides: [1] })), 'optimizerStep');
    for (const p of plan.pieces) {
      const [bp, bg, ...bs] = p.views.map((v) => ctx.bind(v, 'optimizerStep'));
      const ranges: BindRange[] = [bp.range, bg.range, ...bs.map((b) => b.range)];
      const w = new Words(O_WORDS).u(O_N, p.shape[0]).i(O_P, bp.offset).i(O_G, bg.offset)
        .f(O_LR, lr).f(O_MOM, hyper.momentum ?? 0.9).f(O_B1, b1).f(O_1B1, 1 - b1).f(O_B2, b2).f(O_1B2, 1 - b2)
        .f(O_EPS, eps).f(O_DECAY, wd > 0 ? lr * wd : 0).f(O_ALPHA, alpha);
      bs.forEach((b, k) => w.i(k === 0 ? O_S0 : O_S1, b.offset));
      ctx.run(`optimizer:${kind}`, bindings, O_WORDS, code, w.a, ranges, Math.ceil(p.shape[0] / WG));
    }
    g.done();
  }
}
