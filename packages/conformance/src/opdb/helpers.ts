/**
 * Small builders the op families share: unary and binary element-wise specs, and
 * reading scalar operands out of a case's attributes.
 * @module
 */
import type { DType } from '@tessera/core';
import type { CoreApi, Tensor } from '../api.js';
import { defaultDomain } from '../domains.js';
import { host, map1, map2, toDType, type HostTensor } from '../host.js';
import type { KernelRef } from '../kernels.js';
import type { Attrs, CaseDef, Domain, Family, GradPolicy, OpSpec, Tol } from '../types.js';

/**
 * A host tensor for a JS number operand (`attrs.numberA` / `attrs.numberB`).
 * @example
 * numberOperand(2.5, 'float32').shape; // []
 */
export function numberOperand(v: number, dtype: DType): HostTensor {
  return host(dtype, [], [toDType(v, dtype)]);
}

/**
 * The operands of a binary case as core receives them (tensors or plain numbers).
 * @example
 * binaryOperands([x], { numberB: 2 }); // [x, 2]
 */
export function binaryOperands(inputs: Tensor[], attrs: Attrs): [Tensor | number, Tensor | number] {
  if (attrs.numberA !== undefined) return [attrs.numberA as number, inputs[0]];
  if (attrs.numberB !== undefined) return [inputs[0], attrs.numberB as number];
  return [inputs[0], inputs[1]];
}

/**
 * The operands of a binary case as host tensors.
 * @example
 * binaryHostOperands([x], { numberA: 2 }); // [scalar 2, x]
 */
export function binaryHostOperands(inputs: HostTensor[], attrs: Attrs): [HostTensor, HostTensor] {
  const dtype = inputs[0].dtype;
  if (attrs.numberA !== undefined) return [numberOperand(attrs.numberA as number, dtype), inputs[0]];
  if (attrs.numberB !== undefined) return [inputs[0], numberOperand(attrs.numberB as number, dtype)];
  return [inputs[0], inputs[1]];
}

/** Definition of an element-wise unary op for {@link unarySpec}. */
export interface UnaryDef {
  name: string;
  family?: Family;
  kind?: OpSpec['kind'];
  kernels: readonly KernelRef[];
  dtypes?: readonly DType[];
  run: (api: CoreApi, x: Tensor, attrs: Attrs) => Tensor;
  /** Float64 scalar reference for float32 inputs. */
  f: (x: number, attrs: Attrs) => number;
  /** Reference for int32/bool inputs (default: `f`, rounded to the dtype). */
  fInt?: (x: number, attrs: Attrs) => number;
  /** Output dtype (default: the input's). */
  outDType?: DType;
  domain?: (dtype: DType) => Domain | undefined;
  tol?: Tol;
  /** Hand-written edge cases per dtype. */
  samples?: (dtype: DType) => CaseDef[];
  /** Shape cases per dtype (default: the full unary set). */
  shapes: (dtype: DType) => CaseDef[];
  errors?: CaseDef[];
  grad?: GradPolicy;
}

/**
 * Builds a unary element-wise {@link OpSpec}.
 * @example
 * const exp = unarySpec({ name: 'exp', kernels: ['unary:exp'], run: (api, x) => api.exp(x),
 *   f: Math.exp, shapes: (d) => unaryCases(d) });
 */
export function unarySpec(d: UnaryDef): OpSpec {
  return {
    name: d.name,
    family: d.family ?? 'elementwise',
    kind: d.kind ?? 'primitive',
    op: d.name,
    kernels: d.kernels,
    dtypes: d.dtypes ?? ['float32'],
    run: (api, [x], attrs) => d.run(api, x, attrs),
    ref64: ([x], attrs) => {
      const f = x.dtype === 'float32' ? d.f : (d.fInt ?? d.f);
      const out = d.outDType ?? x.dtype;
      return map1(x, (v) => f(v, attrs), out);
    },
    cases: (dtype) => [...d.shapes(dtype), ...(d.samples?.(dtype) ?? [])],
    errors: d.errors,
    domain: d.domain ? (dtype) => d.domain!(dtype) ?? defaultDomain(dtype) : undefined,
    tol: d.tol ? (dtype) => (dtype === 'float32' ? d.tol! : EXACT_TOL) : undefined,
    grad: d.grad ?? 'fd',
  };
}

/** Definition of an element-wise binary op for {@link binarySpec}. */
export interface BinaryDef {
  name: string;
  family?: Family;
  kernels: readonly KernelRef[];
  dtypes: readonly DType[];
  run: (api: CoreApi, a: Tensor | number, b: Tensor | number) => Tensor;
  f: (a: number, b: number) => number;
  fInt?: (a: number, b: number) => number;
  outDType?: DType;
  domains?: (dtype: DType) => readonly [Domain | undefined, Domain | undefined];
  tol?: Tol;
  shapes: (dtype: DType) => CaseDef[];
  samples?: (dtype: DType) => CaseDef[];
  errors?: CaseDef[];
  grad?: GradPolicy;
}

/**
 * Builds a binary element-wise {@link OpSpec} (broadcasting, number operands).
 * @example
 * const add = binarySpec({ name: 'add', kernels: ['binary:add'], dtypes: ['float32'],
 *   run: (api, a, b) => api.add(a, b), f: (a, b) => a + b, shapes: (d) => binaryCases(d) });
 */
export function binarySpec(d: BinaryDef): OpSpec {
  return {
    name: d.name,
    family: d.family ?? 'elementwise',
    kind: 'primitive',
    op: d.name,
    kernels: d.kernels,
    dtypes: d.dtypes,
    run: (api, inputs, attrs) => {
      const [a, b] = binaryOperands(inputs, attrs);
      return d.run(api, a, b);
    },
    ref64: (inputs, attrs) => {
      const [a, b] = binaryHostOperands(inputs, attrs);
      const f = a.dtype === 'float32' ? d.f : (d.fInt ?? d.f);
      return map2(a, b, f, d.outDType ?? a.dtype);
    },
    cases: (dtype) => [...d.shapes(dtype), ...(d.samples?.(dtype) ?? [])],
    errors: d.errors,
    domain: d.domains ? (dtype, i) => d.domains!(dtype)[i] ?? defaultDomain(dtype) : undefined,
    tol: d.tol ? (dtype) => (dtype === 'float32' ? d.tol! : EXACT_TOL) : undefined,
    grad: d.grad ?? 'fd',
  };
}

const EXACT_TOL: Tol = { rtol: 0, atol: 0 };

/**
 * Every case of `cases` whose label starts with one of `prefixes`.
 * @example
 * pick(unaryCases('int32'), ['scalar', 'mat', 'size0']);
 */
export function pick(cases: CaseDef[], prefixes: readonly string[]): CaseDef[] {
  return cases.filter((c) => prefixes.some((p) => c.label.startsWith(p)));
}

/**
 * A disposed-input error case for an op with `n` inputs of `shape`.
 * @example
 * disposedCase('float32', [[2, 3], [2, 3]]);
 */
export function disposedCase(dtype: DType, shapes: readonly (readonly number[])[], attrs?: Attrs): CaseDef {
  return {
    label: 'disposed-input',
    inputs: shapes.map((s, i) => ({ shape: s, dtype, disposed: i === 0 })),
    attrs,
    error: 'DisposedTensorError',
  };
}
