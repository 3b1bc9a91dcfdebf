/**
 * Window planning: the one mechanism by which kernels handle operands larger than the
 * device's `maxStorageBufferBindingSize`. A kernel describes its work as a grid of axes and,
 * per operand, the stride each work axis moves it by (0: that axis does not index it) plus
 * the operand's own axes no work axis walks (`fixed`, always bound whole). When an operand's
 * span does not fit one binding, {@link planWindows} cuts the work axes into equal chunks
 * (choosing, for the operand that does not fit, the axis that contributes most to its span,
 * and computing how many chunks that axis needs) until every operand of every piece fits;
 * each piece is then one dispatch that binds the buffer sub-ranges (offset and size,
 * aligned down to `minStorageBufferOffsetAlignment`) its views span.
 *
 * Work axes that index every operand they touch element-for-element (output axes) give
 * independent pieces. Kernels may also declare work axes that index only some inputs — the
 * gathered axis of `gather`'s `x`, the reduced axes of `reduce` — and combine their pieces
 * themselves (skip what is outside the window, partial results, a carried state).
 * @module
 */
import type { View } from '@tessera/core';
import type { Ctx } from './ctx.js';
import { GPU_ELEMENT_BYTES, tooLarge } from './storage.js';

/** An operand as the planner sees it. */
export interface Operand {
  /** The operand: its buffer, dtype and the element offset of the work origin. */
  view: View;
  /** Its stride along each work axis (0 where the axis does not index it). */
  strides: readonly number[];
  /** Its axes that no work axis walks, as `[length, stride]`: bound whole in every piece. */
  fixed?: readonly (readonly [number, number])[];
}

/** Options of {@link planWindows}. */
export interface PlanOptions {
  /** Per work axis: may it be cut (default true)? */
  splittable?: readonly boolean[];
  /** Per work axis: chunk lengths are multiples of this (default 1). */
  multiple?: readonly number[];
}

/** One dispatch's share of the work. */
export interface Piece {
  /** Start along each work axis. */
  start: number[];
  /** Length along each work axis. */
  shape: number[];
  /** Chunk index along each work axis. */
  index: number[];
  /**
   * Per operand, its view over the piece: shape = the piece's shape followed by the fixed
   * lengths, strides = the operand's work strides followed by the fixed strides, offset
   * moved to the piece's start. Bind these (`ctx.bind`).
   */
  views: View[];
}

/** A plan: chunks per work axis and the pieces in row-major order of their chunk index. */
export interface Plan {
  chunks: number[];
  pieces: Piece[];
}

function prod(xs: readonly number[]): number {
  let n = 1;
  for (const x of xs) n *= x;
  return n;
}

/** Elements from the lowest to the highest one an operand touches in a piece of `lens` (0 if none). */
function spanLength(o: Operand, lens: readonly number[]): number {
  let s = 1;
  for (let a = 0; a < lens.length; a++) {
    if (lens[a] === 0) return 0;
    s += (lens[a] - 1) * Math.abs(o.strides[a]);
  }
  for (const [n, st] of o.fixed ?? []) {
    if (n === 0) return 0;
    s += (n - 1) * Math.abs(st);
  }
  return s;
}

/** An operand's view over the piece starting at `start` with lengths `lens`. */
export function pieceView(o: Operand, start: readonly number[], lens: readonly number[]): View {
  const v = o.view;
  let offset = v.offset;
  for (let a = 0; a < start.length; a++) offset += start[a] * o.strides[a];
  const fixed = o.fixed ?? [];
  const shape = [...lens, ...fixed.map((f) => f[0])];
  const strides = [...o.strides, ...fixed.map((f) => f[1])];
  return { buf: v.buf, dtype: v.dtype, shape, strides, offset, size: prod(shape) };
}

function chunkLength(n: number, chunks: number, multiple: number): number {
  const l = Math.ceil(n / chunks);
  return Math.min(n, Math.ceil(l / multiple) * multiple);
}

/**
 * Plans the pieces of a kernel's work so that every operand of every piece can be bound.
 * Cheap when everything already fits (one piece, the whole work). Throws the BackendError
 * of {@link tooLarge} when an operand cannot be made to fit by cutting the splittable axes.
 * @example
 * // out[i] = x[i] over 10⁸ elements: pieces of at most maxStorageBufferBindingSize each
 * const plan = planWindows(ctx, [n], [{ view: out, strides: [1] }, { view: x, strides: [1] }], 'copy');
 */
export function planWindows(ctx: Ctx, work: readonly number[], operands: readonly Operand[], op: string, options: PlanOptions = {}): Plan {
  const rank = work.length;
  const zeros = new Array<number>(rank).fill(0);
  const chunks = new Array<number>(rank).fill(1);
  const whole = work.slice();
  if (!operands.every((o) => ctx.fits(pieceView(o, zeros, whole)))) {
    const limitBytes = ctx.rt.limits.maxStorageBufferBindingSize;
    const limit = Math.floor(limitBytes / GPU_ELEMENT_BYTES);
    // A piece's binding starts up to align - 1 elements before its first element.
    const slack = Math.max(1, ctx.rt.limits.minStorageBufferOffsetAlignment / GPU_ELEMENT_BYTES) - 1;
    const multiple = (a: number): number => Math.max(1, options.multiple?.[a] ?? 1);
    const canSplit = (a: number): boolean => options.splittable?.[a] !== false;
    for (;;) {
      const lens = work.map((n, a) => chunkLength(n, chunks[a], multiple(a)));
      const bad = operands.find((o) => ctx.block(o.view).size > limitBytes && spanLength(o, lens) + slack > limit);
      if (bad === undefined) break;
      const len = spanLength(bad, lens);
      // The work axis that contributes most to this operand's span.
      let best = -1, contrib = 0;
      for (let a = 0; a < rank; a++) {
        const c = (lens[a] - 1) * Math.abs(bad.strides[a]);
        if (canSplit(a) && lens[a] > multiple(a) && c > contrib) {
          best = a;
          contrib = c;
        }
      }
      if (best < 0) tooLarge(op, (len + slack) * GPU_ELEMENT_BYTES, limitBytes);
      const s = Math.abs(bad.strides[best]);
      const rest = len - contrib;
      const room = limit - slack - rest;
      const m = multiple(best);
      let l = room >= 0 ? Math.floor(room / s) + 1 : 1;
      l = Math.max(m, Math.floor(l / m) * m);
      let c = Math.ceil(work[best] / l);
      if (c <= chunks[best]) c = chunks[best] + 1;
      chunks[best] = c;
    }
  }
  const lens = work.map((n, a) => chunkLength(n, chunks[a], Math.max(1, options.multiple?.[a] ?? 1)));
  const counts = work.map((n, a) => (n === 0 ? 1 : Math.ceil(n / lens[a])));
  const pieces: Piece[] = [];
  const index = new Array<number>(rank).fill(0);
  for (;;) {
    const start = index.map((k, a) => k * lens[a]);
    const shape = index.map((k, a) => Math.min(lens[a], work[a] - start[a]));
    pieces.push({ start, shape, index: index.slice(), views: operands.map((o) => pieceView(o, start, shape)) });
    let a = rank - 1;
    while (a >= 0 && ++index[a] === counts[a]) index[a--] = 0;
    if (a < 0) break;
  }
  return { chunks: counts, pieces };
}
