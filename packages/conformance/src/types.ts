/**
 * The op database's data types: an {@link OpSpec} per public op, the {@link CaseDef}s it
 * generates, and the expected-failure file format.
 * @module
 */
import type { DType } from '@tessera/core';
import type { CoreApi, ErrorName, Tensor } from './api.js';
import type { HostTensor } from './host.js';
import type { KernelRef } from './kernels.js';

/** Absolute and relative tolerance: `|got − ref| ≤ atol + rtol·|ref|`. */
export interface Tol {
  readonly rtol: number;
  readonly atol: number;
}

/** A sampling range for generated values. */
export interface Domain {
  /** Shown in docs, e.g. `[-3, 3]`, `±[0.1, 10]`, `int[-20, 20]`. */
  readonly name: string;
  /** Draws one value (already representable in the target dtype). */
  sample(u: () => number): number;
}

/**
 * How an input tensor is made non-contiguous through core's view ops. The case's logical
 * values are the same whatever the recipe; only the way core sees them changes.
 * - `transpose`: a base laid out so that `transpose(base, perm)` has the logical values.
 * - `step`: `stridedSlice` with the given step on every axis out of a larger NaN-filled base.
 * - `flip`: `flip(base, axes)` of the reversed values.
 * - `broadcast`: `broadcastTo(base, shape)` of a base of shape `from` (stride-0 axes).
 * - `offset`: `slice` out of a larger NaN-filled base at a non-zero offset.
 */
export type ViewRecipe =
  | { readonly kind: 'transpose'; readonly perm: readonly number[] }
  | { readonly kind: 'step'; readonly step: number }
  | { readonly kind: 'flip'; readonly axes: readonly number[] }
  | { readonly kind: 'broadcast'; readonly from: readonly number[] }
  | { readonly kind: 'offset' };

/** One input of a case. */
export interface InputDef {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Values drawn from this domain (default: the spec's `domain` for this input). */
  readonly domain?: Domain;
  /** Explicit row-major logical values (override `domain`); for `broadcast` views, the base's. */
  readonly values?: readonly number[];
  readonly view?: ViewRecipe;
  /** Made and disposed before the op runs (for `DisposedTensorError` cases). */
  readonly disposed?: boolean;
}

/** Labels a case carries, for coverage accounting and filtering. */
export type Tag =
  | 'scalar' | 'size0' | 'size1' | 'broadcast' | 'rank-mismatch' | 'number-operand'
  | 'view:transpose' | 'view:step' | 'view:flip' | 'view:broadcast' | 'view:offset'
  | 'odd' | 'large' | 'special' | 'denormal' | 'neg-axis' | 'keepdims' | 'multi-axis'
  | 'all-axes' | 'ties' | 'int-overflow' | 'div-zero' | 'error' | 'stats' | 'bit-exact';

/** Attributes a case passes to its op (axis, options, scalar operands...). */
export type Attrs = Readonly<Record<string, unknown>>;

/** One case of an op: inputs, attributes, and optional overrides. */
export interface CaseDef {
  /** Short and unique within the op and dtype; becomes the last part of the case id. */
  readonly label: string;
  readonly inputs: readonly InputDef[];
  readonly attrs?: Attrs;
  readonly tags?: readonly Tag[];
  /** Replaces the spec's tolerance for this case. */
  readonly tol?: Tol;
  /** The op must throw this core error class (synchronously, before any kernel runs). */
  readonly error?: ErrorName;
  /** Compare the sign of zeros too (`-0` vs `0`). */
  readonly signedZeros?: boolean;
  /** Runs only on backends whose capabilities match (skips derive from `caps`, never by hand). */
  readonly requires?: { readonly syncRead?: boolean };
  /** Replaces the spec's `kernels` for this case (e.g. the activation a fused epilogue reaches). */
  readonly kernels?: readonly KernelRef[];
}

/** The gradient policy of an op, for `@tessera/autograd`'s checks. */
export type GradPolicy = 'fd' | 'none' | { readonly nondiff: readonly number[] };

/** Families, one file each under `src/opdb/`. */
export type Family =
  | 'elementwise' | 'compare' | 'reduce' | 'movement' | 'matmul' | 'nn' | 'creation'
  | 'random' | 'indexing' | 'optimizer';

/**
 * One public op in the database. `run` calls core; `ref64` is an independent float64
 * reference written in this package; `cases` generates inputs per dtype; `errors` lists
 * inputs that must throw.
 */
export interface OpSpec {
  /** Unique name; the first part of every case id (`add`, `matmul`, `conv2d`...). */
  readonly name: string;
  readonly family: Family;
  /** `primitive`: one kernel; `fused`: a fused kernel or its decomposition; `composite`: built of several. */
  readonly kind: 'primitive' | 'fused' | 'composite';
  /** The public core op it calls (for docs). */
  readonly op: string;
  /** The kernels (and op codes) its cases are expected to reach. */
  readonly kernels: readonly KernelRef[];
  readonly dtypes: readonly DType[];
  /** Calls core. Returns the output(s); in-place ops return the tensors they updated. */
  run(api: CoreApi, inputs: Tensor[], attrs: Attrs): Tensor | Tensor[];
  /** Float64 reference of the outputs (omit for ops checked by `check` instead). */
  readonly ref64?: (inputs: HostTensor[], attrs: Attrs) => HostTensor | HostTensor[];
  /** A property check (for random ops); returns a failure message or null. */
  readonly check?: (outputs: HostTensor[], attrs: Attrs) => string | null;
  /** Generated cases for one dtype. */
  cases(dtype: DType): CaseDef[];
  /** Inputs that must throw a core error class (each `CaseDef.error` set). */
  readonly errors?: readonly CaseDef[];
  /** Default input domain per dtype and input position. */
  readonly domain?: (dtype: DType, input: number) => Domain;
  /** Tolerance per dtype (int32 and bool are always exact); may depend on the case. */
  readonly tol?: (dtype: DType, c: CaseDef) => Tol;
  /** Indices of a case's inputs the op updates in place (exempt from the immutability check). */
  readonly inPlace?: (c: CaseDef) => readonly number[];
  /** Skip the output dtype check (core decides it and the README does not say). */
  readonly anyOutputDType?: boolean;
  readonly grad?: GradPolicy;
}

/** A case as listed: identity and metadata, no data yet. */
export interface CaseInfo {
  /** `op/dtype/label`, e.g. `add/float32/bcast-[3,1]x[4]`; errors use dtype `error`. */
  readonly id: string;
  readonly spec: OpSpec;
  readonly family: Family;
  readonly dtype: DType | 'error';
  readonly def: CaseDef;
  readonly tags: readonly Tag[];
  readonly kernels: readonly KernelRef[];
}

/**
 * Expected failures, as data: case-id globs (`*` any run of characters, `?` one) to a
 * reason. A glob ending in `@fused` or `@unfused` applies to that mode only.
 */
export type ExpectFile = Readonly<Record<string, { readonly reason: string; readonly issue?: string }>>;

/** How one case went in one mode. */
export type CaseStatus = 'pass' | 'fail' | 'xfail' | 'unexpected-pass';

/** A result the runner records per case and mode. */
export interface CaseResult {
  readonly id: string;
  readonly op: string;
  readonly family: Family;
  readonly kernels: readonly KernelRef[];
  readonly mode: 'fused' | 'unfused';
  readonly status: CaseStatus;
  readonly message?: string;
}
