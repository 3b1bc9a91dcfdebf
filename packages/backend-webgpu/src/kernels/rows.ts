/**
 * Row kernels over the last axis — softmax / log-softmax, softmax cross-entropy, layer
 * norm — written once and generated in two variants: one invocation per row (short rows),
 * or one workgroup per row with tree reductions in workgroup memory (long rows).
 * @module
 */
import type { View } from '@tessera/core';
import { type Ctx, WG } from '../ctx.js';
import { collapse, MAX_RANK, sizeOf } from '../layout.js';
import { planWindows } from '../window.js';
import type { BindRange } from '../runtime.js';
import { entry, header, type BindingDecl, Words } from '../wgsl.js';

/** Rows at least this long get a workgroup each. */
const WG_ROW_MIN = 128;
const RWG = 64;

const W_ROWS = 0, W_N = 1, W_LRANK = 2, W_EPS = 3, W_LSHAPE = 4, W_OPS = W_LSHAPE + MAX_RANK;
const OPW = 2 + MAX_RANK;

interface RowOperand {
  name: string;
  view: View;
  access: 'r' | 'w';
  /** Strides over the leading (row) axes, aligned to x's leading axes. */
  lead: number[];
  /** Stride along the row (0 for per-row outputs). */
  last: number;
}

/** Strides that broadcast `v` (right-aligned) to rank `rank`. */
function broadcastStrides(v: View, rank: number): number[] {
  const s = new Array<number>(rank).fill(0);
  const lead = rank - v.shape.length;
  for (let d = 0; d < v.shape.length; d++) if (d + lead >= 0 && v.shape[d] !== 1) s[d + lead] = v.strides[d];
  return s;
}

/** Generates and runs a row kernel; `body(v)` gets the loop/reduce macros of variant `v`. */
function runRows(ctx: Ctx, key: string, x: View, ops: RowOperand[], eps: number, lib: string[], body: (m: Macros) => string): void {
  const r = x.shape.length;
  const n = r === 0 ? 1 : x.shape[r - 1];
  const leadShape = x.shape.slice(0, Math.max(0, r - 1));
  const c = collapse(leadShape, ops.map((o) => o.lead));
  if (c.shape.length > MAX_RANK) throw new Error(`webgpu backend: ${key} over more than ${MAX_RANK} leading axes is not supported`);
  const rows = n === 0 ? 0 : x.size / n;
  if (rows === 0) return;
  const wg = n >= WG_ROW_MIN;
  const words = W_OPS + OPW * ops.length;
  const bindings: BindingDecl[] = ops.map((o) => ({ name: o.name, ty: 'f32', access: o.access }));
  const offsets = ops.map((o, k) => `  var ${o.name}o = pi(${W_OPS + OPW * k}u);\n  let ${o.name}s = pi(${W_OPS + OPW * k + 1}u);`).join('\n');
  const decompose = ops.map((o, k) => `      ${o.name}o = ${o.name}o + c * pi(${W_OPS + OPW * k + 2}u + u32(d));`).join('\n');
  const m = wg ? wgMacros : lineMacros;
  const code = (): string => `${header(words, bindings, ['consts', ...lib])}
${wg ? `var<workgroup> sh: array<f32, ${RWG}>;
fn tree_max(v: f32, lid: u32) -> f32 {
  sh[lid] = v;
  workgroupBarrier();
  for (var h = ${RWG / 2}u; h > 0u; h = h >> 1u) {
    if (lid < h) { sh[lid] = max_f(sh[lid], sh[lid + h]); }
    workgroupBarrier();
  }
  let r = sh[0];
  workgroupBarrier();
  return r;
}
fn tree_sum(v: f32, lid: u32) -> f32 {
  sh[lid] = v;
  workgroupBarrier();
  for (var h = ${RWG / 2}u; h > 0u; h = h >> 1u) {
    if (lid < h) { sh[lid] = sh[lid] + sh[lid + h]; }
    workgroupBarrier();
  }
  let r = sh[0];
  workgroupBarrier();
  return r;
}` : ''}
${entry(wg ? RWG : WG, `  let row = ${wg ? 'g' : `g * ${WG}u + lid`};
  if (row >= pu(${W_ROWS}u)) { return; }
  let n = pu(${W_N}u);
  let eps = pf(${W_EPS}u);
${offsets}
  {
    var rem = row;
    for (var d = i32(pu(${W_LRANK}u)) - 1; d >= 0; d = d - 1) {
      let ln = pu(${W_LSHAPE}u + u32(d));
      let c = i32(rem % ln);
      rem = rem / ln;
${decompose}
    }
  }
${body(m)}`)}`;
  // Windows: rows (the leading axes) are cut; a row is bound whole.
  const plan = planWindows(ctx, leadShape, ops.map((o) => ({ view: o.view, strides: o.lead, fixed: [[n, o.last]] })), key);
  for (const p of plan.pieces) {
    const pc = collapse(p.shape, ops.map((o) => o.lead));
    const pRows = sizeOf(p.shape);
    const w = new Words(words).u(W_ROWS, pRows).u(W_N, n).u(W_LRANK, pc.shape.length).f(W_EPS, eps).ints(W_LSHAPE, pc.shape);
    const ranges: BindRange[] = [];
    ops.forEach((o, k) => {
      const b = ctx.bind(p.views[k], key);
      ranges.push(b.range);
      w.i(W_OPS + OPW * k, b.offset).i(W_OPS + OPW * k + 1, o.last).ints(W_OPS + OPW * k + 2, pc.strides[k]);
    });
    ctx.run(`rows:${key}:${wg ? 'wg' : 'line'}`, bindings, words, code, w.a, ranges, wg ? pRows : Math.ceil(pRows / WG));
  }
}

/** Loop and reduction macros of a variant. */
interface Macros {
  /** `for` header visiting this invocation's share of the row, index `i` (u32). */
  loop: string;
  /** Combines per-invocation partial maxima / sums into the row's value. */
  max: (v: string) => string;
  sum: (v: string) => string;
  /** Guard for statements only one invocation of the row should run. */
  single: string;
}

const lineMacros: Macros = {
  loop: 'for (var i = 0u; i < n; i = i + 1u)',
  max: (v) => v,
  sum: (v) => v,
  single: 'true',
};

const wgMacros: Macros = {
  loop: `for (var i = lid; i < n; i = i + ${RWG}u)`,
  max: (v) => `tree_max(${v}, lid)`,
  sum: (v) => `tree_sum(${v}, lid)`,
  single: 'lid == 0u',
};

function rowOperand(name: string, v: View, access: 'r' | 'w', rank: number, perRow = false): RowOperand {
  const s = broadcastStrides(v, perRow ? rank - 1 : rank);
  if (perRow) return { name, view: v, access, lead: s, last: 0 };
  return { name, view: v, access, lead: s.slice(0, Math.max(0, rank - 1)), last: rank === 0 ? 0 : s[rank - 1] };
}

/** Softmax (or log-softmax) over the last axis, max-shifted. */
export function softmax(ctx: Ctx, x: View, log: boolean, out: View): void {
  if (out.size === 0) return;
  const r = x.shape.length;
  runRows(ctx, log ? 'logsoftmax' : 'softmax', x, [rowOperand('O', out, 'w', r), rowOperand('X', x, 'r', r)], 0, ['max_f', 'log_f'], (m) => `  var mx = -inf_f();
  ${m.loop} { mx = max_f(mx, X[Xo + i32(i) * Xs]); }
  mx = ${m.max('mx')};
  var s = 0.0;
  ${m.loop} { s = s + exp_f(X[Xo + i32(i) * Xs] - mx); }
  s = ${m.sum('s')};
${log ? `  let ls = log_f(s);
  ${m.loop} { O[Oo + i32(i) * Os] = X[Xo + i32(i) * Xs] - mx - ls; }` : `  let inv = 1.0 / s;
  ${m.loop} { O[Oo + i32(i) * Os] = exp_f(X[Xo + i32(i) * Xs] - mx) * inv; }`}`);
}

/** Per-row `-Σ labels · logSoftmax(logits)` over the last axis. */
export function softmaxCrossEntropy(ctx: Ctx, logits: View, labels: View, out: View): void {
  if (out.size === 0) return;
  const r = logits.shape.length;
  runRows(ctx, 'xent', logits, [rowOperand('O', out, 'w', r, true), rowOperand('X', logits, 'r', r), rowOperand('L', labels, 'r', r)], 0, ['max_f', 'log_f'], (m) => `  var mx = -inf_f();
  ${m.loop} { mx = max_f(mx, X[Xo + i32(i) * Xs]); }
  mx = ${m.max('mx')};
  var s = 0.0;
  ${m.loop} { s = s + exp_f(X[Xo + i32(i) * Xs] - mx); }
  s = ${m.sum('s')};
  let ls = log_f(s);
  var loss = 0.0;
  ${m.loop} { loss = loss - L[Lo + i32(i) * Ls] * (X[Xo + i32(i) * Xs] - mx - ls); }
  loss = ${m.sum('loss')};
  if (${m.single}) { O[Oo] = loss; }`);
}

/** Layer norm over the last axis: `(x - mean)/√(var + eps) · gamma + beta`, biased variance. */
export function layerNorm(ctx: Ctx, x: View, gamma: View, beta: View, epsilon: number, out: View): void {
  if (out.size === 0) return;
  const r = x.shape.length;
  const ops = [rowOperand('O', out, 'w', r), rowOperand('X', x, 'r', r), rowOperand('G', gamma, 'r', r), rowOperand('B', beta, 'r', r)];
  runRows(ctx, 'layernorm', x, ops, epsilon, ['max_f'], (m) => `  var s = 0.0;
  ${m.loop} { s = s + X[Xo + i32(i) * Xs]; }
  let mean = ${m.sum('s')} / f32(n);
  var v = 0.0;
  ${m.loop} { let dd = X[Xo + i32(i) * Xs] - mean; v = v + dd * dd; }
  let inv = 1.0 / sqrt(${m.sum('v')} / f32(n) + eps);
  ${m.loop} { O[Oo + i32(i) * Os] = (X[Xo + i32(i) * Xs] - mean) * inv * G[Go + i32(i) * Gs] + B[Bo + i32(i) * Bs]; }`);
}
