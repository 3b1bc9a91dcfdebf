/**
 * NHWC conv2d and its two gradients as direct convolutions: one invocation per output
 * element (input gradient: per input element, visiting only the taps that reach it), and
 * for the filter gradient one workgroup per filter element with a tree over the image
 * positions when there are many. Operands may be strided (4-D strides are uniforms).
 * @module
 */
import type { View, WindowParams } from '@tessera/core';
import { type Ctx, WG } from '../ctx.js';
import { isContiguous } from '../layout.js';
import { entry, header, type BindingDecl, Words } from '../wgsl.js';
import { copyOp, runMap } from './map.js';
import { binaryOp } from './elementwise.js';
import { type Piece, planWindows } from '../window.js';

// Geometry words shared by conv and pool kernels.
export const C_N = 0, C_H = 1, C_W = 2, C_C = 3, C_KH = 4, C_KW = 5, C_CO = 6, C_OH = 7, C_OW = 8;
export const C_SH = 9, C_SW = 10, C_DH = 11, C_DW = 12, C_PT = 13, C_PL = 14, C_TOTAL = 15;
export const C_AOFF = 16, C_AS = 17, C_BOFF = 21, C_BS = 22, C_OOFF = 26, C_OS = 27;
export const C_WORDS = 32;

/** WGSL reading the geometry words into locals. */
export const GEOMETRY = `  let N = i32(pu(${C_N}u)); let H = i32(pu(${C_H}u)); let W = i32(pu(${C_W}u)); let C = i32(pu(${C_C}u));
  let KH = i32(pu(${C_KH}u)); let KW = i32(pu(${C_KW}u)); let CO = i32(pu(${C_CO}u)); let OH = i32(pu(${C_OH}u)); let OW = i32(pu(${C_OW}u));
  let SH = i32(pu(${C_SH}u)); let SW = i32(pu(${C_SW}u)); let DH = i32(pu(${C_DH}u)); let DW = i32(pu(${C_DW}u));
  let PT = pi(${C_PT}u); let PL = pi(${C_PL}u);
  let ao = pi(${C_AOFF}u); let as0 = pi(${C_AS}u); let as1 = pi(${C_AS + 1}u); let as2 = pi(${C_AS + 2}u); let as3 = pi(${C_AS + 3}u);
  let bo = pi(${C_BOFF}u); let bs0 = pi(${C_BS}u); let bs1 = pi(${C_BS + 1}u); let bs2 = pi(${C_BS + 2}u); let bs3 = pi(${C_BS + 3}u);
  let oo = pi(${C_OOFF}u); let os0 = pi(${C_OS}u); let os1 = pi(${C_OS + 1}u); let os2 = pi(${C_OS + 2}u); let os3 = pi(${C_OS + 3}u);`;

/** Geometry of a window op: x `[n,h,w,c]`, window, output `[n,oh,ow,co]`. */
export interface Geo { n: number; h: number; w: number; c: number; kh: number; kw: number; co: number; oh: number; ow: number }

/** Fills the geometry words; operands a, b and out get offsets and 4-D strides. */
export function geometryWords(g: Geo, p: WindowParams, total: number, a: [number, readonly number[]], b: [number, readonly number[]] | null, o: [number, readonly number[]]): Words {
  const w = new Words(C_WORDS)
    .u(C_N, g.n).u(C_H, g.h).u(C_W, g.w).u(C_C, g.c).u(C_KH, g.kh).u(C_KW, g.kw).u(C_CO, g.co).u(C_OH, g.oh).u(C_OW, g.ow)
    .u(C_SH, p.strides[0]).u(C_SW, p.strides[1]).u(C_DH, p.dilations[0]).u(C_DW, p.dilations[1]).i(C_PT, p.pads[0]).i(C_PL, p.pads[2])
    .u(C_TOTAL, total).i(C_AOFF, a[0]).ints(C_AS, a[1]).i(C_OOFF, o[0]).ints(C_OS, o[1]);
  if (b) w.i(C_BOFF, b[0]).ints(C_BS, b[1]);
  return w;
}

/** Runs `body` on a contiguous out (through a temporary and a copy when out is strided). */
export function intoContiguous(ctx: Ctx, out: View, name: string, body: (o: View) => void): void {
  if (isContiguous(out)) {
    body(out);
    return;
  }
  const t = ctx.temp(out.size, name);
  const tv = ctx.tempView(t, out.dtype, out.shape);
  body(tv);
  runMap(ctx, copyOp, [tv], out, [], name);
  ctx.release(t);
}

/**
 * Windows of a window op: its work is the batch axis; `batched[k]` says whether operand k
 * has it (x, dy, out) or not (the filter). Every other axis is bound whole.
 */
export function batchPlan(ctx: Ctx, n: number, views: readonly View[], batched: readonly boolean[], op: string): Piece[] {
  return planWindows(ctx, [n], views.map((v, k) => {
    const from = batched[k] ? 1 : 0;
    return { view: v, strides: [batched[k] ? v.strides[0] : 0], fixed: v.shape.slice(from).map((len, d) => [len, v.strides[d + from]] as const) };
  }), op).pieces;
}

const THREE: BindingDecl[] = [{ name: 'O', ty: 'f32', access: 'w' }, { name: 'A', ty: 'f32', access: 'r' }, { name: 'B', ty: 'f32', access: 'r' }];

/** NHWC convolution: x `[n,h,w,cin]`, filter `[kh,kw,cin,cout]`, out `[n,oh,ow,cout]`. */
export function conv2d(ctx: Ctx, x: View, filter: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  intoContiguous(ctx, out, 'conv2d', (o) => {
    const code = (): string => `${header(C_WORDS, THREE)}\n${entry(WG, `  let i = g * ${WG}u + lid;
  if (i >= pu(${C_TOTAL}u)) { return; }
${GEOMETRY}
  var r = i32(i);
  let co = r % CO; r = r / CO;
  let ox = r % OW; r = r / OW;
  let oy = r % OH;
  let b = r / OH;
  var acc = 0.0;
  for (var ky = 0; ky < KH; ky = ky + 1) {
    let iy = oy * SH - PT + ky * DH;
    if (iy < 0 || iy >= H) { continue; }
    for (var kx = 0; kx < KW; kx = kx + 1) {
      let ix = ox * SW - PL + kx * DW;
      if (ix < 0 || ix >= W) { continue; }
      let xb = ao + b * as0 + iy * as1 + ix * as2;
      let fb = bo + ky * bs0 + kx * bs1 + co * bs3;
      for (var ci = 0; ci < C; ci = ci + 1) { acc = acc + A[xb + ci * as3] * B[fb + ci * bs2]; }
    }
  }
  O[oo + i32(i)] = acc;`)}`;
    for (const piece of batchPlan(ctx, x.shape[0], [x, filter, o], [true, false, true], 'conv2d')) {
      const [vx, vf, vo] = piece.views;
      const g: Geo = { n: piece.shape[0], h: x.shape[1], w: x.shape[2], c: x.shape[3], kh: filter.shape[0], kw: filter.shape[1], co: filter.shape[3], oh: o.shape[1], ow: o.shape[2] };
      const bx = ctx.bind(vx, 'conv2d'), bf = ctx.bind(vf, 'conv2d'), bo = ctx.bind(vo, 'conv2d');
      const w = geometryWords(g, p, vo.size, [bx.offset, x.strides], [bf.offset, filter.strides], [bo.offset, o.strides]);
      ctx.run('conv2d', THREE, C_WORDS, code, w.a, [bo.range, bx.range, bf.range], Math.ceil(vo.size / WG));
    }
  });
}

/** Gradient of conv2d with respect to x (`out` shaped like x). */
export function conv2dBackpropInput(ctx: Ctx, dy: View, filter: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  intoContiguous(ctx, out, 'conv2dBackpropInput', (o) => {
    const code = (): string => `${header(C_WORDS, THREE)}\n${entry(WG, `  let i = g * ${WG}u + lid;
  if (i >= pu(${C_TOTAL}u)) { return; }
${GEOMETRY}
  var r = i32(i);
  let ci = r % C; r = r / C;
  let ix = r % W; r = r / W;
  let iy = r % H;
  let b = r / H;
  var acc = 0.0;
  if (N > 0 && OH > 0 && OW > 0) {
    for (var ky = 0; ky < KH; ky = ky + 1) {
      let ty = iy + PT - ky * DH;
      if (ty < 0 || ty % SH != 0) { continue; }
      let oy = ty / SH;
      if (oy >= OH) { continue; }
      for (var kx = 0; kx < KW; kx = kx + 1) {
        let tx = ix + PL - kx * DW;
        if (tx < 0 || tx % SW != 0) { continue; }
        let ox = tx / SW;
        if (ox >= OW) { continue; }
        let db = ao + b * as0 + oy * as1 + ox * as2;
        let fb = bo + ky * bs0 + kx * bs1 + ci * bs2;
        for (var co = 0; co < CO; co = co + 1) { acc = acc + A[db + co * as3] * B[fb + co * bs3]; }
      }
    }
  }
  O[oo + i32(i)] = acc;`)}`;
    for (const piece of batchPlan(ctx, o.shape[0], [dy, filter, o], [true, false, true], 'conv2dBackpropInput')) {
      const [vd, vf, vo] = piece.views;
      const g: Geo = { n: piece.shape[0], h: o.shape[1], w: o.shape[2], c: o.shape[3], kh: filter.shape[0], kw: filter.shape[1], co: filter.shape[3], oh: dy.shape[1], ow: dy.shape[2] };
      const bd = ctx.bind(vd, 'conv2dBackpropInput'), bf = ctx.bind(vf, 'conv2dBackpropInput'), bo = ctx.bind(vo, 'conv2dBackpropInput');
      const w = geometryWords(g, p, vo.size, [bd.offset, dy.strides], [bf.offset, filter.strides], [bo.offset, o.strides]);
      ctx.run('conv2d:dx', THREE, C_WORDS, code, w.a, [bo.range, bd.range, bf.range], Math.ceil(vo.size / WG));
    }
  });
}

const TREE_WG = 64;

/** Gradient of conv2d with respect to the filter (`out` shaped like the filter). */
export function conv2dBackpropFilter(ctx: Ctx, x: View, dy: View, p: WindowParams, out: View): void {
  if (out.size === 0) return;
  intoContiguous(ctx, out, 'conv2dBackpropFilter', (o) => {
    const decode = `${GEOMETRY}
  var r = i32(e);
  let co = r % CO; r = r / CO;
  let ci = r % C; r = r / C;
  let kx = r % KW;
  let ky = r / KW;
  let P = N * OH * OW;`;
    const term = `{
      var q = p;
      let ox = q % OW; q = q / OW;
      let oy = q % OH;
      let b = q / OH;
      let iy = oy * SH - PT + ky * DH;
      let ix = ox * SW - PL + kx * DW;
      if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
        acc = acc + A[ao + b * as0 + iy * as1 + ix * as2 + ci * as3] * B[bo + b * bs0 + oy * bs1 + ox * bs2 + co * bs3];
      }
    }`;
    const code = (tree: boolean): string => tree
      ? `${header(C_WORDS, THREE)}\nvar<workgroup> sh: array<f32, ${TREE_WG}>;\n${entry(TREE_WG, `  let e = g;
  if (e >= pu(${C_TOTAL}u)) { return; }
${decode}
  var acc = 0.0;
  for (var p = i32(lid); p < P; p = p + ${TREE_WG}) ${term}
  sh[lid] = acc;
  workgroupBarrier();
  for (var h = ${TREE_WG / 2}u; h > 0u; h = h >> 1u) {
    if (lid < h) { sh[lid] = sh[lid] + sh[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { O[oo + i32(e)] = sh[0]; }`)}`
      : `${header(C_WORDS, THREE)}\n${entry(WG, `  let e = g * ${WG}u + lid;
  if (e >= pu(${C_TOTAL}u)) { return; }
${decode}
  var acc = 0.0;
  for (var p = 0; p < P; p = p + 1) ${term}
  O[oo + i32(e)] = acc;`)}`;
    // Batch windows: the first writes out, each other one its own sum, which is added to out.
    const pieces = batchPlan(ctx, x.shape[0], [x, dy, o], [true, true, false], 'conv2dBackpropFilter');
    const t = pieces.length > 1 ? ctx.temp(o.size, 'conv2dBackpropFilter') : null;
    pieces.forEach((piece, k) => {
      const [vx, vd] = piece.views;
      const target = t === null || k === 0 ? o : ctx.tempView(t, 'float32', o.shape);
      const g: Geo = { n: piece.shape[0], h: x.shape[1], w: x.shape[2], c: x.shape[3], kh: o.shape[0], kw: o.shape[1], co: o.shape[3], oh: dy.shape[1], ow: dy.shape[2] };
      const bx = ctx.bind(vx, 'conv2dBackpropFilter'), bd = ctx.bind(vd, 'conv2dBackpropFilter'), bo = ctx.bind(target, 'conv2dBackpropFilter');
      const w = geometryWords(g, p, o.size, [bx.offset, x.strides], [bd.offset, dy.strides], [bo.offset, target.strides]);
      const tree = g.n * g.oh * g.ow >= 256;
      ctx.run(`conv2d:dw:${tree ? 'tree' : 'line'}`, THREE, C_WORDS, () => code(tree), w.a, [bo.range, bx.range, bd.range], tree ? o.size : Math.ceil(o.size / WG));
      if (k > 0) runMap(ctx, binaryOp('add', 'float32'), [o, target], o, [], 'conv2dBackpropFilter');
    });
    if (t !== null) ctx.release(t);
  });
}
