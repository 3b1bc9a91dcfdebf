/**
 * Batched matmul, register-tiled: a workgroup of 8×8 invocations computes a 32×32 output
 * tile, each invocation 4 rows × 4 (interleaved) columns held in four vec4 accumulators, reading A and B through
 * their strides (transposes and broadcast batches need no copy). The fused form adds the
 * bias and applies the activation in the epilogue.
 * @module
 */
import type { Activation, View } from '@tessera/core';
import type { Ctx } from '../ctx.js';
import { collapse, MAX_RANK, sizeOf } from '../layout.js';
import { type Operand, planWindows } from '../window.js';
import type { BindRange } from '../runtime.js';
import { entry, header, type BindingDecl, Words } from '../wgsl.js';

const TILE = 32;
const M_M = 0, M_N = 1, M_K = 2, M_BRANK = 3, M_TM = 4, M_TN = 5, M_NB = 6, M_AOFF = 7, M_BOFF = 8, M_OOFF = 9;
const M_ARS = 10, M_ACS = 11, M_BRS = 12, M_BCS = 13, M_BIASOFF = 14, M_BIASS = 15;
const M_BSHAPE = 16, M_ABS = M_BSHAPE + MAX_RANK, M_BBS = M_ABS + MAX_RANK, M_OBS = M_BBS + MAX_RANK;
const M_ORS = M_OBS + MAX_RANK, M_OCS = M_ORS + 1, M_FLAGS = M_OCS + 1;
const M_WORDS = M_FLAGS + 1;
/** M_FLAGS bits: add the partial sum already in out (a K window after the first); apply bias and activation (the last). */
const F_ACCUMULATE = 1, F_EPILOGUE = 2;

/** WGSL of an activation applied to `v`, and the library it needs. */
export function activationOf(act: Activation): [(v: string) => string, string[]] {
  switch (act) {
    case 'linear': return [(v) => v, []];
    case 'relu': return [(v) => `select(${v}, 0.0, ${v} < 0.0)`, []];
    case 'sigmoid': return [(v) => `sigmoid_f(${v})`, ['sigmoid_f']];
    case 'tanh': return [(v) => `tanh_f(${v})`, ['tanh_f']];
    case 'gelu': return [(v) => `gelu_f(${v})`, ['gelu_f']];
  }
  throw new Error(`webgpu backend: unknown activation '${act as string}'`);
}

function shader(hasBias: boolean, act: Activation): string {
  const bindings: BindingDecl[] = [{ name: 'O', ty: 'f32', access: 'w' }, { name: 'A', ty: 'f32', access: 'r' }, { name: 'B', ty: 'f32', access: 'r' }];
  if (hasBias) bindings.push({ name: 'BIAS', ty: 'f32', access: 'r' });
  const [f, lib] = activationOf(act);
  const rows = [0, 1, 2, 3];
  return `${header(M_WORDS, bindings, ['consts', ...lib])}
${entry(64, `  let M = pu(${M_M}u);
  let N = pu(${M_N}u);
  let K = pu(${M_K}u);
  let tilesN = pu(${M_TN}u);
  let tilesM = pu(${M_TM}u);
  let tn = g % tilesN;
  let t2 = g / tilesN;
  let tm = t2 % tilesM;
  let bt = t2 / tilesM;
  if (bt >= pu(${M_NB}u)) { return; }
  var ao = pi(${M_AOFF}u);
  var bo = pi(${M_BOFF}u);
  var oo = pi(${M_OOFF}u);
  {
    var rem = bt;
    for (var d = i32(pu(${M_BRANK}u)) - 1; d >= 0; d = d - 1) {
      let n = pu(${M_BSHAPE}u + u32(d));
      let c = i32(rem % n);
      rem = rem / n;
      ao = ao + c * pi(${M_ABS}u + u32(d));
      bo = bo + c * pi(${M_BBS}u + u32(d));
      oo = oo + c * pi(${M_OBS}u + u32(d));
    }
  }
  let row0 = tm * ${TILE}u + (lid / 8u) * 4u;
  // Columns interleave across the 8 invocations of a row (col0 + j·8), so that neighbouring
  // invocations read neighbouring B elements (vector loads on CPU drivers, coalesced on GPUs).
  let col0 = tn * ${TILE}u + (lid % 8u);
  let ars = pi(${M_ARS}u);
  let acs = pi(${M_ACS}u);
  let brs = pi(${M_BRS}u);
  let bcs = pi(${M_BCS}u);
${rows.map((i) => `  let pa${i} = ao + i32(min(row0 + ${i}u, M - 1u)) * ars;`).join('\n')}
${rows.map((j) => `  let pb${j} = bo + i32(min(col0 + ${j * 8}u, N - 1u)) * bcs;`).join('\n')}
${rows.map((i) => `  var acc${i} = vec4<f32>(0.0);`).join('\n')}
  for (var kk = 0u; kk < K; kk = kk + 1u) {
    let ka = i32(kk) * acs;
    let kb = i32(kk) * brs;
    let bv = vec4<f32>(B[pb0 + kb], B[pb1 + kb], B[pb2 + kb], B[pb3 + kb]);
${rows.map((i) => `    acc${i} = acc${i} + A[pa${i} + ka] * bv;`).join('\n')}
  }
  let ors = pi(${M_ORS}u);
  let ocs = pi(${M_OCS}u);
  let flags = pu(${M_FLAGS}u);
${rows.map((i) => `  if (row0 + ${i}u < M) {
    for (var j = 0u; j < 4u; j = j + 1u) {
      let col = col0 + j * 8u;
      if (col < N) {
        let at = oo + i32(row0 + ${i}u) * ors + i32(col) * ocs;
        var v = acc${i}[j];
        if ((flags & ${F_ACCUMULATE}u) != 0u) { v = O[at] + v; }
        if ((flags & ${F_EPILOGUE}u) != 0u) {
          ${hasBias ? `v = v + BIAS[pi(${M_BIASOFF}u) + i32(col) * pi(${M_BIASS}u)];` : ''}
          v = ${f('v')};
        }
        O[at] = v;
      }
    }
  }`).join('\n')}`)}`;
}

/** `out = a @ b` (batched, strided operands). */
export function matmul(ctx: Ctx, a: View, b: View, out: View): void {
  matmulFused(ctx, a, b, null, 'linear', out);
}

/**
 * `out = act(a @ b + bias)`; bias `[n]` or null. Every operand is strided (out too).
 *
 * Windows: the work is the batch axes, M, N and K. A large `a` or `out` is cut along M (or
 * the batch), a large `b` along N or K — whichever shrinks its span most. K windows run in
 * order into the same output tile: the first writes the partial sums, the next ones add
 * theirs, the last applies bias and activation.
 */
export function matmulFused(ctx: Ctx, a: View, b: View, bias: View | null, act: Activation, out: View): void {
  if (out.size === 0) return;
  const r = out.shape.length;
  const m = out.shape[r - 2], n = out.shape[r - 1], k = a.shape[r - 1];
  const batchShape = out.shape.slice(0, r - 2);
  const c = collapse(batchShape, [a.strides.slice(0, r - 2), b.strides.slice(0, r - 2), out.strides.slice(0, r - 2)]);
  if (c.shape.length > MAX_RANK) throw new Error(`webgpu backend: matmul with more than ${MAX_RANK} non-mergeable batch axes is not supported`);
  const nb = c.shape.length;
  const zeros = c.shape.map(() => 0);
  const ars = a.strides[r - 2], acs = a.strides[r - 1], brs = b.strides[r - 2], bcs = b.strides[r - 1];
  const ors = out.strides[r - 2], ocs = out.strides[r - 1];
  const biasS = bias !== null ? (bias.strides[bias.strides.length - 1] ?? 0) : 0;
  const operands: Operand[] = [
    { view: out, strides: [...c.strides[2], ors, ocs, 0] },
    { view: a, strides: [...c.strides[0], ars, 0, acs] },
    { view: b, strides: [...c.strides[1], 0, bcs, brs] },
  ];
  if (bias !== null) operands.push({ view: bias, strides: [...zeros, 0, biasS, 0] });
  const plan = planWindows(ctx, [...c.shape, m, n, k], operands, 'matmul');
  const kWins = plan.chunks[nb + 2];
  const key = `matmul:${bias !== null ? 'bias' : 'nobias'}:${act}`;
  const bindings: BindingDecl[] = [{ name: 'O', ty: 'f32', access: 'w' }, { name: 'A', ty: 'f32', access: 'r' }, { name: 'B', ty: 'f32', access: 'r' }];
  if (bias !== null) bindings.push({ name: 'BIAS', ty: 'f32', access: 'r' });
  for (const p of plan.pieces) {
    const pm = p.shape[nb], pn = p.shape[nb + 1], pk = p.shape[nb + 2];
    const kw = p.index[nb + 2];
    const pBatch = p.shape.slice(0, nb);
    const nBatch = sizeOf(pBatch);
    const tilesM = Math.ceil(pm / TILE), tilesN = Math.ceil(pn / TILE);
    const bo = ctx.bind(p.views[0], 'matmul'), ba = ctx.bind(p.views[1], 'matmul'), bb = ctx.bind(p.views[2], 'matmul');
    const ranges: BindRange[] = [bo.range, ba.range, bb.range];
    const w = new Words(M_WORDS)
      .u(M_M, pm).u(M_N, pn).u(M_K, pk).u(M_BRANK, nb).u(M_TM, tilesM).u(M_TN, tilesN).u(M_NB, nBatch)
      .i(M_AOFF, ba.offset).i(M_BOFF, bb.offset).i(M_OOFF, bo.offset)
      .i(M_ARS, ars).i(M_ACS, acs).i(M_BRS, brs).i(M_BCS, bcs).i(M_ORS, ors).i(M_OCS, ocs)
      .ints(M_BSHAPE, pBatch).ints(M_ABS, c.strides[0]).ints(M_BBS, c.strides[1]).ints(M_OBS, c.strides[2])
      .u(M_FLAGS, (kw > 0 ? F_ACCUMULATE : 0) | (kw === kWins - 1 ? F_EPILOGUE : 0));
    if (bias !== null) {
      const bb2 = ctx.bind(p.views[3], 'matmul');
      ranges.push(bb2.range);
      w.i(M_BIASOFF, bb2.offset).i(M_BIASS, biasS);
    }
    ctx.run(key, bindings, M_WORDS, () => shader(bias !== null, act), w.a, ranges, tilesM * tilesN * nBatch);
  }
}
