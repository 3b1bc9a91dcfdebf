/**
 * NHWC max/average pooling and its gradient. Windows visit only real (unpadded) cells. The
 * max gradient first records each window's first maximal cell (a NaN counts as maximal),
 * then every input cell sums the gradients of the windows that chose it, in output order.
 * @module
 */
import type { View, WindowParams } from '@tessera/core';
import { type Ctx, WG } from '../ctx.js';
import { entry, header, type BindingDecl } from '../wgsl.js';
import { batchPlan, C_TOTAL, C_WORDS, GEOMETRY, type Geo, geometryWords, intoContiguous } from './conv.js';

function geo(x: View, y: View, p: WindowParams): Geo {
  return { n: x.shape[0], h: x.shape[1], w: x.shape[2], c: x.shape[3], kh: p.window[0], kw: p.window[1], co: x.shape[3], oh: y.shape[1], ow: y.shape[2] };
}

/** Max (NaN propagates; no real cell: -Inf) or average (over real cells; none: NaN) pooling. */
export function pool2d(ctx: Ctx, kind: 'max' | 'avg', x: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  intoContiguous(ctx, out, 'pool2d', (o) => {
    const bindings: BindingDecl[] = [{ name: 'O', ty: 'f32', access: 'w' }, { name: 'A', ty: 'f32', access: 'r' }];
    const isMax = kind === 'max';
    const code = (): string => `${header(C_WORDS, bindings, ['consts', 'max_f', 'div_f'])}\n${entry(WG, `  let i = g * ${WG}u + lid;
  if (i >= pu(${C_TOTAL}u)) { return; }
${GEOMETRY}
  var r = i32(i);
  let c = r % C; r = r / C;
  let ox = r % OW; r = r / OW;
  let oy = r % OH;
  let b = r / OH;
  var acc = ${isMax ? '-inf_f()' : '0.0'};
  var cnt = 0;
  for (var ky = 0; ky < KH; ky = ky + 1) {
    let iy = oy * SH - PT + ky * DH;
    if (iy < 0 || iy >= H) { continue; }
    for (var kx = 0; kx < KW; kx = kx + 1) {
      let ix = ox * SW - PL + kx * DW;
      if (ix < 0 || ix >= W) { continue; }
      let v = A[ao + b * as0 + iy * as1 + ix * as2 + c * as3];
      ${isMax ? 'acc = max_f(acc, v);' : 'acc = acc + v;'}
      cnt = cnt + 1;
    }
  }
  O[oo + i32(i)] = ${isMax ? 'acc' : 'div_f(acc, f32(cnt))'};`)}`;
    for (const piece of batchPlan(ctx, x.shape[0], [x, o], [true, true], 'pool2d')) {
      const [vx, vo] = piece.views;
      const g = geo(vx, vo, p);
      const bx = ctx.bind(vx, 'pool2d'), bo = ctx.bind(vo, 'pool2d');
      const w = geometryWords(g, p, vo.size, [bx.offset, x.strides], null, [bo.offset, o.strides]);
      ctx.run(`pool2d:${kind}`, bindings, C_WORDS, code, w.a, [bo.range, bx.range], Math.ceil(vo.size / WG));
    }
  });
}

/** Gradient of pool2d with respect to x (`out` shaped like x). */
export function pool2dBackward(ctx: Ctx, kind: 'max' | 'avg', x: View, dy: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  // Windows along the batch: each one is a pool2dBackward of its own (views keep their strides).
  const pieces = batchPlan(ctx, x.shape[0], [x, dy, out], [true, true, true], 'pool2dBackward');
  if (pieces.length > 1) {
    for (const piece of pieces) pool2dBackward(ctx, kind, piece.views[0], piece.views[1], p, piece.views[2]);
    return;
  }
  intoContiguous(ctx, out, 'pool2dBackward', (o) => {
    const g = geo(x, dy, p);
    const bx = ctx.bind(x, 'pool2dBackward'), bd = ctx.bind(dy, 'pool2dBackward'), bo = ctx.bind(o, 'pool2dBackward');
    let argBlock = null;
    if (kind === 'max' && dy.size > 0) {
      // Pass 1: the chosen cell of every window, as (iy * W + ix), or -1.
      argBlock = ctx.temp(dy.size, 'pool2dBackward');
      const w1 = geometryWords(g, p, dy.size, [bx.offset, x.strides], null, [0, [g.oh * g.ow * g.c, g.ow * g.c, g.c, 1]]);
      const b1: BindingDecl[] = [{ name: 'ARG', ty: 'i32', access: 'w' }, { name: 'A', ty: 'f32', access: 'r' }];
      ctx.run('pool2d:argmax', b1, C_WORDS, () => `${header(C_WORDS, b1, ['consts'])}\n${entry(WG, `  let i = g * ${WG}u + lid;
  if (i >= pu(${C_TOTAL}u)) { return; }
${GEOMETRY}
  var r = i32(i);
  let c = r % C; r = r / C;
  let ox = r % OW; r = r / OW;
  let oy = r % OH;
  let b = r / OH;
  var best = 0.0;
  var at = -1;
  for (var ky = 0; ky < KH; ky = ky + 1) {
    let iy = oy * SH - PT + ky * DH;
    if (iy < 0 || iy >= H) { continue; }
    for (var kx = 0; kx < KW; kx = kx + 1) {
      let ix = ox * SW - PL + kx * DW;
      if (ix < 0 || ix >= W) { continue; }
      let v = A[ao + b * as0 + iy * as1 + ix * as2 + c * as3];
      if (at < 0 || (!is_nan(best) && (v > best || is_nan(v)))) { best = v; at = iy * W + ix; }
    }
  }
  ARG[i] = at;`)}`, w1.a, [ctx.whole(argBlock, dy.size, 'pool2dBackward'), bx.range], Math.ceil(dy.size / WG));
    }
    // Pass 2: every input cell gathers from the windows that reach it, in output order.
    const w2 = geometryWords(g, p, o.size, [bd.offset, dy.strides], null, [bo.offset, o.strides]);
    const isMax = kind === 'max';
    const b2: BindingDecl[] = [{ name: 'O', ty: 'f32', access: 'w' }, { name: 'DY', ty: 'f32', access: 'r' }];
    if (isMax) b2.push({ name: 'ARG', ty: 'i32', access: 'r' });
    const code2 = (): string => `${header(C_WORDS, b2, [])}\n${entry(WG, `  let i = g * ${WG}u + lid;
  if (i >= pu(${C_TOTAL}u)) { return; }
${GEOMETRY}
  var r = i32(i);
  let c = r % C; r = r / C;
  let ix = r % W; r = r / W;
  let iy = r % H;
  let b = r / H;
  var acc = 0.0;
  for (var ky = KH - 1; ky >= 0; ky = ky - 1) {
    let ty = iy + PT - ky * DH;
    if (ty < 0 || ty % SH != 0) { continue; }
    let oy = ty / SH;
    if (oy >= OH) { continue; }
    for (var kx = KW - 1; kx >= 0; kx = kx - 1) {
      let tx = ix + PL - kx * DW;
      if (tx < 0 || tx % SW != 0) { continue; }
      let ox = tx / SW;
      if (ox >= OW) { continue; }
      let d = DY[ao + b * as0 + oy * as1 + ox * as2 + c * as3];
${isMax ? `      if (ARG[((b * OH + oy) * OW + ox) * C + c] == iy * W + ix) { acc = acc + d; }` : `      var cy = 0;
      for (var k = 0; k < KH; k = k + 1) { let yy = oy * SH - PT + k * DH; if (yy >= 0 && yy < H) { cy = cy + 1; } }
      var cx = 0;
      for (var k = 0; k < KW; k = k + 1) { let xx = ox * SW - PL + k * DW; if (xx >= 0 && xx < W) { cx = cx + 1; } }
      acc = acc + d / f32(cy * cx);`}
    }
  }
  O[oo + i32(i)] = acc;`)}`;
    const ranges = [bo.range, bd.range];
    if (isMax) ranges.push(argBlock !== null ? ctx.whole(argBlock, dy.size, 'pool2dBackward') : bd.range);
    ctx.run(`pool2d:back:${kind}`, b2, C_WORDS, code2, w2.a, ranges, Math.ceil(o.size / WG));
    if (argBlock !== null) ctx.release(argBlock);
  });
}
