/**
 * The kernel interface: the contract between the core and every backend.
 *
 * A backend owns storage and runs kernels. It knows nothing of autograd, layers or
 * broadcasting rules: the core validates every argument, promotes dtypes, broadcasts
 * (through stride-0 views) and decides output shapes before a kernel is called, so a kernel
 * receives operands that are already consistent. Kernels enqueue work in call order and
 * return at once; only {@link Storage.read} is asynchronous.
 *
 * Everything here is types only, so a backend package depends on `@tessera/core` for this
 * file and nothing else.
 * @module
 */

/**
 * Element types a tensor can hold. On the host `bool` is one byte per element (0 or 1); a
 * backend may store it wider (WebGPU uses a u32 word) and reports its real bytes in `stats()`.
 */
export type DType = 'float32' | 'int32' | 'bool';

/** The typed array that holds each dtype on the host. */
export type DataArray = Float32Array | Int32Array | Uint8Array;

/** Maps a dtype to its host typed array. */
export type DataFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'int32'
    ? Int32Array
    : Uint8Array;

/**
 * Backend-owned storage, opaque to the core. A backend extends this with whatever it needs
 * (a typed array, a GPU buffer, a pointer) and casts back inside its kernels. Buffers are
 * reference counted: `alloc`/`upload` return a buffer with one reference.
 */
export interface Buf {
  /** Size in bytes, as allocated. */
  readonly byteLength: number;
}

/**
 * A strided view of a buffer. Strides are in elements: 0 means broadcast along that axis,
 * negative means the axis runs backwards. `offset` is the element index of the first
 * element. `size` is the product of `shape` (0 for an empty view).
 */
export interface View {
  readonly buf: Buf;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** Live storage figures a backend reports for `memory()` and leak checks. */
export interface StorageStats {
  /** Buffers with at least one reference. */
  liveBuffers: number;
  /** Bytes held by those buffers. */
  liveBytes: number;
  /** Bytes kept in a pool for reuse (freed by the core but not returned to the system). */
  pooledBytes: number;
}

/** Allocation, upload, read-back and reference counting of backend buffers. */
export interface Storage {
  /** A buffer for `size` elements of `dtype`, contents unspecified. One reference. */
  alloc(dtype: DType, size: number): Buf;
  /** A new buffer holding a copy of `data`. One reference. */
  upload(dtype: DType, data: DataArray): Buf;
  /**
   * Copies `size` elements starting at element `offset` out into a fresh host array, after
   * every kernel enqueued before the call has finished.
   */
  read(buf: Buf, dtype: DType, offset: number, size: number): Promise<DataArray>;
  /** Synchronous read; present only when `caps.syncRead` is true. */
  readSync?(buf: Buf, dtype: DType, offset: number, size: number): DataArray;
  /** Adds a reference. */
  retain(buf: Buf): void;
  /** Drops a reference; at zero the buffer is freed or returned to a pool. */
  release(buf: Buf): void;
  /** Live buffer figures. */
  stats(): StorageStats;
}

/** Element-wise unary op codes. `not` takes bool; the rest take float32 (and int32 where exact). */
export type UnaryOp =
  | 'neg' | 'abs' | 'sign' | 'exp' | 'expm1' | 'log' | 'log1p' | 'sqrt' | 'rsqrt' | 'square'
  | 'reciprocal' | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'erf' | 'floor' | 'ceil' | 'round'
  | 'relu' | 'not';

/**
 * Element-wise binary op codes, both operands of the output dtype.
 * - `div` on int32 is floored division; dividing by 0 gives 0.
 * - `mod` is floored (the result takes the divisor's sign, like NumPy); int32 `x mod 0` is 0,
 *   float32 `x mod 0` is NaN.
 * - `max`/`min` propagate NaN.
 * - `pow` on int32 truncates `Math.pow` to an integer.
 * - `and`/`or` take bool.
 */
export type BinaryOp =
  | 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'max' | 'min' | 'mod' | 'atan2' | 'and' | 'or';

/** Comparison op codes; the output is bool. Comparisons with NaN are false except `notEqual`. */
export type CompareOp = 'equal' | 'notEqual' | 'less' | 'lessEqual' | 'greater' | 'greaterEqual';

/** Reductions. `max`/`min` propagate NaN; on bool they are `any`/`all`. */
export type ReduceOp = 'sum' | 'prod' | 'max' | 'min';

/** Index reductions; ties go to the first index; a NaN wins (the first NaN's index). */
export type ArgReduceOp = 'argmax' | 'argmin';

/** Activations a fused kernel can apply in its epilogue. */
export type Activation = 'linear' | 'relu' | 'sigmoid' | 'tanh' | 'gelu';

/**
 * Geometry of a 2-D convolution or pooling window over NHWC images. Padding is explicit
 * (`[top, bottom, left, right]`); the core turns `same`/`valid` into numbers.
 */
export interface WindowParams {
  /** Window height and width (for conv2d: the filter's). */
  readonly window: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly pads: readonly [number, number, number, number];
  readonly dilations: readonly [number, number];
}

/** Which optimizer rule an in-place {@link FusedKernels.optimizerStep} applies. */
export type OptimizerKind = 'sgd' | 'momentum' | 'nesterov' | 'adam';

/**
 * Hyper-parameters of a fused optimizer step. For `adam` the update is the Keras form:
 * `m = b1 m + (1-b1) g; v = b2 v + (1-b2) g²; p -= lr·√(1-b2^t)/(1-b1^t) · m/(√v + eps)`,
 * preceded by `p -= lr·weightDecay·p` when `weightDecay` > 0 (AdamW).
 * Momentum: `v = m v - lr g; p += v`. Nesterov: `v = m v - lr g; p += m v - lr g`.
 */
export interface OptimizerHyper {
  /** Defaults of the optional fields: momentum 0, beta1 0.9, beta2 0.999, epsilon 1e-7, weightDecay 0. */
  readonly lr: number;
  /** 1-based step count (Adam bias correction). */
  readonly step: number;
  readonly momentum?: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
  readonly weightDecay?: number;
}

/**
 * The required kernels. Every one writes a freshly allocated, contiguous `out` (except
 * `copy`, `fill` and `scatterAdd`, whose `out` may be a strided sub-view the core chose) and
 * never writes its inputs. Inputs may be strided views unless `caps.stridedInputs` is false,
 * in which case the core passes contiguous inputs only.
 */
export interface Kernels {
  /** Sets every element of `out` to `value` (cast to `out.dtype`). */
  fill(out: View, value: number): void;
  /** Copies a view of the same shape and dtype into `out` (which may itself be strided). */
  copy(x: View, out: View): void;
  /** Converts dtype: float→int truncates toward zero, saturating at the int32 limits (NaN→0); anything→bool is `x != 0`. */
  cast(x: View, out: View): void;
  unary(op: UnaryOp, x: View, out: View): void;
  /** `a` and `b` already have `out`'s shape (broadcast axes have stride 0). */
  binary(op: BinaryOp, a: View, b: View, out: View): void;
  /** As `binary`, with a bool `out`. */
  compare(op: CompareOp, a: View, b: View, out: View): void;
  /** `out = cond ? a : b`, all of `out`'s shape; `cond` is bool. */
  where(cond: View, a: View, b: View, out: View): void;
  /**
   * Reduces over `axes` (sorted, non-negative, unique). `out` holds the kept axes in order
   * (its shape omits the reduced ones). An empty reduction gives the identity (0, 1, -Inf, +Inf).
   */
  reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void;
  /** Index of the max/min along `axis`; `out` is int32 with that axis removed. */
  argReduce(op: ArgReduceOp, x: View, axis: number, out: View): void;
  /** Running sum/prod/max/min along `axis`, optionally exclusive and/or from the end. */
  cumulative(op: ReduceOp, x: View, axis: number, exclusive: boolean, reverse: boolean, out: View): void;
  /**
   * Batched float32 matmul: `a` is `[...batch, m, k]`, `b` `[...batch, k, n]`, `out`
   * `[...batch, m, n]`; batch axes are equal (broadcast ones have stride 0). Transposed
   * operands arrive as strided views.
   */
  matmul(a: View, b: View, out: View): void;
  /**
   * `out = x` indexed along `axis` by int32 `indices`: out's shape is
   * `x.shape[:axis] ++ indices.shape ++ x.shape[axis+1:]`. An index outside
   * `[0, x.shape[axis])` yields 0 (backends that can read synchronously never see one: the
   * core rejects it first).
   */
  gather(x: View, indices: View, axis: number, out: View): void;
  /**
   * The adjoint of `gather`: adds `updates` (shaped like a gather output) into `out` (shaped
   * like the gathered `x`, already holding the base values) at `indices` along `axis`.
   * Repeated indices accumulate; out-of-range ones are dropped.
   */
  scatterAdd(indices: View, updates: View, axis: number, out: View): void;
  /**
   * Counter-based random numbers: threefry2x32 (20 rounds) keyed by `key`. Block `j` encrypts
   * the 64-bit counter `counter + j` (low word first) and yields elements `2j` and `2j+1`.
   * An int32 `out` gets the raw 32 bits; a float32 `out` gets `(bits >>> 8) · 2^-24` in [0, 1).
   */
  randomBits(key: readonly [number, number], counter: number, out: View): void;
}

/**
 * Optional fast paths. For each the core holds a reference decomposition into required
 * kernels, so a backend that implements none of them still runs everything; a backend lists
 * what it implements by providing the method. All operate on float32.
 */
export interface FusedKernels {
  /** `out = act(a @ b + bias)`; `bias` (or null) is `[n]`. Shapes as in `matmul`. */
  matmulFused(a: View, b: View, bias: View | null, activation: Activation, out: View): void;
  /** NHWC conv: x `[n,h,w,cin]`, filter `[kh,kw,cin,cout]`, out `[n,oh,ow,cout]`. */
  conv2d(x: View, filter: View, p: WindowParams, out: View): void;
  /** Gradient of conv2d with respect to its input; `out` is shaped like x. */
  conv2dBackpropInput(dy: View, filter: View, p: WindowParams, out: View): void;
  /** Gradient of conv2d with respect to its filter; `out` is shaped like the filter. */
  conv2dBackpropFilter(x: View, dy: View, p: WindowParams, out: View): void;
  /**
   * Max or average pooling over NHWC windows. Max ignores padded cells; average divides by
   * the number of real cells in each window.
   */
  pool2d(kind: 'max' | 'avg', x: View, p: WindowParams, out: View): void;
  /**
   * Gradient of `pool2d` with respect to x (shaped like x). Max routes each window's gradient
   * to its first maximal real cell.
   */
  pool2dBackward(kind: 'max' | 'avg', x: View, dy: View, p: WindowParams, out: View): void;
  /** Softmax (or log-softmax) over the last axis. */
  softmax(x: View, log: boolean, out: View): void;
  /**
   * Per-row cross-entropy of softmax(logits) against `labels` (probabilities, same shape),
   * over the last axis: `out[r] = -Σ labels·logSoftmax(logits)`. out is logits' shape minus
   * the last axis.
   */
  softmaxCrossEntropy(logits: View, labels: View, out: View): void;
  /** Layer norm over the last axis: `(x - mean)/√(var + eps) · gamma + beta`, biased variance. */
  layerNorm(x: View, gamma: View, beta: View, epsilon: number, out: View): void;
  /**
   * Scaled dot-product attention `softmax(q kᵀ · scale) v` over the last axis: q
   * `[...batch, tq, d]`, k `[...batch, tk, d]`, v `[...batch, tk, dv]`, out `[...batch, tq, dv]`;
   * batch axes are equal (broadcast ones have stride 0). `mask` (bool `[...batch, tq, tk]`,
   * true = attend; broadcast axes stride 0) or null; `causal` also hides key `j > i + (tk - tq)`
   * from query `i`. Masked weights are exactly 0; a query with no visible key outputs 0.
   */
  scaledDotProductAttention(q: View, k: View, v: View, mask: View | null, causal: boolean, scale: number, out: View): void;
  /**
   * The one in-place kernel: updates each contiguous `params[i]` and its `state[i]`
   * (momentum: `[v]`; adam: `[m, v]`) from `grads[i]`.
   */
  optimizerStep(
    kind: OptimizerKind,
    params: readonly View[],
    grads: readonly View[],
    state: readonly (readonly View[])[],
    hyper: OptimizerHyper,
  ): void;
}

/** What a backend can do, beyond the required kernels. */
export interface Capabilities {
  /** False if kernels need contiguous inputs; the core then copies strided views first. */
  readonly stridedInputs: boolean;
  /** True if `storage.readSync` exists (`dataSync()` works). */
  readonly syncRead: boolean;
}

/**
 * A backend: storage, required kernels, optional fused kernels, capabilities. `tsc` rejects
 * an object that misses a required kernel.
 */
export interface Backend {
  /** A short unique name, e.g. `'js'`, `'wasm'`, `'webgpu'`, `'native'`. */
  readonly name: string;
  readonly caps: Capabilities;
  readonly storage: Storage;
  readonly kernels: Kernels;
  readonly fused: Partial<FusedKernels>;
  /** Resolves when every kernel enqueued so far has run. */
  flush(): Promise<void>;
  /** Frees everything the backend holds; it must not be used afterwards. */
  dispose(): void;
}

/** Creates a backend; rejects with an Error that says why it cannot run here. */
export type BackendFactory = () => Promise<Backend>;

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
};
