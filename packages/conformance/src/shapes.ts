/**
 * The shared case generators: shape sets for element-wise unary and binary ops (broadcast
 * pairs, size-0 and size-1 axes, non-contiguous views, odd and large sizes) and the helpers
 * that name cases after their shapes.
 * @module
 */
import type { DType } from '@tessera/core';
import type { CaseDef, Domain, InputDef, Tag, ViewRecipe } from './types.js';

/**
 * `[2,3]`-style text of a shape, used in case labels.
 * @example
 * shapeText([2, 3]); // '[2,3]'
 */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * An input definition.
 * @example
 * input([2, 3], 'float32', { view: { kind: 'flip', axes: [0] } });
 */
export function input(
  shape: readonly number[], dtype: DType,
  more: { domain?: Domain; values?: readonly number[]; view?: ViewRecipe; disposed?: boolean } = {},
): InputDef {
  return { shape, dtype, ...more };
}

/**
 * Tags a view recipe implies.
 * @example
 * viewTag({ kind: 'flip', axes: [0] }); // ['view:flip']
 */
export function viewTag(v: ViewRecipe | undefined): Tag[] {
  return v ? [`view:${v.kind}` as Tag] : [];
}

/** Options of {@link unaryCases}. */
export interface UnaryCaseOptions {
  /** Include the 100k-element case (default true). */
  large?: boolean;
  /** Domain override for every generated input. */
  domain?: Domain;
  /** Extra attributes for every case. */
  attrs?: Record<string, unknown>;
  /** `full` adds the redundant small shapes ([7], [2,3,4], [1], [1,1,5], [0]) and the offset view; default `core`. */
  set?: 'core' | 'full';
}

/** Labels of the unary shapes only the `full` set has. */
const UNARY_FULL_ONLY = ['vec', 'rank3', 'size1-[1]', 'size1-[1,1,5]', 'size0-[0]', 'offset'];

/**
 * The element-wise unary shape set for one dtype: scalar, small, odd, rank 5, size-0 and
 * size-1 axes, 100k elements, and five non-contiguous views.
 * @example
 * unaryCases('float32', { set: 'full' }).length; // 16 (core: 10)
 */
export function unaryCases(dtype: DType, o: UnaryCaseOptions = {}): CaseDef[] {
  const d = o.domain;
  const mk = (label: string, shape: number[], tags: Tag[], view?: ViewRecipe): CaseDef => ({
    label: `${label}-${shapeText(shape)}`,
    inputs: [input(shape, dtype, { domain: d, view })],
    attrs: o.attrs,
    tags: [...tags, ...viewTag(view)],
  });
  const cs: CaseDef[] = [
    mk('scalar', [], ['scalar']),
    mk('vec', [7], []),
    mk('mat', [3, 5], []),
    mk('rank3', [2, 3, 4], []),
    mk('rank5', [2, 1, 3, 1, 2], ['size1']),
    mk('size1', [1], ['size1']),
    mk('size1', [1, 1, 5], ['size1']),
    mk('size0', [0], ['size0']),
    mk('size0', [2, 0, 3], ['size0']),
    mk('odd', [17, 33], ['odd']),
    mk('transposed', [4, 6], [], { kind: 'transpose', perm: [1, 0] }),
    mk('stepped', [3, 4], [], { kind: 'step', step: 2 }),
    mk('flipped', [5, 3], [], { kind: 'flip', axes: [0, -1] }),
    mk('broadcast', [4, 5], [], { kind: 'broadcast', from: [1, 5] }),
    mk('offset', [3, 4], [], { kind: 'offset' }),
  ];
  if (o.large !== false) cs.push(mk('large', [100_000], ['large']));
  return o.set === 'full' ? cs : cs.filter((c) => !UNARY_FULL_ONLY.some((p) => c.label === p || c.label.startsWith(`${p}-`)));
}

/** Options of {@link binaryCases}. */
export interface BinaryCaseOptions {
  large?: boolean;
  /** Domains of the two operands. */
  domains?: readonly [Domain | undefined, Domain | undefined];
  /** A number to pass as a plain JS operand (`op(x, n)` and `op(n, x)`); omit to skip. */
  numberOperand?: number;
  attrs?: Record<string, unknown>;
  /** `full` adds redundant pairs (scalars, [4]x[2,3,4], [5,1,3]x[1,4,1], [2,0]x[2,1], [1]x[1]); default `core`. */
  set?: 'core' | 'full';
}

const BINARY_FULL_ONLY = ['scalars-', 'scalar-left-', 'bcast-[4]x', 'bcast-[5,1,3]', 'size0-[2,0]', 'size1-', 'bcast-of-transposed', 'bcast-[2,1,3,1,2]'];

/**
 * The element-wise binary shape set: equal shapes, scalars, broadcast pairs (size-1 axes
 * on either side, rank mismatch both ways), size-0 and size-1, odd, large, views on either
 * operand, and number operands.
 * @example
 * binaryCases('float32', { numberOperand: 2, set: 'full' }).length; // 21
 */
export function binaryCases(dtype: DType, o: BinaryCaseOptions = {}): CaseDef[] {
  const [da, db] = o.domains ?? [undefined, undefined];
  const mk = (
    label: string, a: number[], b: number[], tags: Tag[], va?: ViewRecipe, vb?: ViewRecipe,
  ): CaseDef => ({
    label: `${label}-${shapeText(a)}x${shapeText(b)}`,
    inputs: [input(a, dtype, { domain: da, view: va }), input(b, dtype, { domain: db, view: vb })],
    attrs: o.attrs,
    tags: [...tags, ...viewTag(va), ...viewTag(vb)],
  });
  const cs: CaseDef[] = [
    mk('same', [3, 4], [3, 4], []),
    mk('scalars', [], [], ['scalar']),
    mk('scalar-left', [], [2, 3], ['scalar', 'broadcast', 'rank-mismatch']),
    mk('scalar-right', [2, 3], [], ['scalar', 'broadcast', 'rank-mismatch']),
    mk('bcast', [3, 1], [1, 4], ['broadcast', 'size1']),
    mk('bcast', [2, 3, 4], [4], ['broadcast', 'rank-mismatch']),
    mk('bcast', [4], [2, 3, 4], ['broadcast', 'rank-mismatch']),
    mk('bcast', [5, 1, 3], [1, 4, 1], ['broadcast', 'size1']),
    mk('bcast', [2, 1, 3, 1, 2], [4, 1, 5, 1], ['broadcast', 'rank-mismatch', 'size1']),
    mk('size0', [0, 3], [3], ['size0', 'broadcast']),
    mk('size0', [2, 0], [2, 1], ['size0', 'broadcast']),
    mk('size1', [1], [1], ['size1']),
    mk('odd', [17, 33], [17, 33], ['odd']),
    mk('transposed', [4, 6], [4, 6], [], { kind: 'transpose', perm: [1, 0] }),
    mk('stepped-flipped', [3, 5], [3, 5], [], { kind: 'step', step: 3 }, { kind: 'flip', axes: [-1] }),
    mk('broadcast-view', [4, 5], [4, 5], [], { kind: 'broadcast', from: [4, 1] }, { kind: 'offset' }),
    mk('bcast-of-transposed', [3, 4, 2], [4, 2], ['broadcast', 'rank-mismatch'], undefined, { kind: 'transpose', perm: [1, 0] }),
  ];
  if (o.large !== false) {
    cs.push(mk('large', [100_000], [100_000], ['large']));
    cs.push(mk('large-bcast', [250, 401], [401], ['large', 'broadcast', 'odd']));
  }
  if (o.numberOperand !== undefined) {
    const n = o.numberOperand;
    cs.push({
      label: `number-right-${shapeText([3, 4])}x${n}`,
      inputs: [input([3, 4], dtype, { domain: da })],
      attrs: { ...o.attrs, numberB: n },
      tags: ['number-operand'],
    });
    cs.push({
      label: `number-left-${n}x${shapeText([3, 4])}`,
      inputs: [input([3, 4], dtype, { domain: db })],
      attrs: { ...o.attrs, numberA: n },
      tags: ['number-operand'],
    });
  }
  return o.set === 'full' ? cs : cs.filter((c) => !BINARY_FULL_ONLY.some((p) => c.label.startsWith(p)));
}

/**
 * A case over explicit values, one input per entry (special values, ties, denormals).
 * @example
 * valuesCase('special', 'float32', [[NaN, Infinity, -0]], ['special']);
 */
export function valuesCase(
  label: string, dtype: DType, values: readonly (readonly number[])[], tags: Tag[] = ['special'],
  more: Partial<CaseDef> = {},
): CaseDef {
  return {
    label,
    inputs: values.map((v) => input([v.length], dtype, { values: v })),
    tags,
    ...more,
  };
}

/** Special float values every element-wise op sees. */
export const SPECIALS: readonly number[] = [
  NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 2, -2.5, 1e30, -1e30, 1e-30, 3.4e38, -3.4e38,
].map(Math.fround);

/** Denormal float32 inputs (a flush-to-zero backend may list these as expected failures). */
export const DENORMALS: readonly number[] = [1e-40, -1e-40, 1.4e-45, -3e-39, 1.1754942e-38].map(Math.fround);

/**
 * Every ordered pair of `vals` as two equal-length operand lists.
 * @example
 * pairs([0, 1]); // [[0, 0, 1, 1], [0, 1, 0, 1]]
 */
export function pairs(vals: readonly number[]): [number[], number[]] {
  const a: number[] = [];
  const b: number[] = [];
  for (const x of vals) for (const y of vals) {
    a.push(x);
    b.push(y);
  }
  return [a, b];
}
