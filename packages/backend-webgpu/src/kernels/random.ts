/**
 * Counter-based random bits: threefry2x32, 20 rounds (Random123), one invocation per block
 * of two outputs, bit-identical with every other Tessera backend.
 * @module
 */
import type { View } from '@tessera/core';
import { type Ctx, WG } from '../ctx.js';
import { isContiguous } from '../layout.js';
import { entry, header, type BindingDecl, Words } from '../wgsl.js';
import { copyOp, runMap } from './map.js';
import { planWindows } from '../window.js';

const R_N = 0, R_K0 = 1, R_K1 = 2, R_LO = 3, R_HI = 4, R_OFF = 5, R_FLOAT = 6;
const R_WORDS = 8;

const ROT = [13, 15, 26, 6, 17, 29, 16, 24];

function rounds(r: readonly number[]): string {
  return r.map((s) => `  x0 = x0 + x1; x1 = ((x1 << ${s}u) | (x1 >> ${32 - s}u)) ^ x0;`).join('\n');
}

const THREEFRY = `fn threefry(k0: u32, k1: u32, c0: u32, c1: u32) -> vec2<u32> {
  let k2 = k0 ^ k1 ^ 0x1BD11BDAu;
  var x0 = c0 + k0;
  var x1 = c1 + k1;
${rounds(ROT.slice(0, 4))}
  x0 = x0 + k1; x1 = x1 + k2 + 1u;
${rounds(ROT.slice(4))}
  x0 = x0 + k2; x1 = x1 + k0 + 2u;
${rounds(ROT.slice(0, 4))}
  x0 = x0 + k0; x1 = x1 + k1 + 3u;
${rounds(ROT.slice(4))}
  x0 = x0 + k1; x1 = x1 + k2 + 4u;
${rounds(ROT.slice(0, 4))}
  x0 = x0 + k2; x1 = x1 + k0 + 5u;
  return vec2<u32>(x0, x1);
}`;

/**
 * Fills `out` with threefry2x32 bits keyed by `key`: block j encrypts the 64-bit counter
 * `counter + j` (low word first) into elements 2j and 2j+1. int32 gets the raw bits,
 * float32 `(bits >>> 8) · 2^-24`. A large `out` is cut into windows that start at even
 * elements (each window's counter is `counter + start / 2`).
 */
export function randomBits(ctx: Ctx, key: readonly [number, number], counter: number, out: View): void {
  const n = out.size;
  if (n === 0) return;
  if (!isContiguous(out)) {
    const t = ctx.temp(n, 'randomBits');
    const tv = ctx.tempView(t, out.dtype, out.shape);
    randomBits(ctx, key, counter, tv);
    runMap(ctx, copyOp, [tv], out, [], 'randomBits');
    ctx.release(t);
    return;
  }
  const bindings: BindingDecl[] = [{ name: 'o', ty: 'u32', access: 'w' }];
  const code = (): string => `${header(R_WORDS, bindings)}\n${THREEFRY}\n${entry(WG, `  let j = g * ${WG}u + lid;
  let n = pu(${R_N}u);
  if (2u * j >= n) { return; }
  let lo = pu(${R_LO}u) + j;
  let hi = pu(${R_HI}u) + select(0u, 1u, lo < j);
  var y = threefry(pu(${R_K0}u), pu(${R_K1}u), lo, hi);
  if (pu(${R_FLOAT}u) != 0u) {
    y = vec2<u32>(bitcast<u32>(f32(y.x >> 8u) * 5.9604644775390625e-8), bitcast<u32>(f32(y.y >> 8u) * 5.9604644775390625e-8));
  }
  let q = pi(${R_OFF}u) + i32(2u * j);
  o[q] = y.x;
  if (2u * j + 1u < n) { o[q + 1] = y.y; }`)}`;
  // Windows start at even elements, so that each starts a block: its counter is counter + start / 2.
  const plan = planWindows(ctx, [n], [{ view: out, strides: [1] }], 'randomBits', { multiple: [2] });
  for (const p of plan.pieces) {
    const bo = ctx.bind(p.views[0], 'randomBits');
    const c = counter + p.start[0] / 2;
    const lo = c % 4294967296;
    const hi = Math.floor(c / 4294967296) % 4294967296;
    const len = p.shape[0];
    const w = new Words(R_WORDS).u(R_N, len).u(R_K0, key[0]).u(R_K1, key[1]).u(R_LO, lo).u(R_HI, hi).i(R_OFF, bo.offset)
      .u(R_FLOAT, out.dtype === 'float32' ? 1 : 0);
    ctx.run('random:threefry', bindings, R_WORDS, code, w.a, [bo.range], Math.ceil(Math.ceil(len / 2) / WG));
  }
}
