/**
 * The kernel names and op codes of `@tessera/core`'s kernel interface, as runtime lists, so
 * the suite can prove that its cases reach every one of them. The `satisfies` clauses and
 * the `Exhaustive` checks make `tsc` fail when `types.ts` gains a code these lists lack.
 * @module
 */
import type {
  ArgReduceOp, BinaryOp, CompareOp, FusedKernels, Kernels, ReduceOp, UnaryOp,
} from '@tessera/core';

type Exhaustive<Union, List extends readonly unknown[]> =
  [Exclude<Union, List[number]>] extends [never] ? true : ['missing', Exclude<Union, List[number]>];
const exhaustive = <X extends true>(_: X): void => undefined;

/** The required kernels of `Kernels`. */
export const REQUIRED_KERNELS = [
  'fill', 'copy', 'cast', 'unary', 'binary', 'compare', 'where', 'reduce', 'argReduce',
  'cumulative', 'matmul', 'gather', 'scatterAdd', 'randomBits',
] as const satisfies readonly (keyof Kernels)[];

/** The optional kernels of `FusedKernels`. */
export const FUSED_KERNELS = [
  'matmulFused', 'conv2d', 'conv2dBackpropInput', 'conv2dBackpropFilter', 'pool2d',
  'pool2dBackward', 'softmax', 'softmaxCrossEntropy', 'layerNorm', 'optimizerStep',
  'scaledDotProductAttention',
] as const satisfies readonly (keyof FusedKernels)[];

/** Every unary op code. */
export const UNARY_OPS = [
  'neg', 'abs', 'sign', 'exp', 'expm1', 'log', 'log1p', 'sqrt', 'rsqrt', 'square',
  'reciprocal', 'sin', 'cos', 'tanh', 'sigmoid', 'erf', 'floor', 'ceil', 'round', 'relu', 'not',
] as const satisfies readonly UnaryOp[];

/** Every binary op code. */
export const BINARY_OPS = [
  'add', 'sub', 'mul', 'div', 'pow', 'max', 'min', 'mod', 'atan2', 'and', 'or',
] as const satisfies readonly BinaryOp[];

/** Every comparison op code. */
export const COMPARE_OPS = [
  'equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual',
] as const satisfies readonly CompareOp[];

/** Every reduction op code. */
export const REDUCE_OPS = ['sum', 'prod', 'max', 'min'] as const satisfies readonly ReduceOp[];

/** Every index-reduction op code. */
export const ARG_REDUCE_OPS = ['argmax', 'argmin'] as const satisfies readonly ArgReduceOp[];

exhaustive<Exhaustive<keyof Kernels, typeof REQUIRED_KERNELS>>(true);
exhaustive<Exhaustive<keyof FusedKernels, typeof FUSED_KERNELS>>(true);
exhaustive<Exhaustive<UnaryOp, typeof UNARY_OPS>>(true);
exhaustive<Exhaustive<BinaryOp, typeof BINARY_OPS>>(true);
exhaustive<Exhaustive<CompareOp, typeof COMPARE_OPS>>(true);
exhaustive<Exhaustive<ReduceOp, typeof REDUCE_OPS>>(true);
exhaustive<Exhaustive<ArgReduceOp, typeof ARG_REDUCE_OPS>>(true);

/** A kernel name: required or fused. */
export type KernelName = (typeof REQUIRED_KERNELS)[number] | (typeof FUSED_KERNELS)[number];

/**
 * What a case is expected to reach: a kernel, or a kernel with its op code
 * (`'unary:exp'`, `'binary:add'`, `'reduce:sum'`, `'matmulFused:relu'`, `'pool2d:max'`).
 */
export type KernelRef =
  | KernelName
  | `unary:${UnaryOp}`
  | `binary:${BinaryOp}`
  | `compare:${CompareOp}`
  | `reduce:${ReduceOp}`
  | `argReduce:${ArgReduceOp}`
  | `cumulative:${ReduceOp}`
  | `${'matmulFused' | 'pool2d' | 'pool2dBackward' | 'optimizerStep' | 'softmax'}:${string}`;

/**
 * The kernel name of a {@link KernelRef}.
 * @example
 * kernelOf('unary:exp'); // 'unary'
 */
export function kernelOf(ref: KernelRef): KernelName {
  const i = ref.indexOf(':');
  return (i < 0 ? ref : ref.slice(0, i)) as KernelName;
}

/**
 * Every op-coded reference the suite must reach: `unary:*`, `binary:*`, `compare:*`,
 * `reduce:*`, `argReduce:*`.
 * @example
 * ALL_OP_CODES.includes('binary:atan2'); // true
 */
export const ALL_OP_CODES: readonly KernelRef[] = [
  ...UNARY_OPS.map((o) => `unary:${o}` as const),
  ...BINARY_OPS.map((o) => `binary:${o}` as const),
  ...COMPARE_OPS.map((o) => `compare:${o}` as const),
  ...REDUCE_OPS.map((o) => `reduce:${o}` as const),
  ...ARG_REDUCE_OPS.map((o) => `argReduce:${o}` as const),
];
