/**
 * `gather` (one invocation per output element, a bit copy, so one pipeline serves every
 * dtype) and `scatterAdd`, which is deterministic: a counting sort of the index positions
 * by target (integer atomics only count and hand out slots), each bucket sorted, then one
 * invocation per output element adds its updates in index order — the same order, and so
 * the same float rounding, as a sequential loop.
 * @module
 */
import type { View } from '@tessera/core';
import { type Ctx, WG } from '../ctx.js';
import { collapse, contiguousStrides, MAX_RANK, sizeOf } from '../layout.js';
import { planWindows } from '../window.js';
import { entry, header, type BindingDecl, type Ty, tyOf, Words } from '../wgsl.js';
import { contiguousLike, fillOp, runMap } from './map.js';

// gather uniforms
const G_N = 0, G_RANK = 1, G_LEN = 2, G_SAXIS = 3, G_OOFF = 4, G_XOFF = 5, G_IOFF = 6, G_ZERO = 7;
const G_SHAPE = 8, G_OS = G_SHAPE + MAX_RANK, G_XS = G_OS + MAX_RANK, G_IS = G_XS + MAX_RANK;
const G_LO = G_IS + MAX_RANK, G_HI = G_LO + 1;
const G_WORDS = G_HI + 1;

/**
 * `out = x` indexed along `axis` by int32 `indices`; out-of-range indices give 0.
 *
 * Windows: the work is out's (collapsed) axes plus x's gathered axis. When x is too large to
 * bind, the gathered axis is cut into windows `[lo, hi)`: each dispatch writes the outputs
 * whose index falls in its window (and, in the window at 0, the zeros of out-of-range ones).
 */
export function gather(ctx: Ctx, x: View, indices: View, axis: number, out: View): void {
  if (out.size === 0) return;
  const len = x.shape[axis];
  if (len === 0) {
    // every index is out of range
    runMap(ctx, fillOp, [], out, [0], 'gather');
    return;
  }
  const ir = indices.shape.length;
  const os: number[] = out.strides.slice();
  const xs: number[] = [], is: number[] = [];
  for (let d = 0; d < out.shape.length; d++) {
    if (d < axis) { xs.push(x.strides[d]); is.push(0); }
    else if (d < axis + ir) { xs.push(0); is.push(indices.strides[d - axis]); }
    else { xs.push(x.strides[d - ir + 1]); is.push(0); }
  }
  const c = collapse(out.shape, [os, xs, is]);
  if (c.shape.length > MAX_RANK) throw new Error(`webgpu backend: gather over more than ${MAX_RANK} non-mergeable axes is not supported`);
  const sAxis = x.strides[axis];
  const k = c.shape.length;
  const plan = planWindows(ctx, [...c.shape, len], [
    { view: out, strides: [...c.strides[0], 0] },
    { view: x, strides: [...c.strides[1], sAxis] },
    { view: indices, strides: [...c.strides[2], 0] },
  ], 'gather');
  const bindings: BindingDecl[] = [{ name: 'o', ty: 'u32', access: 'w' }, { name: 'x', ty: 'u32', access: 'r' }, { name: 'idx', ty: 'i32', access: 'r' }];
  const code = (): string => `${header(G_WORDS, bindings)}\n${entry(WG, `  let i = g * ${WG}u + lid;
  if (i >= pu(${G_N}u)) { return; }
  var oo = pi(${G_OOFF}u);
  var xo = pi(${G_XOFF}u);
  var io = pi(${G_IOFF}u);
  var rem = i;
  for (var d = i32(pu(${G_RANK}u)) - 1; d >= 0; d = d - 1) {
    let n = pu(${G_SHAPE}u + u32(d));
    let c = i32(rem % n);
    rem = rem / n;
    oo = oo + c * pi(${G_OS}u + u32(d));
    xo = xo + c * pi(${G_XS}u + u32(d));
    io = io + c * pi(${G_IS}u + u32(d));
  }
  let j = idx[io];
  if (j < 0 || u32(j) >= pu(${G_LEN}u)) {
    if (pu(${G_ZERO}u) != 0u) { o[oo] = 0u; }
    return;
  }
  if (j < pi(${G_LO}u) || j >= pi(${G_HI}u)) { return; }
  o[oo] = x[xo + j * pi(${G_SAXIS}u)];`)}`;
  for (const p of plan.pieces) {
    const [vo, vx, vi] = p.views;
    const bo = ctx.bind(vo, 'gather'), bx = ctx.bind(vx, 'gather'), bi = ctx.bind(vi, 'gather');
    const lo = p.start[k], hi = lo + p.shape[k];
    const shape = p.shape.slice(0, k);
    // x's offset is that of index 0 along the axis (the kernel adds j · stride, j global).
    const w = new Words(G_WORDS).u(G_N, sizeOf(shape)).u(G_RANK, k).u(G_LEN, len).i(G_SAXIS, sAxis)
      .i(G_OOFF, bo.offset).i(G_XOFF, bx.offset - lo * sAxis).i(G_IOFF, bi.offset).u(G_ZERO, lo === 0 ? 1 : 0)
      .ints(G_SHAPE, shape).ints(G_OS, c.strides[0]).ints(G_XS, c.strides[1]).ints(G_IS, c.strides[2])
      .i(G_LO, lo).i(G_HI, hi);
    ctx.run('gather', bindings, G_WORDS, code, w.a, [bo.range, bx.range, bi.range], Math.ceil(sizeOf(shape) / WG));
  }
}

// scatterAdd uniforms (shared by its passes)
const S_NIDX = 0, S_LEN = 1, S_IOFF = 2, S_N = 3, S_RANK = 4, S_AXIS = 5, S_OOFF = 6, S_UOFF = 7, S_IRANK = 8;
const S_JOFF = 9, S_RLO = 10, S_RHI = 11;
const S_SHAPE = 12, S_OS = S_SHAPE + MAX_RANK, S_US = S_OS + MAX_RANK, S_ISHAPE = S_US + MAX_RANK, S_IUS = S_ISHAPE + MAX_RANK;
const S_WORDS = S_IUS + MAX_RANK;

/**
 * Adds `updates` into `out` at `indices` along `axis`; repeated indices accumulate in index
 * order, out-of-range ones are dropped; bool accumulates with `or`.
 *
 * Windows: the accumulate pass's work is out's axes plus the first axis of the index
 * positions. A large `out` is cut along its axes; large `updates` along the index positions,
 * each window adding only the updates of its positions — buckets are sorted by position and
 * windows run in order, so the additions keep the index order (and the same rounding). The
 * counting sort binds the indices and per-target counts whole (at most
 * maxStorageBufferBindingSize / 4 of each).
 */
export function scatterAdd(ctx: Ctx, indices: View, updates: View, axis: number, out: View): void {
  if (updates.size === 0 || out.size === 0) return;
  const nIdx = indices.size;
  const len = out.shape[axis];
  const ir = indices.shape.length;
  const idx = contiguousLike(ctx, indices, 'scatterAdd');
  // Dimensions of the accumulate pass: collapsed outer axes, the axis, collapsed inner axes.
  const outer = collapse(out.shape.slice(0, axis), [out.strides.slice(0, axis), updates.strides.slice(0, axis)]);
  const inner = collapse(out.shape.slice(axis + 1), [out.strides.slice(axis + 1), updates.strides.slice(axis + ir)]);
  const shape = [...outer.shape, len, ...inner.shape];
  const os = [...outer.strides[0], out.strides[axis], ...inner.strides[0]];
  const us = [...outer.strides[1], 0, ...inner.strides[1]];
  const iCol = collapse(indices.shape, [contiguousStrides(indices.shape), updates.strides.slice(axis, axis + ir)]);
  if (shape.length > MAX_RANK || iCol.shape.length > MAX_RANK) throw new Error(`webgpu backend: scatterAdd over more than ${MAX_RANK} non-mergeable axes is not supported`);
  const bIdx = ctx.bind(idx.view, 'scatterAdd');
  const w = new Words(S_WORDS).u(S_NIDX, nIdx).u(S_LEN, len).i(S_IOFF, bIdx.offset).u(S_RANK, shape.length)
    .u(S_AXIS, outer.shape.length).u(S_IRANK, iCol.shape.length)
    .ints(S_OS, os).ints(S_US, us).ints(S_ISHAPE, iCol.shape).ints(S_IUS, iCol.strides[1]);
  // Work of the accumulate pass: out's axes, then the first axis of the index positions.
  const iLen = iCol.shape.length > 0 ? iCol.shape[0] : 1;
  const iStride = iCol.shape.length > 0 ? iCol.strides[1][0] : 0;
  const iInner = iCol.shape.length > 0 ? nIdx / iLen : 1;
  const fixed = iCol.shape.slice(1).map((n, d) => [n, iCol.strides[1][d + 1]] as const);
  const plan = planWindows(ctx, [...shape, iLen], [
    { view: out, strides: [...os, 0] },
    { view: updates, strides: [...us, iStride], fixed },
  ], 'scatterAdd');
  const cnt = ctx.temp(len, 'scatterAdd');
  const start = ctx.temp(len + 1, 'scatterAdd');
  const cursor = ctx.temp(len, 'scatterAdd');
  const list = ctx.temp(nIdx, 'scatterAdd');
  // 1. zero the counts
  runMap(ctx, fillOp, [], ctx.tempView(cnt, 'int32', [len]), [0], 'scatterAdd');
  // 2. count the valid index positions per target
  const countB: BindingDecl[] = [{ name: 'cnt', ty: 'atomic<u32>', access: 'w' }, { name: 'idx', ty: 'i32', access: 'r' }];
  ctx.run('scatter:count', countB, S_WORDS, () => `${header(S_WORDS, countB)}\n${entry(WG, `  let t = g * ${WG}u + lid;
  if (t >= pu(${S_NIDX}u)) { return; }
  let j = idx[pi(${S_IOFF}u) + i32(t)];
  if (j >= 0 && u32(j) < pu(${S_LEN}u)) { atomicAdd(&cnt[j], 1u); }`)}`, w.a, [ctx.whole(cnt, len, 'scatterAdd'), bIdx.range], Math.ceil(nIdx / WG));
  // 3. exclusive scan of the counts (one workgroup)
  const scanB: BindingDecl[] = [{ name: 'st', ty: 'u32', access: 'w' }, { name: 'cur', ty: 'u32', access: 'w' }, { name: 'cnt', ty: 'u32', access: 'r' }];
  ctx.run('scatter:scan', scanB, S_WORDS, () => `${header(S_WORDS, scanB)}\nvar<workgroup> part: array<u32, 256>;\n${entry(256, `  let len = pu(${S_LEN}u);
  let chunk = (len + 255u) / 256u;
  let b = min(lid * chunk, len);
  let e = min(b + chunk, len);
  var s = 0u;
  for (var i = b; i < e; i = i + 1u) { s = s + cnt[i]; }
  part[lid] = s;
  workgroupBarrier();
  if (lid == 0u) {
    var run = 0u;
    for (var k = 0u; k < 256u; k = k + 1u) { let v = part[k]; part[k] = run; run = run + v; }
  }
  workgroupBarrier();
  var run = part[lid];
  for (var i = b; i < e; i = i + 1u) { st[i] = run; cur[i] = run; run = run + cnt[i]; }
  if (lid == 255u) { st[len] = run; }`)}`, w.a, [ctx.whole(start, len + 1, 'scatterAdd'), ctx.whole(cursor, len, 'scatterAdd'), ctx.whole(cnt, len, 'scatterAdd')], 1);
  // 4. hand out slots
  const slotB: BindingDecl[] = [{ name: 'lst', ty: 'u32', access: 'w' }, { name: 'cur', ty: 'atomic<u32>', access: 'w' }, { name: 'idx', ty: 'i32', access: 'r' }];
  ctx.run('scatter:slots', slotB, S_WORDS, () => `${header(S_WORDS, slotB)}\n${entry(WG, `  let t = g * ${WG}u + lid;
  if (t >= pu(${S_NIDX}u)) { return; }
  let j = idx[pi(${S_IOFF}u) + i32(t)];
  if (j >= 0 && u32(j) < pu(${S_LEN}u)) { lst[atomicAdd(&cur[j], 1u)] = t; }`)}`, w.a, [ctx.whole(list, nIdx, 'scatterAdd'), ctx.whole(cursor, len, 'scatterAdd'), bIdx.range], Math.ceil(nIdx / WG));
  // 5. sort each bucket (insertion sort: buckets are usually short)
  const sortB: BindingDecl[] = [{ name: 'lst', ty: 'u32', access: 'w' }, { name: 'st', ty: 'u32', access: 'r' }];
  ctx.run('scatter:sort', sortB, S_WORDS, () => `${header(S_WORDS, sortB)}\n${entry(WG, `  let j = g * ${WG}u + lid;
  if (j >= pu(${S_LEN}u)) { return; }
  let b = st[j];
  let e = st[j + 1u];
  for (var i = b + 1u; i < e; i = i + 1u) {
    let v = lst[i];
    var k = i;
    while (k > b && lst[k - 1u] > v) { lst[k] = lst[k - 1u]; k = k - 1u; }
    lst[k] = v;
  }`)}`, w.a, [ctx.whole(list, nIdx, 'scatterAdd'), ctx.whole(start, len + 1, 'scatterAdd')], Math.ceil(len / WG));
  // 6. accumulate in index order
  const t: Ty = tyOf(out.dtype);
  const comb = t === 'u32' ? 'acc | v' : 'acc + v';
  const accB: BindingDecl[] = [{ name: 'o', ty: t, access: 'w' }, { name: 'u', ty: t, access: 'r' }, { name: 'lst', ty: 'u32', access: 'r' }, { name: 'st', ty: 'u32', access: 'r' }];
  const accCode = (): string => `${header(S_WORDS, accB)}\n${entry(WG, `  let i = g * ${WG}u + lid;
  if (i >= pu(${S_N}u)) { return; }
  var oo = pi(${S_OOFF}u);
  var uo = pi(${S_UOFF}u);
  var j = 0u;
  var rem = i;
  let ax = i32(pu(${S_AXIS}u));
  for (var d = i32(pu(${S_RANK}u)) - 1; d >= 0; d = d - 1) {
    let n = pu(${S_SHAPE}u + u32(d));
    let c = rem % n;
    rem = rem / n;
    if (d == ax) { j = c + pu(${S_JOFF}u); }
    oo = oo + i32(c) * pi(${S_OS}u + u32(d));
    uo = uo + i32(c) * pi(${S_US}u + u32(d));
  }
  let b = st[j];
  let e = st[j + 1u];
  if (b == e) { return; }
  let rlo = pu(${S_RLO}u);
  let rhi = pu(${S_RHI}u);
  var acc = o[oo];
  for (var k = b; k < e; k = k + 1u) {
    var r = lst[k];
    if (r < rlo) { continue; }
    if (r >= rhi) { break; }
    var tu = 0;
    for (var d = i32(pu(${S_IRANK}u)) - 1; d >= 0; d = d - 1) {
      let n = pu(${S_ISHAPE}u + u32(d));
      tu = tu + i32(r % n) * pi(${S_IUS}u + u32(d));
      r = r / n;
    }
    let v = u[uo + tu];
    acc = ${comb};
  }
  o[oo] = acc;`)}`;
  const listRange = ctx.whole(list, nIdx, 'scatterAdd'), startRange = ctx.whole(start, len + 1, 'scatterAdd');
  const k = shape.length;
  for (const p of plan.pieces) {
    const bo = ctx.bind(p.views[0], 'scatterAdd'), bu = ctx.bind(p.views[1], 'scatterAdd');
    const n = sizeOf(p.shape.slice(0, k));
    const wp = new Words(S_WORDS);
    wp.a.set(w.a);
    // updates' offset is that of index position 0 (the kernel adds each position's offset)
    wp.u(S_N, n).i(S_OOFF, bo.offset).i(S_UOFF, bu.offset - p.start[k] * iStride).ints(S_SHAPE, p.shape.slice(0, k))
      .u(S_JOFF, p.start[outer.shape.length]).u(S_RLO, p.start[k] * iInner).u(S_RHI, (p.start[k] + p.shape[k]) * iInner);
    ctx.run(`scatter:acc:${t}`, accB, S_WORDS, accCode, wp.a, [bo.range, bu.range, listRange, startRange], Math.ceil(n / WG));
  }
  for (const b of [cnt, start, cursor, list]) ctx.release(b);
  idx.done();
}
