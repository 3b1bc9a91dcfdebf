/**
 * The native backend: Tessera's {@link Backend} over the Rust addon.
 *
 * Every call validates its buffer handles here (type, owner, liveness), writes its arguments
 * into the context's scratch `Float64Array` and calls one zero-argument native function:
 * no per-call allocation, about 0.1 µs of overhead. A view is packed as
 * `[handle, dtype, offset, rank, ...shape, ...strides]`.
 *
 * Kernels return at once. Most run right there (multi-threaded inside Rust). Long ones
 * (matmul and convolutions of at least `asyncThreshold` multiply-adds), and any kernel that
 * touches a buffer such a kernel has not finished with, are queued on a Rust worker thread
 * and run there in call order; `read` and `flush` then resolve through promises without
 * blocking the event loop, while `readSync` waits. Nothing here touches an operand's
 * memory before its work is done: freeing a buffer a queued kernel uses only retires the
 * handle, and the memory is reclaimed after that kernel has run.
 * @module
 */
import { BackendError } from '@tessera/core';
import type {
  Activation, ArgReduceOp, Backend, BinaryOp, Buf, Capabilities, CompareOp, DataArray, DType,
  FusedKernels, Kernels, OptimizerHyper, OptimizerKind, ReduceOp, Storage, StorageStats, UnaryOp,
  View, WindowParams,
} from '@tessera/core';
import type { NativeFns, NativeInfo } from './addon.js';

/**
 * An error raised by the native backend (a core {@link BackendError}, so also a
 * `TesseraError`): a bad or foreign buffer handle, a use after `dispose()`/release, an
 * argument the Rust kernels rejected, a caught Rust panic, or the failure of a kernel that
 * ran off the JS thread (reported by the read or kernel that needed its result). `code`
 * says which.
 * @example
 * try { backend.storage.readSync!(freed, 'float32', 0, 1) }
 * catch (e) { if (e instanceof NativeBackendError && e.code === 'ERR_TESSERA_NATIVE_HANDLE') … }
 */
export class NativeBackendError extends BackendError {
  /**
   * `ERR_TESSERA_NATIVE_HANDLE` (bad, foreign or freed handle, including a stale one whose
   * slot a newer buffer reuses, caught in Rust too; disposed backend),
   * `ERR_TESSERA_NATIVE` (rejected argument, failed kernel) or `ERR_TESSERA_NATIVE_PANIC`
   * (a Rust panic, caught before it could reach Node).
   */
  readonly code: string;
  /** `message` may start with its op (`"native backend: …"`, `"createNativeBackend: …"`). */
  constructor(message: string, code = 'ERR_TESSERA_NATIVE') {
    const m = /^([A-Za-z][\w ]*): ([\s\S]*)$/.exec(message);
    super(m ? m[1]! : 'native backend', m ? m[2]! : message);
    this.code = code;
  }
}

function nativeError(e: unknown): NativeBackendError {
  if (e instanceof NativeBackendError) return e;
  const err = e as { message?: string; code?: string };
  return new NativeBackendError(String(err?.message ?? e), typeof err?.code === 'string' ? err.code : 'ERR_TESSERA_NATIVE');
}

/** Calls a native function, turning its exceptions into {@link NativeBackendError}s. */
function invoke(f: () => void): void {
  try {
    f();
  } catch (e) {
    throw nativeError(e);
  }
}

const DT: Readonly<Record<DType, number>> = { float32: 0, int32: 1, bool: 2 };
const BPE: Readonly<Record<DType, number>> = { float32: 4, int32: 4, bool: 1 };

const UNARY: Readonly<Record<UnaryOp, number>> = {
  neg: 0, abs: 1, sign: 2, exp: 3, expm1: 4, log: 5, log1p: 6, sqrt: 7, rsqrt: 8, square: 9,
  reciprocal: 10, sin: 11, cos: 12, tanh: 13, sigmoid: 14, erf: 15, floor: 16, ceil: 17,
  round: 18, relu: 19, not: 20,
};
const BINARY: Readonly<Record<BinaryOp, number>> = {
  add: 0, sub: 1, mul: 2, div: 3, pow: 4, max: 5, min: 6, mod: 7, atan2: 8, and: 9, or: 10,
};
const COMPARE: Readonly<Record<CompareOp, number>> = {
  equal: 0, notEqual: 1, less: 2, lessEqual: 3, greater: 4, greaterEqual: 5,
};
const REDUCE: Readonly<Record<ReduceOp, number>> = { sum: 0, prod: 1, max: 2, min: 3 };
const ARG_REDUCE: Readonly<Record<ArgReduceOp, number>> = { argmax: 0, argmin: 1 };
const ACTIVATION: Readonly<Record<Activation, number>> = { linear: 0, relu: 1, sigmoid: 2, tanh: 3, gelu: 4 };
const OPTIMIZER: Readonly<Record<OptimizerKind, number>> = { sgd: 0, momentum: 1, nesterov: 2, adam: 3 };

function code<K extends string>(table: Readonly<Record<K, number>>, op: K, what: string): number {
  const c = table[op];
  if (c === undefined) throw new NativeBackendError(`native backend: unknown ${what} '${String(op)}'`);
  return c;
}

/** State shared by a backend's storage and kernels. */
class Ctx {
  S: Float64Array;
  disposed = false;
  constructor(readonly fns: NativeFns, scratch: Float64Array) {
    this.S = scratch;
  }
  /** Makes the scratch hold at least `n` entries (copying what was written so far). */
  grow(n: number): Float64Array {
    const next = new Float64Array(Math.max(n, this.S.length * 2));
    next.set(this.S);
    invoke(() => this.fns.setScratch(next));
    this.S = next;
    return next;
  }
}

/**
 * A native buffer handle: the Rust handle plus a reference count. The memory itself is
 * Rust's; nothing is held on the JS heap.
 */
export class NativeBuf implements Buf {
  readonly byteLength: number;
  /**
   * @internal The Rust handle: slot, generation and instance tag packed into an integer
   * below 2^53, so Rust rejects it once the buffer is freed (even when the slot is reused)
   * and in any other instance.
   */
  readonly id: number;
  /** @internal Reference count; 0 means freed. */
  refs = 1;
  /** @internal The owning context. */
  readonly ctx: Ctx;
  constructor(ctx: Ctx, id: number, byteLength: number) {
    this.ctx = ctx;
    this.id = id;
    this.byteLength = byteLength;
  }
}

function badBuf(c: Ctx, buf: unknown): never {
  if (!(buf instanceof NativeBuf)) {
    throw new NativeBackendError('native backend: buffer does not belong to the native backend (move the tensor with moveTo())', 'ERR_TESSERA_NATIVE_HANDLE');
  }
  if (buf.ctx !== c) {
    throw new NativeBackendError('native backend: buffer belongs to another native backend instance', 'ERR_TESSERA_NATIVE_HANDLE');
  }
  throw new NativeBackendError(
    c.disposed ? 'native backend: the backend was disposed' : 'native backend: use of a freed buffer (its reference count reached zero)',
    'ERR_TESSERA_NATIVE_HANDLE',
  );
}

/** Checks that `buf` is a live buffer of this context. */
function own(c: Ctx, buf: Buf): NativeBuf {
  if (!(buf instanceof NativeBuf) || buf.ctx !== c || buf.refs <= 0 || c.disposed) badBuf(c, buf);
  return buf;
}

/** Packs a view at `p` and returns the next free position. */
function pv(c: Ctx, p: number, v: View): number {
  const b = v.buf;
  if (!(b instanceof NativeBuf) || b.ctx !== c || b.refs <= 0) badBuf(c, b);
  const shape = v.shape;
  const strides = v.strides;
  const r = shape.length;
  const end = p + 4 + 2 * r;
  const S = end > c.S.length ? c.grow(end + 64) : c.S;
  S[p] = b.id;
  S[p + 1] = DT[v.dtype];
  S[p + 2] = v.offset;
  S[p + 3] = r;
  for (let i = 0; i < r; i++) {
    S[p + 4 + i] = shape[i]!;
    S[p + 4 + r + i] = strides[i]!;
  }
  return end;
}

/** The scratch array with room for `n` more entries at `p`. */
function room(c: Ctx, p: number, n: number): Float64Array {
  return p + n > c.S.length ? c.grow(p + n + 64) : c.S;
}

/** Packs window geometry (10 entries) at `p`. */
function pw(c: Ctx, p: number, w: WindowParams): number {
  const S = room(c, p, 10);
  S[p] = w.window[0];
  S[p + 1] = w.window[1];
  S[p + 2] = w.strides[0];
  S[p + 3] = w.strides[1];
  S[p + 4] = w.pads[0];
  S[p + 5] = w.pads[1];
  S[p + 6] = w.pads[2];
  S[p + 7] = w.pads[3];
  S[p + 8] = w.dilations[0];
  S[p + 9] = w.dilations[1];
  return p + 10;
}

function emptyOf(dtype: DType, n: number): DataArray {
  return dtype === 'float32' ? new Float32Array(n) : dtype === 'int32' ? new Int32Array(n) : new Uint8Array(n);
}

function matches(dtype: DType, data: DataArray): boolean {
  return dtype === 'float32' ? data instanceof Float32Array : dtype === 'int32' ? data instanceof Int32Array : data instanceof Uint8Array;
}

/** Rust-owned, reference-counted, pooled storage. */
export class NativeStorage implements Storage {
  /** @internal */
  constructor(private readonly c: Ctx) {}

  alloc(dtype: DType, size: number): Buf {
    const c = this.c;
    if (c.disposed) throw new NativeBackendError('native backend: the backend was disposed', 'ERR_TESSERA_NATIVE_HANDLE');
    const bpe = BPE[dtype];
    if (bpe === undefined) throw new NativeBackendError(`native backend: unknown dtype '${String(dtype)}'`);
    if (!Number.isInteger(size) || size < 0) throw new NativeBackendError(`native backend: cannot allocate ${size} elements`);
    const bytes = size * bpe;
    c.S[0] = bytes;
    invoke(c.fns.alloc);
    return new NativeBuf(c, c.S[0]!, bytes);
  }

  upload(dtype: DType, data: DataArray): Buf {
    const src = matches(dtype, data) ? data : dtype === 'float32' ? Float32Array.from(data) : dtype === 'int32' ? Int32Array.from(data) : Uint8Array.from(data);
    const buf = this.alloc(dtype, src.length) as NativeBuf;
    if (src.length > 0) {
      const c = this.c;
      c.S[0] = buf.id;
      c.S[1] = 0;
      invoke(() => c.fns.write(src));
    }
    return buf;
  }

  /**
   * Copies elements out after every kernel enqueued before the call. When queued kernels
   * still use the buffer, the copy is queued behind them and the promise resolves when it
   * has run, without blocking the event loop; it rejects with a {@link NativeBackendError}
   * when a kernel that produced the data failed.
   */
  read(buf: Buf, dtype: DType, offset: number, size: number): Promise<DataArray> {
    try {
      const c = this.c;
      const { b, out } = this.readArgs(buf, dtype, offset, size);
      if (size === 0) return Promise.resolve(out);
      c.S[0] = b.id;
      c.S[1] = offset * BPE[dtype];
      let done: Promise<void> | undefined;
      invoke(() => {
        done = c.fns.readAsync(out);
      });
      if (done === undefined) return Promise.resolve(out);
      return done.then(
        () => out,
        (e: unknown) => {
          throw nativeError(e);
        },
      );
    } catch (e) {
      return Promise.reject(nativeError(e));
    }
  }

  /** Copies elements out, first waiting (blocking the thread) for queued kernels that use the buffer. */
  readSync(buf: Buf, dtype: DType, offset: number, size: number): DataArray {
    const c = this.c;
    const { b, out } = this.readArgs(buf, dtype, offset, size);
    if (size > 0) {
      c.S[0] = b.id;
      c.S[1] = offset * BPE[dtype];
      invoke(() => c.fns.read(out));
    }
    return out;
  }

  private readArgs(buf: Buf, dtype: DType, offset: number, size: number): { b: NativeBuf; out: DataArray } {
    const b = own(this.c, buf);
    const bpe = BPE[dtype];
    if (bpe === undefined) throw new NativeBackendError(`native backend: unknown dtype '${String(dtype)}'`);
    if (!Number.isInteger(offset) || !Number.isInteger(size) || offset < 0 || size < 0 || (offset + size) * bpe > b.byteLength) {
      throw new NativeBackendError(`native backend: read of ${size} ${dtype} elements at ${offset} is outside a buffer of ${b.byteLength} bytes`);
    }
    return { b, out: emptyOf(dtype, size) };
  }

  retain(buf: Buf): void {
    own(this.c, buf).refs++;
  }

  /** Drops a reference; at zero the handle dies and the memory is reclaimed (after queued kernels using it have run). */
  release(buf: Buf): void {
    const c = this.c;
    if (!(buf instanceof NativeBuf) || buf.ctx !== c) badBuf(c, buf);
    if (buf.refs <= 0) {
      throw new NativeBackendError('native backend: release of a buffer that has no references left (double free)', 'ERR_TESSERA_NATIVE_HANDLE');
    }
    if (--buf.refs > 0 || c.disposed) return; // after dispose() everything is already freed
    c.S[0] = buf.id;
    invoke(c.fns.free);
  }

  /** Live buffers and bytes; `pooledBytes` also counts freed buffers still used by queued kernels. */
  stats(): StorageStats {
    const c = this.c;
    if (c.disposed) return { liveBuffers: 0, liveBytes: 0, pooledBytes: 0 };
    invoke(c.fns.stats);
    const S = c.S;
    return { liveBuffers: S[0]!, liveBytes: S[1]!, pooledBytes: S[2]! };
  }

  /** Returns pooled (freed but cached) memory to the system. */
  trim(): void {
    if (!this.c.disposed) invoke(this.c.fns.trim);
  }
}

/** The required kernels, in Rust. */
export class NativeKernels implements Kernels {
  /** @internal */
  constructor(private readonly c: Ctx) {}

  fill(out: View, value: number): void {
    const c = this.c;
    const p = pv(c, 0, out);
    room(c, p, 1)[p] = value;
    invoke(c.fns.fill);
  }

  copy(x: View, out: View): void {
    const c = this.c;
    pv(c, pv(c, 0, x), out);
    invoke(c.fns.copy);
  }

  cast(x: View, out: View): void {
    const c = this.c;
    pv(c, pv(c, 0, x), out);
    invoke(c.fns.cast);
  }

  unary(op: UnaryOp, x: View, out: View): void {
    const c = this.c;
    c.S[0] = code(UNARY, op, 'unary op');
    pv(c, pv(c, 1, x), out);
    invoke(c.fns.unary);
  }

  binary(op: BinaryOp, a: View, b: View, out: View): void {
    const c = this.c;
    c.S[0] = code(BINARY, op, 'binary op');
    pv(c, pv(c, pv(c, 1, a), b), out);
    invoke(c.fns.binary);
  }

  compare(op: CompareOp, a: View, b: View, out: View): void {
    const c = this.c;
    c.S[0] = code(COMPARE, op, 'compare op');
    pv(c, pv(c, pv(c, 1, a), b), out);
    invoke(c.fns.compare);
  }

  where(cond: View, a: View, b: View, out: View): void {
    const c = this.c;
    pv(c, pv(c, pv(c, pv(c, 0, cond), a), b), out);
    invoke(c.fns.where);
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[], out: View): void {
    const c = this.c;
    c.S[0] = code(REDUCE, op, 'reduce op');
    let p = pv(c, 1, x);
    const S = room(c, p, axes.length + 1);
    S[p++] = axes.length;
    for (let i = 0; i < axes.length; i++) S[p++] = axes[i]!;
    pv(c, p, out);
    invoke(c.fns.reduce);
  }

  argReduce(op: ArgReduceOp, x: View, axis: number, out: View): void {
    const c = this.c;
    c.S[0] = code(ARG_REDUCE, op, 'argReduce op');
    const p = pv(c, 1, x);
    room(c, p, 1)[p] = axis;
    pv(c, p + 1, out);
    invoke(c.fns.argReduce);
  }

  cumulative(op: ReduceOp, x: View, axis: number, exclusive: boolean, reverse: boolean, out: View): void {
    const c = this.c;
    c.S[0] = code(REDUCE, op, 'cumulative op');
    const p = pv(c, 1, x);
    const S = room(c, p, 3);
    S[p] = axis;
    S[p + 1] = exclusive ? 1 : 0;
    S[p + 2] = reverse ? 1 : 0;
    pv(c, p + 3, out);
    invoke(c.fns.cumulative);
  }

  matmul(a: View, b: View, out: View): void {
    const c = this.c;
    pv(c, pv(c, pv(c, 0, a), b), out);
    invoke(c.fns.matmul);
  }

  gather(x: View, indices: View, axis: number, out: View): void {
    const c = this.c;
    const p = pv(c, pv(c, 0, x), indices);
    room(c, p, 1)[p] = axis;
    pv(c, p + 1, out);
    invoke(c.fns.gather);
  }

  scatterAdd(indices: View, updates: View, axis: number, out: View): void {
    const c = this.c;
    const p = pv(c, pv(c, 0, indices), updates);
    room(c, p, 1)[p] = axis;
    pv(c, p + 1, out);
    invoke(c.fns.scatterAdd);
  }

  randomBits(key: readonly [number, number], counter: number, out: View): void {
    const c = this.c;
    const S = c.S;
    S[0] = key[0] >>> 0;
    S[1] = key[1] >>> 0;
    S[2] = counter;
    pv(c, 3, out);
    invoke(c.fns.randomBits);
  }
}

/**
 * The fused kernels, in Rust. `scaledDotProductAttention` (new in the interface) is not
 * implemented yet: the core runs its reference decomposition on the kernels here.
 */
export class NativeFused implements Omit<FusedKernels, 'scaledDotProductAttention'> {
  /** @internal */
  constructor(private readonly c: Ctx) {}

  matmulFused(a: View, b: View, bias: View | null, activation: Activation, out: View): void {
    const c = this.c;
    let p = pv(c, pv(c, 0, a), b);
    room(c, p, 1)[p++] = bias === null ? 0 : 1;
    if (bias !== null) p = pv(c, p, bias);
    room(c, p, 1)[p++] = code(ACTIVATION, activation, 'activation');
    pv(c, p, out);
    invoke(c.fns.matmulFused);
  }

  conv2d(x: View, filter: View, p: WindowParams, out: View): void {
    const c = this.c;
    pv(c, pw(c, pv(c, pv(c, 0, x), filter), p), out);
    invoke(c.fns.conv2d);
  }

  conv2dBackpropInput(dy: View, filter: View, p: WindowParams, out: View): void {
    const c = this.c;
    pv(c, pw(c, pv(c, pv(c, 0, dy), filter), p), out);
    invoke(c.fns.conv2dBackpropInput);
  }

  conv2dBackpropFilter(x: View, dy: View, p: WindowParams, out: View): void {
    const c = this.c;
    pv(c, pw(c, pv(c, pv(c, 0, x), dy), p), out);
    invoke(c.fns.conv2dBackpropFilter);
  }

  pool2d(kind: 'max' | 'avg', x: View, p: WindowParams, out: View): void {
    const c = this.c;
    c.S[0] = poolKind(kind);
    pv(c, pw(c, pv(c, 1, x), p), out);
    invoke(c.fns.pool2d);
  }

  pool2dBackward(kind: 'max' | 'avg', x: View, dy: View, p: WindowParams, out: View): void {
    const c = this.c;
    c.S[0] = poolKind(kind);
    pv(c, pw(c, pv(c, pv(c, 1, x), dy), p), out);
    invoke(c.fns.pool2dBackward);
  }

  softmax(x: View, log: boolean, out: View): void {
    const c = this.c;
    const p = pv(c, 0, x);
    room(c, p, 1)[p] = log ? 1 : 0;
    pv(c, p + 1, out);
    invoke(c.fns.softmax);
  }

  softmaxCrossEntropy(logits: View, labels: View, out: View): void {
    const c = this.c;
    pv(c, pv(c, pv(c, 0, logits), labels), out);
    invoke(c.fns.softmaxCrossEntropy);
  }

  layerNorm(x: View, gamma: View, beta: View, epsilon: number, out: View): void {
    const c = this.c;
    const p = pv(c, pv(c, pv(c, 0, x), gamma), beta);
    room(c, p, 1)[p] = epsilon;
    pv(c, p + 1, out);
    invoke(c.fns.layerNorm);
  }

  optimizerStep(
    kind: OptimizerKind,
    params: readonly View[],
    grads: readonly View[],
    state: readonly (readonly View[])[],
    hyper: OptimizerHyper,
  ): void {
    const c = this.c;
    const n = params.length;
    if (grads.length !== n || state.length !== n) {
      throw new NativeBackendError(`native backend: optimizerStep needs one grad and one state list per param (${n}, ${grads.length}, ${state.length})`);
    }
    const S = room(c, 0, 9);
    S[0] = code(OPTIMIZER, kind, 'optimizer');
    S[1] = n;
    S[2] = hyper.lr;
    S[3] = hyper.step;
    S[4] = hyper.momentum ?? 0.9;
    S[5] = hyper.beta1 ?? 0.9;
    S[6] = hyper.beta2 ?? 0.999;
    S[7] = hyper.epsilon ?? 1e-7;
    S[8] = hyper.weightDecay ?? 0;
    let p = 9;
    for (let i = 0; i < n; i++) {
      p = pv(c, pv(c, p, params[i]!), grads[i]!);
      const st = state[i]!;
      room(c, p, 1)[p++] = st.length;
      for (let j = 0; j < st.length; j++) p = pv(c, p, st[j]!);
    }
    invoke(c.fns.optimizerStep);
  }
}

function poolKind(kind: 'max' | 'avg'): number {
  if (kind === 'max') return 1;
  if (kind === 'avg') return 0;
  throw new NativeBackendError(`native backend: unknown pooling kind '${String(kind)}'`);
}

/** Options of {@link createNativeBackend}. */
export interface NativeBackendOptions {
  /** Threads the kernels may use (the calling thread included); default: every core. */
  threads?: number;
  /** Path of the `.node` file, overriding the package's `build/` folder. */
  addonPath?: string;
  /**
   * Multiply-adds from which a matmul (`batch·m·n·k`) or convolution (`outputs·kh·kw·cin`,
   * either gradient alike) runs on the backend's worker thread instead of the JS thread.
   * Kernels that touch a buffer still in use by queued work are queued behind it whatever
   * their size. `Infinity` keeps everything on the JS thread; `0` queues every matmul and
   * convolution. Default {@link DEFAULT_ASYNC_THRESHOLD} (2^25, about 0.3 ms of work on one core).
   */
  asyncThreshold?: number;
}

/** Default of {@link NativeBackendOptions.asyncThreshold}: 2^25 multiply-adds. */
export const DEFAULT_ASYNC_THRESHOLD = 2 ** 25;

/** The native backend. */
export class NativeBackend implements Backend {
  readonly name = 'native';
  readonly caps: Capabilities = { stridedInputs: true, syncRead: true };
  readonly storage: NativeStorage;
  readonly kernels: NativeKernels;
  readonly fused: NativeFused;
  /** What the addon reports: GEMM kernel, CPU features, hardware threads. */
  readonly info: NativeInfo;
  /** The `.node` file in use. */
  readonly addonPath: string;
  private readonly c: Ctx;
  private nThreads: number;
  private asyncMacs = DEFAULT_ASYNC_THRESHOLD;

  /** @internal Use {@link createNativeBackend}. */
  constructor(fns: NativeFns, scratch: Float64Array, info: NativeInfo, addonPath: string, threads: number) {
    this.c = new Ctx(fns, scratch);
    this.storage = new NativeStorage(this.c);
    this.kernels = new NativeKernels(this.c);
    this.fused = new NativeFused(this.c);
    this.info = info;
    this.addonPath = addonPath;
    this.nThreads = threads;
  }

  /** Threads the kernels use. */
  get threads(): number {
    return this.nThreads;
  }

  /** Changes how many threads the kernels use (1 = single-threaded). */
  setThreads(threads: number): void {
    if (!Number.isInteger(threads) || threads < 1) throw new NativeBackendError(`native backend: threads must be an integer >= 1, got ${threads}`);
    const c = this.c;
    c.S[0] = threads;
    invoke(c.fns.setThreads);
    this.nThreads = threads;
  }

  /** Multiply-adds from which matmul/conv kernels run on the worker thread (see {@link NativeBackendOptions.asyncThreshold}). */
  get asyncThreshold(): number {
    return this.asyncMacs;
  }

  /** Changes {@link asyncThreshold} (`Infinity`: every kernel on the JS thread). */
  setAsyncThreshold(multiplyAdds: number): void {
    if (typeof multiplyAdds !== 'number' || Number.isNaN(multiplyAdds) || multiplyAdds < 0) {
      throw new NativeBackendError(`native backend: asyncThreshold must be a number >= 0 (Infinity to disable), got ${String(multiplyAdds)}`);
    }
    const c = this.c;
    c.S[0] = multiplyAdds;
    invoke(c.fns.setAsync);
    this.asyncMacs = multiplyAdds;
  }

  /** Kernels queued on the worker thread or running there now (0 after `await flush()`). */
  get pending(): number {
    const c = this.c;
    if (c.disposed) return 0;
    invoke(c.fns.pending);
    return c.S[0]!;
  }

  /** Resolves when every kernel enqueued so far has run, without blocking the event loop. */
  flush(): Promise<void> {
    const c = this.c;
    if (c.disposed) return Promise.resolve();
    let done: Promise<void> | undefined;
    try {
      invoke(() => {
        done = c.fns.flush();
      });
    } catch (e) {
      return Promise.reject(e);
    }
    return done === undefined
      ? Promise.resolve()
      : done.then(undefined, (e: unknown) => {
          throw nativeError(e);
        });
  }

  /**
   * Frees every buffer; later kernel calls throw, later releases are no-ops. Waits for a
   * kernel running on the worker to finish, drops queued ones, and rejects pending reads.
   */
  dispose(): void {
    const c = this.c;
    if (c.disposed) return;
    invoke(c.fns.dispose);
    c.disposed = true;
  }

  /** @internal The raw no-op native call (for measuring call overhead). */
  noop(): void {
    this.c.fns.noop();
  }

  /**
   * @internal Test hook: injects a Rust panic on the JS thread (`'panic'`), in a thread-pool
   * task (`'poolPanic'`), or in a kernel queued on the worker that writes `out`
   * (`'workerPanic'`, `'workerError'`), to prove each reaches JS as a typed error; or
   * queues a job that holds the worker (`'hold'`) until `'release'`, so tests can look at
   * queued state without racing the worker. Never read synchronously while holding.
   */
  injectFault(kind: 'panic' | 'poolPanic' | 'workerPanic' | 'workerError' | 'hold' | 'release', out?: View): void {
    const c = this.c;
    const mode = { panic: 0, poolPanic: 1, workerPanic: 2, workerError: 3, hold: 4, release: 5 }[kind];
    c.S[0] = mode;
    if (out !== undefined) pv(c, 1, out);
    invoke(c.fns.fault);
  }
}
