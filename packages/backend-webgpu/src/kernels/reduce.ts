/**
 * Reductions: `reduce`, `argReduce`, `cumulative`. Two strategies: one invocation per
 * output walking its reduced elements (short reductions, many outputs), and one workgroup
 * per output with a tree in workgroup memory (long reductions). Float sums are compensated
 * (Neumaier) in each invocation, so accuracy does not decay with length; the order is fixed,
 * so results are deterministic.
 * @module
 */
import type { ArgReduceOp, DType, ReduceOp, View } from '@tessera/core';
import { type Ctx, WG } from '../ctx.js';
import { collapse, contiguousStrides, MAX_RANK, reshapeView, sizeOf } from '../layout.js';
import type { BindRange, Block } from '../runtime.js';
import { type Piece, planWindows } from '../window.js';
import { entry, header, type BindingDecl, type Ty, tyOf, Words } from '../wgsl.js';
import { fill } from './elementwise.js';

/** Reductions at least this long use a workgroup per output. */
const TREE_MIN = 1024;
const TREE_WG = 256;

type Code = 'fsum' | 'isum' | 'fprod' | 'iprod' | 'fmax' | 'fmin' | 'imax' | 'imin';

/** How `op` reduces `x` into `out` (bool out: any/all over 0/1 values). */
function codeOf(op: ReduceOp, x: DType, out: DType): Code {
  if (out === 'bool') return op === 'sum' || op === 'max' ? 'imax' : 'imin';
  const f = x === 'float32';
  if (op === 'max') return f ? 'fmax' : 'imax';
  if (op === 'min') return f ? 'fmin' : 'imin';
  if (op === 'sum') return f || out === 'float32' ? 'fsum' : 'isum';
  return f || out === 'float32' ? 'fprod' : 'iprod';
}

function identity(code: Code, out: DType): number {
  switch (code) {
    case 'fsum': case 'isum': return 0;
    case 'fprod': case 'iprod': return 1;
    case 'fmax': return -Infinity;
    case 'fmin': return Infinity;
    case 'imax': return out === 'bool' ? 0 : -2147483648;
    default: return out === 'bool' ? 1 : 2147483647;
  }
}

/** WGSL pieces of an accumulator. */
interface AccGen {
  ty: 'f32' | 'i32';
  /** Declares the state (`acc`, and `cmp` for compensated sums). */
  decl: string;
  /** Statement adding value `v` to the state. */
  add: (v: string) => string;
  /** The state's value. */
  value: string;
  /** Combines two partial values (tree). */
  comb: (a: string, b: string) => string;
  lib: string[];
}

function accOf(code: Code): AccGen {
  switch (code) {
    case 'fsum':
      return {
        ty: 'f32', decl: 'var acc = 0.0;\n  var cmp = 0.0;',
        add: (v) => `{ let vv = ${v}; let t = acc + vv; if (abs(acc) >= abs(vv)) { cmp = cmp + ((acc - t) + vv); } else { cmp = cmp + ((vv - t) + acc); } acc = t; }`,
        value: 'select(acc, acc + cmp, is_fin(acc))', comb: (a, b) => `(${a} + ${b})`, lib: ['consts'],
      };
    case 'isum': return { ty: 'i32', decl: 'var acc = 0;', add: (v) => `acc = acc + ${v};`, value: 'acc', comb: (a, b) => `(${a} + ${b})`, lib: [] };
    case 'fprod': return { ty: 'f32', decl: 'var acc = 1.0;', add: (v) => `acc = acc * ${v};`, value: 'acc', comb: (a, b) => `(${a} * ${b})`, lib: [] };
    case 'iprod': return { ty: 'i32', decl: 'var acc = 1;', add: (v) => `acc = acc * ${v};`, value: 'acc', comb: (a, b) => `(${a} * ${b})`, lib: [] };
    case 'fmax': return { ty: 'f32', decl: 'var acc = -inf_f();', add: (v) => `acc = max_f(acc, ${v});`, value: 'acc', comb: (a, b) => `max_f(${a}, ${b})`, lib: ['max_f'] };
    case 'fmin': return { ty: 'f32', decl: 'var acc = inf_f();', add: (v) => `acc = min_f(acc, ${v});`, value: 'acc', comb: (a, b) => `min_f(${a}, ${b})`, lib: ['max_f'] };
    case 'imax': return { ty: 'i32', decl: 'var acc = I32_MIN;', add: (v) => `acc = max(acc, ${v});`, value: 'acc', comb: (a, b) => `max(${a}, ${b})`, lib: ['consts'] };
    default: return { ty: 'i32', decl: 'var acc = 2147483647;', add: (v) => `acc = min(acc, ${v});`, value: 'acc', comb: (a, b) => `min(${a}, ${b})`, lib: ['consts'] };
  }
}

/** Loads element `p` of `x` (type `xt`) as the accumulator type (bool out: 0/1). */
function loadAs(xt: Ty, acc: 'f32' | 'i32', boolOut: boolean, p: string): string {
  const v = `x[${p}]`;
  if (boolOut) return xt === 'f32' ? `select(0, 1, nz_f(${v}))` : xt === 'i32' ? `select(0, 1, ${v} != 0)` : `i32(${v})`;
  if (acc === 'f32') return xt === 'f32' ? v : xt === 'i32' ? `i2f(${v})` : `f32(${v})`;
  return xt === 'i32' ? v : xt === 'u32' ? `i32(${v})` : `f2i(${v})`;
}

/** Stores an accumulator value as the out type. */
function storeAs(acc: 'f32' | 'i32', ot: Ty, v: string): string {
  if (ot === 'u32') return `select(0u, 1u, ${v} != ${acc === 'f32' ? '0.0' : '0'})`;
  if (ot === acc) return v;
  return ot === 'f32' ? `i2f(${v})` : `f2i(${v})`;
}

// Uniform layout shared by reduce and argReduce.
const R_NOUT = 0, R_NRED = 1, R_KRANK = 2, R_RRANK = 3, R_XOFF = 4, R_OOFF = 5, R_BASE = 6, R_FLAGS = 7;
const R_KSHAPE = 8, R_KXS = R_KSHAPE + MAX_RANK, R_KOS = R_KXS + MAX_RANK, R_RSHAPE = R_KOS + MAX_RANK, R_RXS = R_RSHAPE + MAX_RANK;
const R_WORDS = R_RXS + MAX_RANK;

/** WGSL computing `xb`/`ob`, the offsets of output `o`'s first element in x and out. */
const KEPT_OFFSETS = `  var xb = pi(${R_XOFF}u);
  var ob = pi(${R_OOFF}u);
  {
    var rem = oi;
    for (var d = i32(pu(${R_KRANK}u)) - 1; d >= 0; d = d - 1) {
      let n = pu(${R_KSHAPE}u + u32(d));
      let c = i32(rem % n);
      rem = rem / n;
      xb = xb + c * pi(${R_KXS}u + u32(d));
      ob = ob + c * pi(${R_KOS}u + u32(d));
    }
  }`;

/** WGSL: offset (relative to xb) of reduced element `r`. */
const RED_OFFSET = `fn red_off(r: u32) -> i32 {
  var rem = r;
  var off = 0;
  for (var d = i32(pu(${R_RRANK}u)) - 1; d >= 0; d = d - 1) {
    let n = pu(${R_RSHAPE}u + u32(d));
    off = off + i32(rem % n) * pi(${R_RXS}u + u32(d));
    rem = rem / n;
  }
  return off;
}`;

interface Split {
  kShape: number[]; kxs: number[]; kos: number[]; rShape: number[]; rxs: number[];
}

/** Kept and reduced axes, each collapsed (kept with x and out strides). */
function splitAxes(x: View, axes: readonly number[], outStrides: readonly number[]): Split {
  const ks: number[] = [], kx: number[] = [], rs: number[] = [], rx: number[] = [];
  for (let d = 0; d < x.shape.length; d++) {
    if (axes.includes(d)) {
      rs.push(x.shape[d]);
      rx.push(x.strides[d]);
    } else {
      ks.push(x.shape[d]);
      kx.push(x.strides[d]);
    }
  }
  const k = collapse(ks, [kx, outStrides]);
  const r = collapse(rs, [rx]);
  return { kShape: k.shape, kxs: k.strides[0], kos: k.strides[1], rShape: r.shape, rxs: r.strides[0] };
}

function checkRank(s: Split, op: string): void {
  if (s.kShape.length > MAX_RANK || s.rShape.length > MAX_RANK) {
    throw new Error(`webgpu backend: ${op} over more than ${MAX_RANK} non-mergeable axes is not supported`);
  }
}

function reduceWords(s: Split, nOut: number, nRed: number, xOff: number, oOff: number): Words {
  return new Words(R_WORDS)
    .u(R_NOUT, nOut).u(R_NRED, nRed).u(R_KRANK, s.kShape.length).u(R_RRANK, s.rShape.length).i(R_XOFF, xOff).i(R_OOFF, oOff)
    .ints(R_KSHAPE, s.kShape).ints(R_KXS, s.kxs).ints(R_KOS, s.kos).ints(R_RSHAPE, s.rShape).ints(R_RXS, s.rxs);
}

/**
 * Reduces `x` over `axes` into `out` (the kept axes). Identities for empty reductions:
 * 0, 1, -Inf, +Inf (int32: the int32 extremes; bool: false/true).
 *
 * Windows: the work is the kept axes followed by the reduced ones. Cutting kept axes gives
 * independent pieces; when reduced axes must be cut, each window reduces into a row of
 * partial results (in the accumulator's type) and the rows are reduced into `out` with the
 * same op.
 */
export function reduce(ctx: Ctx, op: ReduceOp, x: View, axes: readonly number[], out: View): void {
  if (out.size === 0) return;
  const code = codeOf(op, x.dtype, out.dtype);
  if (x.size === 0) {
    fill(ctx, out, identity(code, out.dtype));
    return;
  }
  const s = splitAxes(x, axes, out.strides);
  checkRank(s, 'reduce');
  const kr = s.kShape.length;
  const plan = planWindows(ctx, [...s.kShape, ...s.rShape], [
    { view: out, strides: [...s.kos, ...s.rShape.map(() => 0)] },
    { view: x, strides: [...s.kxs, ...s.rxs] },
  ], 'reduce');
  const wins = sizeOf(plan.chunks.slice(kr));
  for (let g0 = 0; g0 < plan.pieces.length; g0 += wins) {
    const group = plan.pieces.slice(g0, g0 + wins);
    const kShape = group[0].shape.slice(0, kr);
    const o = reshapeView(out, kShape, s.kos, group[0].views[0].offset);
    const piece = (p: Piece): Split => ({ kShape, kxs: s.kxs, kos: s.kos, rShape: p.shape.slice(kr), rxs: s.rxs });
    if (wins === 1) {
      reduceOnce(ctx, code, group[0].views[1], piece(group[0]), o);
      continue;
    }
    // One row of partial results per window, then a reduction of the rows.
    const nOut = sizeOf(kShape);
    const pd: DType = accOf(code).ty === 'f32' ? 'float32' : 'int32';
    const t = ctx.temp(wins * nOut, 'reduce');
    const parts = ctx.tempView(t, pd, [wins, ...kShape]);
    const ks = contiguousStrides(kShape);
    group.forEach((p, w) => reduceOnce(ctx, code, p.views[1], piece(p), reshapeView(parts, kShape, ks, w * nOut)));
    reduce(ctx, op, parts, [0], o);
    ctx.release(t);
  }
}

/** One reduce dispatch: `x` over the split's reduced axes into `out` (both bindable). */
function reduceOnce(ctx: Ctx, code: Code, x: View, s: Split, out: View): void {
  const nOut = sizeOf(s.kShape), nRed = sizeOf(s.rShape);
  const tree = nRed >= TREE_MIN;
  const acc = accOf(code);
  const xt = tyOf(x.dtype), ot = tyOf(out.dtype);
  const boolOut = out.dtype === 'bool';
  const bx = ctx.bind(x, 'reduce'), bo = ctx.bind(out, 'reduce');
  const w = reduceWords(s, nOut, nRed, bx.offset, bo.offset);
  const bindings: BindingDecl[] = [{ name: 'o', ty: ot, access: 'w' }, { name: 'x', ty: xt, access: 'r' }];
  const lib = ['consts', 'f2i', 'i2f', ...acc.lib];
  const key = `reduce:${code}:${xt}>${ot}:${tree ? 'tree' : 'line'}`;
  const load = (p: string): string => loadAs(xt, acc.ty, boolOut, p);
  const code0 = (): string => {
    if (!tree) {
      return `${header(R_WORDS, bindings, lib)}\n${RED_OFFSET}\n${entry(WG, `  let oi = g * ${WG}u + lid;
  if (oi >= pu(${R_NOUT}u)) { return; }
${KEPT_OFFSETS}
  ${acc.decl}
  let rr = pu(${R_RRANK}u);
  let inner = select(1u, pu(${R_RSHAPE}u + max(rr, 1u) - 1u), rr > 0u);
  let istr = select(0, pi(${R_RXS}u + max(rr, 1u) - 1u), rr > 0u);
  let rows = pu(${R_NRED}u) / inner;
  for (var row = 0u; row < rows; row = row + 1u) {
    var rem = row;
    var off = xb;
    for (var d = i32(rr) - 2; d >= 0; d = d - 1) {
      let n = pu(${R_RSHAPE}u + u32(d));
      off = off + i32(rem % n) * pi(${R_RXS}u + u32(d));
      rem = rem / n;
    }
    for (var j = 0u; j < inner; j = j + 1u) {
      ${acc.add(load('off + i32(j) * istr'))}
    }
  }
  o[ob] = ${storeAs(acc.ty, ot, acc.value)};`)}`;
    }
    return `${header(R_WORDS, bindings, lib)}\n${RED_OFFSET}\nvar<workgroup> sh: array<${acc.ty}, ${TREE_WG}>;\n${entry(TREE_WG, `  let oi = g;
  if (oi >= pu(${R_NOUT}u)) { return; }
${KEPT_OFFSETS}
  ${acc.decl}
  let nr = pu(${R_NRED}u);
  for (var r = lid; r < nr; r = r + ${TREE_WG}u) {
    ${acc.add(load('xb + red_off(r)'))}
  }
  sh[lid] = ${acc.value};
  workgroupBarrier();
  for (var h = ${TREE_WG / 2}u; h > 0u; h = h >> 1u) {
    if (lid < h) { sh[lid] = ${acc.comb('sh[lid]', 'sh[lid + h]')}; }
    workgroupBarrier();
  }
  if (lid == 0u) { o[ob] = ${storeAs(acc.ty, ot, 'sh[0]')}; }`)}`;
  };
  ctx.run(key, bindings, R_WORDS, code0, w.a, [bo.range, bx.range], tree ? nOut : Math.ceil(nOut / WG));
}

/**
 * Index of the max/min along `axis` (int32 out). Ties go to the first index; a NaN wins
 * (the first NaN). An empty axis gives 0.
 *
 * Windows: the work is the kept axes followed by the axis. When the axis must be cut, the
 * windows run in order and carry each output's best value and index so far in two
 * temporaries; the last window writes `out`.
 */
export function argReduce(ctx: Ctx, op: ArgReduceOp, x: View, axis: number, out: View): void {
  if (out.size === 0) return;
  const n = x.shape[axis];
  if (n === 0) {
    fill(ctx, out, 0);
    return;
  }
  const s = splitAxes(x, [axis], out.strides);
  // The reduced "shape" is the one axis, uncollapsed (its stride may be anything).
  s.rShape = [n];
  s.rxs = [x.strides[axis]];
  checkRank(s, 'argReduce');
  const kr = s.kShape.length;
  const plan = planWindows(ctx, [...s.kShape, n], [
    { view: out, strides: [...s.kos, 0] },
    { view: x, strides: [...s.kxs, x.strides[axis]] },
  ], op);
  const wins = plan.chunks[kr];
  for (let g0 = 0; g0 < plan.pieces.length; g0 += wins) {
    const group = plan.pieces.slice(g0, g0 + wins);
    const kShape = group[0].shape.slice(0, kr);
    const o = reshapeView(out, kShape, s.kos, group[0].views[0].offset);
    const piece = (p: Piece): Split => ({ kShape, kxs: s.kxs, kos: s.kos, rShape: [p.shape[kr]], rxs: s.rxs });
    if (wins === 1) {
      argOnce(ctx, op, group[0].views[1], piece(group[0]), o, null);
      continue;
    }
    const nOut = sizeOf(kShape);
    const cv = ctx.temp(nOut, op), ci = ctx.temp(nOut, op);
    group.forEach((p, w) => argOnce(ctx, op, p.views[1], piece(p), o, { cv, ci, base: p.start[kr], first: w === 0, last: w === wins - 1 }));
    ctx.release(cv);
    ctx.release(ci);
  }
}

/** A window of a cut argReduce: carried best values/indices, the window's first index. */
interface ArgWindow {
  cv: Block;
  ci: Block;
  base: number;
  first: boolean;
  last: boolean;
}

function argOnce(ctx: Ctx, op: ArgReduceOp, x: View, s: Split, out: View, win: ArgWindow | null): void {
  const xt = tyOf(x.dtype);
  const nOut = sizeOf(s.kShape), n = s.rShape[0];
  const tree = n >= TREE_MIN;
  const bx = ctx.bind(x, op), bo = ctx.bind(out, op);
  const w = reduceWords(s, nOut, n, bx.offset, bo.offset);
  const bindings: BindingDecl[] = [{ name: 'o', ty: 'i32', access: 'w' }, { name: 'x', ty: xt, access: 'r' }];
  const ranges = [bo.range, bx.range];
  if (win !== null) {
    bindings.push({ name: 'cv', ty: xt, access: 'w' }, { name: 'ci', ty: 'u32', access: 'w' });
    ranges.push(ctx.whole(win.cv, nOut, op), ctx.whole(win.ci, nOut, op));
    w.u(R_BASE, win.base).u(R_FLAGS, (win.first ? 1 : 0) | (win.last ? 2 : 0));
  }
  const cmp = op === 'argmax' ? '>' : '<';
  const isNan = (v: string): string => (xt === 'f32' ? `is_nan(${v})` : 'false');
  // better(a, b): does candidate (bv, bi) beat the current (av, ai)? ai == 0xffffffff marks "none".
  const better = `fn better(av: ${xt}, ai: u32, bv: ${xt}, bi: u32) -> bool {
  if (bi == 0xffffffffu) { return false; }
  if (ai == 0xffffffffu) { return true; }
  if (${isNan('av')}) { return ${isNan('bv')} && bi < ai; }
  if (${isNan('bv')}) { return true; }
  if (bv ${cmp} av) { return true; }
  return bv == av && bi < ai;
}`;
  const key = `arg:${op}:${xt}:${tree ? 'tree' : 'line'}${win !== null ? ':win' : ''}`;
  // Windowed: indices are global (base + i), the state starts from the carry unless first,
  // and is written back to the carry unless last.
  const winInit = `  let base = pu(${R_BASE}u);
  let flags = pu(${R_FLAGS}u);`;
  const finish = (v: string, i: string): string => win === null ? `o[ob] = i32(${i});` : `if ((flags & 1u) == 0u && better(${v}, ${i}, cv[oi], ci[oi])) { ${v} = cv[oi]; ${i} = ci[oi]; }
    if ((flags & 2u) != 0u) { o[ob] = i32(${i}); } else { cv[oi] = ${v}; ci[oi] = ${i}; }`;
  const code = (): string => {
    const head = `${header(R_WORDS, bindings, ['consts'])}\n${better}`;
    if (!tree) {
      return `${head}\n${entry(WG, `  let oi = g * ${WG}u + lid;
  if (oi >= pu(${R_NOUT}u)) { return; }
${KEPT_OFFSETS}
  let s = pi(${R_RXS}u);
${win === null ? `  var bv = x[xb];
  var bi = 0u;
  for (var i = 1u; i < pu(${R_NRED}u); i = i + 1u) {
    let v = x[xb + i32(i) * s];
    if (better(bv, bi, v, i)) { bv = v; bi = i; }
  }` : `${winInit}
  var bv = x[xb];
  var bi = 0xffffffffu;
  for (var i = 0u; i < pu(${R_NRED}u); i = i + 1u) {
    let v = x[xb + i32(i) * s];
    if (better(bv, bi, v, base + i)) { bv = v; bi = base + i; }
  }`}
  ${finish('bv', 'bi')}`)}`;
    }
    return `${head}\nvar<workgroup> sv: array<${xt}, ${TREE_WG}>;\nvar<workgroup> si: array<u32, ${TREE_WG}>;\n${entry(TREE_WG, `  let oi = g;
  if (oi >= pu(${R_NOUT}u)) { return; }
${KEPT_OFFSETS}
  let s = pi(${R_RXS}u);
${win === null ? '  let base = 0u;' : winInit}
  var bv = x[xb];
  var bi = 0xffffffffu;
  for (var i = lid; i < pu(${R_NRED}u); i = i + ${TREE_WG}u) {
    let v = x[xb + i32(i) * s];
    if (better(bv, bi, v, base + i)) { bv = v; bi = base + i; }
  }
  sv[lid] = bv;
  si[lid] = bi;
  workgroupBarrier();
  for (var h = ${TREE_WG / 2}u; h > 0u; h = h >> 1u) {
    if (lid < h && better(sv[lid], si[lid], sv[lid + h], si[lid + h])) { sv[lid] = sv[lid + h]; si[lid] = si[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    var fv = sv[0];
    var fi = si[0];
    ${finish('fv', 'fi')}
  }`)}`;
  };
  ctx.run(key, bindings, R_WORDS, code, w.a, ranges, tree ? nOut : Math.ceil(nOut / WG));
}

// Uniform layout of cumulative.
const C_NLINES = 0, C_N = 1, C_SX = 2, C_SO = 3, C_XOFF = 4, C_OOFF = 5, C_EXCL = 6, C_KRANK = 7;
const C_KSHAPE = 8, C_KXS = C_KSHAPE + MAX_RANK, C_KOS = C_KXS + MAX_RANK, C_FLAGS = C_KOS + MAX_RANK;
const C_WORDS = C_FLAGS + 1;

/**
 * Running sum/prod/max/min along `axis`, optionally exclusive (the first element is the
 * identity) and/or from the end. One invocation per line.
 *
 * Windows: the work is the kept axes followed by the axis. When the axis must be cut, the
 * windows run in scan order and carry each line's accumulator (with its compensation) in a
 * temporary.
 */
export function cumulative(ctx: Ctx, op: ReduceOp, x: View, axis: number, exclusive: boolean, reverse: boolean, out: View): void {
  if (out.size === 0) return;
  const code = codeOf(op, x.dtype, out.dtype);
  const n = x.shape[axis];
  const ks: number[] = [], kx: number[] = [], ko: number[] = [];
  for (let d = 0; d < x.shape.length; d++) {
    if (d === axis) continue;
    ks.push(x.shape[d]);
    kx.push(x.strides[d]);
    ko.push(out.strides[d]);
  }
  const k = collapse(ks, [kx, ko]);
  if (k.shape.length > MAX_RANK) throw new Error(`webgpu backend: cumulative over more than ${MAX_RANK} kept axes is not supported`);
  const kr = k.shape.length;
  const plan = planWindows(ctx, [...k.shape, n], [
    { view: out, strides: [...k.strides[1], out.strides[axis]] },
    { view: x, strides: [...k.strides[0], x.strides[axis]] },
  ], 'cumulative');
  const wins = plan.chunks[kr];
  for (let g0 = 0; g0 < plan.pieces.length; g0 += wins) {
    const group = plan.pieces.slice(g0, g0 + wins);
    if (reverse) group.reverse();
    const nLines = sizeOf(group[0].shape.slice(0, kr));
    const carry = wins > 1 ? ctx.temp(2 * nLines, 'cumulative') : null;
    group.forEach((p, w) => {
      const bo = ctx.bind(p.views[0], 'cumulative'), bx = ctx.bind(p.views[1], 'cumulative');
      const len = p.shape[kr];
      let sx = x.strides[axis], so = out.strides[axis];
      let xo = bx.offset, oo = bo.offset;
      if (reverse) {
        xo += (len - 1) * sx;
        oo += (len - 1) * so;
        sx = -sx;
        so = -so;
      }
      const kShape = p.shape.slice(0, kr);
      const w0 = new Words(C_WORDS).u(C_NLINES, nLines).u(C_N, len).i(C_SX, sx).i(C_SO, so).i(C_XOFF, xo).i(C_OOFF, oo)
        .u(C_EXCL, exclusive ? 1 : 0).u(C_KRANK, kr).ints(C_KSHAPE, kShape).ints(C_KXS, k.strides[0]).ints(C_KOS, k.strides[1])
        .u(C_FLAGS, (w === 0 ? 1 : 0) | (w === wins - 1 ? 2 : 0));
      const ranges = [bo.range, bx.range];
      if (carry !== null) ranges.push(ctx.whole(carry, 2 * nLines, 'cumulative'));
      cumOnce(ctx, code, x.dtype, out.dtype, carry !== null, w0, ranges, nLines);
    });
    if (carry !== null) ctx.release(carry);
  }
}

function cumOnce(ctx: Ctx, code: Code, xd: DType, od: DType, windowed: boolean, w: Words, ranges: BindRange[], nLines: number): void {
  const acc = accOf(code);
  const xt = tyOf(xd), ot = tyOf(od);
  const bindings: BindingDecl[] = [{ name: 'o', ty: ot, access: 'w' }, { name: 'x', ty: xt, access: 'r' }];
  if (windowed) bindings.push({ name: 'cv', ty: acc.ty, access: 'w' });
  const key = `cum:${code}:${xt}>${ot}${windowed ? ':win' : ''}`;
  const comp = code === 'fsum';
  const codeFn = (): string => `${header(C_WORDS, bindings, ['consts', 'f2i', 'i2f', ...acc.lib])}\n${entry(WG, `  let l = g * ${WG}u + lid;
  if (l >= pu(${C_NLINES}u)) { return; }
  var p = pi(${C_XOFF}u);
  var q = pi(${C_OOFF}u);
  {
    var rem = l;
    for (var d = i32(pu(${C_KRANK}u)) - 1; d >= 0; d = d - 1) {
      let n = pu(${C_KSHAPE}u + u32(d));
      let c = i32(rem % n);
      rem = rem / n;
      p = p + c * pi(${C_KXS}u + u32(d));
      q = q + c * pi(${C_KOS}u + u32(d));
    }
  }
  let sx = pi(${C_SX}u);
  let so = pi(${C_SO}u);
  let excl = pu(${C_EXCL}u) != 0u;
  ${acc.decl}
${windowed ? `  let flags = pu(${C_FLAGS}u);
  if ((flags & 1u) == 0u) { acc = cv[2u * l];${comp ? ' cmp = cv[2u * l + 1u];' : ''} }` : ''}
  for (var a = 0u; a < pu(${C_N}u); a = a + 1u) {
    if (excl) { o[q] = ${storeAs(acc.ty, ot, acc.value)}; }
    ${acc.add(loadAs(xt, acc.ty, od === 'bool', 'p'))}
    if (!excl) { o[q] = ${storeAs(acc.ty, ot, acc.value)}; }
    p = p + sx;
    q = q + so;
  }
${windowed ? `  if ((flags & 2u) == 0u) { cv[2u * l] = acc;${comp ? ' cv[2u * l + 1u] = cmp;' : ''} }` : ''}`)}`;
  ctx.run(key, bindings, C_WORDS, codeFn, w.a, ranges, Math.ceil(nLines / WG));
}
