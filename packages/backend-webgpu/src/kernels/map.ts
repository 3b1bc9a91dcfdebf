/**
 * The element-wise engine behind fill, copy, cast, unary, binary, compare and where: one
 * generated shader per op, dtypes and layout class, with shapes, strides and offsets passed
 * as uniforms so a pipeline serves every shape. Layout classes, per operand: `c` contiguous
 * (element i at offset + i), `b` a broadcast scalar (every stride 0), `s` strided (the
 * index is decomposed over the collapsed shape, up to {@link MAX_RANK} axes).
 * @module
 */
import type { View } from '@tessera/core';
import { type Ctx, WG } from '../ctx.js';
import { collapse, isContiguous, MAX_RANK, reshapeView } from '../layout.js';
import type { BindRange } from '../runtime.js';
import { entry, header, type BindingDecl, type Ty, Words } from '../wgsl.js';
import { planWindows } from '../window.js';

/** An element-wise op: storage types, and the WGSL expression of the result over `a0..aN`. */
export interface MapOp {
  /** Unique among ops with the same operand count and types. */
  key: string;
  ins: readonly Ty[];
  out: Ty;
  /** Result expression; may read extra uniform words as `xw0`, `xw1`, … */
  expr: string;
  lib?: readonly string[];
  /** Extra uniform words (scalars) the expression reads. */
  extra?: number;
  /** Helper functions of this op (WGSL source), emitted after the library. */
  fn?: string;
}

const W_N = 0;
const W_RANK = 1;
const W_SHAPE = 2;
const W_OPS = W_SHAPE + MAX_RANK;
const OP_WORDS = 1 + MAX_RANK;

type Mode = 'c' | 'b' | 's';

function modeOf(shape: readonly number[], strides: readonly number[]): Mode {
  if (strides.every((s) => s === 0)) return 'b';
  if (isContiguous({ shape, strides })) return 'c';
  return 's';
}

function shader(op: MapOp, modes: readonly Mode[], words: number): string {
  const nops = modes.length;
  const bindings: BindingDecl[] = [{ name: 'o', ty: op.out, access: 'w' }];
  op.ins.forEach((t, k) => bindings.push({ name: `x${k}`, ty: t, access: 'r' }));
  const extraBase = W_OPS + OP_WORDS * nops;
  const lines: string[] = [];
  lines.push(`  let i = g * ${WG}u + lid;`, `  if (i >= pu(${W_N}u)) { return; }`);
  for (let k = 0; k < nops; k++) lines.push(`  var o${k} = pi(${W_OPS + OP_WORDS * k}u);`);
  const strided = modes.map((m, k) => (m === 's' ? k : -1)).filter((k) => k >= 0);
  if (strided.length > 0) {
    lines.push(`  var rem = i;`, `  for (var d = i32(pu(${W_RANK}u)) - 1; d >= 0; d = d - 1) {`,
      `    let n = pu(${W_SHAPE}u + u32(d));`, '    let c = i32(rem % n);', '    rem = rem / n;');
    for (const k of strided) lines.push(`    o${k} = o${k} + c * pi(${W_OPS + OP_WORDS * k + 1}u + u32(d));`);
    lines.push('  }');
  }
  modes.forEach((m, k) => {
    if (m === 'c') lines.push(`  o${k} = o${k} + i32(i);`);
  });
  for (let j = 0; j < (op.extra ?? 0); j++) lines.push(`  let xw${j} = pu(${extraBase + j}u);`);
  op.ins.forEach((_, k) => lines.push(`  let a${k} = x${k}[o${k + 1}];`));
  lines.push(`  o[o0] = ${op.expr};`);
  return `${header(words, bindings, op.lib ?? [])}\n${op.fn ?? ''}\n${entry(WG, lines.join('\n'))}`;
}

/**
 * Runs an element-wise op: `out[i] = expr(ins[0][i], …)` over out's shape, every operand a
 * strided view of that shape. An input sharing out's buffer is copied first; views beyond
 * the rank or binding limits are split into several dispatches.
 */
export function runMap(ctx: Ctx, op: MapOp, ins: readonly View[], out: View, extra: readonly number[] = [], name = 'kernel'): void {
  if (out.size === 0) return;
  const outBlock = ctx.block(out);
  const temps = [];
  const inputs: View[] = [];
  for (const v of ins) {
    if (ctx.block(v) === outBlock) {
      const t = ctx.temp(v.size, name);
      temps.push(t);
      const tv = ctx.tempView(t, v.dtype, v.shape);
      runMap(ctx, copyOp, [v], tv, [], name);
      inputs.push(tv);
    } else inputs.push(v);
  }
  const all = [out, ...inputs];
  const c = collapse(out.shape, all.map((v) => v.strides));
  const views = all.map((v, k) => reshapeView(v, c.shape, c.strides[k], v.offset));
  splitAndRun(ctx, op, views, extra, name);
  for (const t of temps) ctx.release(t);
}

function splitAndRun(ctx: Ctx, op: MapOp, views: View[], extra: readonly number[], name: string): void {
  const shape = views[0].shape;
  if (shape.length > MAX_RANK) {
    for (let i = 0; i < shape[0]; i++) {
      splitAndRun(ctx, op, views.map((v) => reshapeView(v, shape.slice(1), v.strides.slice(1), v.offset + i * v.strides[0])), extra, name);
    }
    return;
  }
  // Every operand is indexed by every axis of out's (collapsed) shape.
  const plan = planWindows(ctx, shape, views.map((v) => ({ view: v, strides: v.strides })), name);
  if (plan.pieces.length === 1) {
    dispatchMap(ctx, op, views, extra, name);
    return;
  }
  for (const p of plan.pieces) {
    const c = collapse(p.shape, p.views.map((v) => v.strides));
    dispatchMap(ctx, op, p.views.map((v, k) => reshapeView(v, c.shape, c.strides[k], v.offset)), extra, name);
  }
}

function dispatchMap(ctx: Ctx, op: MapOp, views: readonly View[], extra: readonly number[], name: string): void {
  const shape = views[0].shape;
  const n = views[0].size;
  const modes = views.map((v) => modeOf(v.shape, v.strides));
  if (modes[0] === 'b' && n > 1) modes[0] = 's';
  const nops = views.length;
  const words = W_OPS + OP_WORDS * nops + (op.extra ?? 0);
  const w = new Words(words);
  w.u(W_N, n).u(W_RANK, shape.length).ints(W_SHAPE, shape);
  const ranges: BindRange[] = [];
  views.forEach((v, k) => {
    const b = ctx.bind(v, name);
    ranges.push(b.range);
    w.i(W_OPS + OP_WORDS * k, b.offset).ints(W_OPS + OP_WORDS * k + 1, v.strides);
  });
  extra.forEach((x, j) => w.u(W_OPS + OP_WORDS * nops + j, x));
  const key = `map:${op.key}:${op.ins.join(',')}>${op.out}:${modes.join('')}`;
  ctx.run(key, bindingsOf(op), words, () => shader(op, modes, words), w.a, ranges, Math.ceil(n / WG));
}

function bindingsOf(op: MapOp): BindingDecl[] {
  const b: BindingDecl[] = [{ name: 'o', ty: op.out, access: 'w' }];
  op.ins.forEach((t, k) => b.push({ name: `x${k}`, ty: t, access: 'r' }));
  return b;
}

/** Bit copy (every dtype is one 32-bit word). */
export const copyOp: MapOp = { key: 'copy', ins: ['u32'], out: 'u32', expr: 'a0' };
/** Fill with a word given as extra uniform 0. */
export const fillOp: MapOp = { key: 'fill', ins: [], out: 'u32', expr: 'xw0', extra: 1 };

/** A contiguous view of the same shape over a fresh temporary (for kernels that need one). */
export function contiguousLike(ctx: Ctx, v: View, name: string): { view: View; done: () => void } {
  if (isContiguous(v)) return { view: v, done: () => undefined };
  const t = ctx.temp(v.size, name);
  const tv = ctx.tempView(t, v.dtype, v.shape);
  runMap(ctx, copyOp, [v], tv, [], name);
  return { view: tv, done: () => ctx.release(t) };
}
