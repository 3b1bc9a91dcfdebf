/**
 * What every op does before and after its kernel: argument checks, turning numbers into
 * tensors, output allocation, materialising strided inputs for backends that need it, and
 * reporting to the recorder. Kept free of allocation beyond the output on the common path.
 * @module
 */
import type { Backend, DataArray, DType, View } from '../backend/types.js';
import { engine, getBackend } from '../engine.js';
import { ArgumentError, BackendError, DTypeError, TesseraError } from '../errors.js';
import { fmtShape } from '../shape.js';
import { rowMajorLayout, rowMajorStrides, sameDims, sizeOrInvalid } from '../shape-unchecked.js';
import { Tensor } from '../tensor.js';

/** A tensor or a JS number/boolean (a number takes the other operand's dtype when it can). */
export type Operand = Tensor | number | boolean;

/** Throws unless `x` is a live Tensor. */
export function live(x: unknown, op: string, what = 'x'): Tensor {
  if (!(x instanceof Tensor)) {
    throw new ArgumentError(op, `${what} must be a Tensor, got ${x === null ? 'null' : Array.isArray(x) ? 'an array (wrap it with tensor())' : typeof x}`);
  }
  if (x.disposed) x.assertLive(op);
  return x;
}

/** The backend shared by the tensors, or a BackendError naming both when they differ. */
export function backendOf(op: string, a: Tensor, b?: Tensor, c?: Tensor): Backend {
  const be = a.backend;
  for (const t of [b, c]) {
    if (t !== undefined && t.backend !== be) {
      throw new BackendError(op, `tensors live on different backends ('${be.name}' and '${t.backend.name}'); move one with moveTo()`);
    }
  }
  return be;
}

/** The most elements one tensor may hold: kernels index with 32-bit integers. */
export const MAX_TENSOR_ELEMENTS = 2 ** 31 - 1;

/**
 * A new contiguous output tensor on `backend`. A shape that reaches here unchecked (NaN,
 * negative or too many elements) or a backend that cannot allocate gives a typed error, never
 * a RangeError from deep inside a backend.
 */
export function output(backend: Backend, dtype: DType, shape: readonly number[]): Tensor {
  // Not sizeOf: a bad shape that got this far is reported as the allocation that failed.
  const n = sizeOrInvalid(shape);
  if (!(n >= 0 && n <= MAX_TENSOR_ELEMENTS)) {
    throw new ArgumentError('alloc', `cannot make a ${dtype} tensor of shape ${fmtShape(shape)}: ${n >= 0 ? `${n} elements is more than the ${MAX_TENSOR_ELEMENTS} a tensor may hold` : 'the shape must hold non-negative integers'}`);
  }
  const budget = engine.allocLeft;
  if (budget !== null) {
    budget.bytes -= n * (dtype === 'bool' ? 1 : 4);
    if (budget.bytes < 0) {
      throw new ArgumentError('alloc', `a ${dtype} tensor of shape ${fmtShape(shape)} would take ${budget.what} past its limit of ${budget.limit} bytes`);
    }
  }
  let buf: View['buf'];
  try {
    buf = backend.storage.alloc(dtype, n);
  } catch (e) {
    if (e instanceof TesseraError) throw e;
    throw new BackendError('alloc', `backend '${backend.name}' could not allocate a ${dtype} tensor of shape ${fmtShape(shape)}: ${(e as Error)?.message ?? String(e)}`);
  }
  return new Tensor(backend, buf, dtype, shape);
}

/** Throws an ArgumentError unless `v` is a number (NaN and ±Infinity are numbers: their results are documented). */
export function expectNumber(op: string, what: string, v: unknown): number {
  if (typeof v !== 'number') throw new ArgumentError(op, `${what} must be a number, got ${v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v}`);
  return v;
}

/** Throws an ArgumentError unless `v` is an array of integers (`null` entries allowed when `nulls`). */
export function expectInts(op: string, what: string, v: unknown, nulls = false): readonly number[] {
  if (!Array.isArray(v) || v.some((d) => !(Number.isInteger(d) || (nulls && (d === null || d === undefined))))) {
    throw new ArgumentError(op, `${what} must be an array of integers${nulls ? ' (or nulls)' : ''}, got ${Array.isArray(v) ? JSON.stringify(v) : v === null ? 'null' : typeof v}`);
  }
  return v as number[];
}

/** A new tensor sharing `x`'s storage with another shape/strides/offset (a view). */
export function view(x: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  x.backend.storage.retain(x.buf);
  return new Tensor(x.backend, x.buf, x.dtype, shape, strides, offset);
}

/**
 * A second handle on the same storage and layout, disposed separately: for code that keeps a
 * tensor beyond its owner's lifetime without copying it (autograd's tape, nn's KV cache,
 * data's batch trees). Throws an ArgumentError for a non-tensor and a DisposedTensorError
 * for a disposed one.
 * @example const handle = alias(x); x.dispose(); await handle.data();
 */
export function alias(x: Tensor): Tensor {
  live(x, 'alias');
  return view(x, x.shape, x.strides, x.offset);
}

/**
 * What a kernel sees for `t` broadcast to `shape`: a view with stride 0 on new and size-1
 * axes, or `t` itself when the shapes are equal. `shape` must be a broadcast of `t.shape`.
 * @example broadcastView(bias, [32, 10]) // what a kernel sees for a [10] bias added to [32, 10]
 */
export function broadcastView(t: Tensor, shape: readonly number[]): View {
  if (sameDims(t.shape, shape)) return t;
  const rank = shape.length;
  const off = rank - t.shape.length;
  const strides = new Array<number>(rank);
  for (let i = 0; i < rank; i++) {
    strides[i] = i < off || t.shape[i - off] === 1 ? 0 : t.strides[i - off]!;
  }
  let size = 1;
  for (let i = 0; i < rank; i++) size *= shape[i]!;
  return { buf: t.buf, dtype: t.dtype, shape, strides, offset: t.offset, size };
}

/** A 0-d tensor holding `v` on `backend`. */
export function scalarOn(backend: Backend, v: number, dtype: DType): Tensor {
  const buf = backend.storage.alloc(dtype, 1);
  backend.kernels.fill({ buf, dtype, shape: [], strides: [], offset: 0, size: 1 }, v);
  return new Tensor(backend, buf, dtype, []);
}

/** The dtype a JS number needs alone. */
export function dtypeOfNumber(v: number | boolean): DType {
  return typeof v === 'boolean' ? 'bool' : Number.isInteger(v) ? 'int32' : 'float32';
}

/**
 * Resolves two operands to tensors on one backend and their common dtype. Numbers adopt the
 * tensor's dtype unless they need a wider one (2.5 with an int32 tensor gives float32).
 * Returns which operands were created here (and must be disposed after the op).
 */
export function operands(op: string, a: Operand, b: Operand): [Tensor, Tensor, DType, boolean, boolean] {
  const ta = a instanceof Tensor;
  const tb = b instanceof Tensor;
  if (ta && tb) {
    live(a, op, 'a');
    live(b, op, 'b');
    backendOf(op, a, b);
    const dtype = a.dtype === b.dtype ? a.dtype : widen(a.dtype, b.dtype);
    return [a, b, dtype, false, false];
  }
  if (ta) {
    live(a, op, 'a');
    const bn = number(b, op, 'b');
    const dtype = widen(a.dtype, weakDtype(bn, a.dtype));
    return [a, scalarOn(a.backend, +bn, dtype), dtype, false, true];
  }
  if (tb) {
    live(b, op, 'b');
    const an = number(a, op, 'a');
    const dtype = widen(b.dtype, weakDtype(an, b.dtype));
    return [scalarOn(b.backend, +an, dtype), b, dtype, true, false];
  }
  const an = number(a, op, 'a');
  const bn = number(b, op, 'b');
  const dtype = widen(dtypeOfNumber(an), dtypeOfNumber(bn));
  const be = getBackend();
  return [scalarOn(be, +an, dtype), scalarOn(be, +bn, dtype), dtype, true, true];
}

function number(v: unknown, op: string, what: string): number | boolean {
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  throw new ArgumentError(op, `${what} must be a Tensor or a number, got ${Array.isArray(v) ? 'an array (wrap it with tensor())' : typeof v}`);
}

function weakDtype(v: number | boolean, other: DType): DType {
  if (typeof v === 'boolean') return 'bool';
  if (other === 'float32') return 'float32';
  return Number.isInteger(v) ? 'int32' : 'float32';
}

function widen(a: DType, b: DType): DType {
  if (a === 'float32' || b === 'float32') return 'float32';
  if (a === 'int32' || b === 'int32') return 'int32';
  return 'bool';
}

/** Throws a DTypeError unless `x.dtype` is one of `allowed`. */
export function expectDType(op: string, x: Tensor, allowed: readonly DType[], what = 'x'): void {
  if (!allowed.includes(x.dtype)) {
    throw new DTypeError(op, `${what} has dtype ${x.dtype} ${fmtShape(x.shape)}; expected ${allowed.join(' or ')}`);
  }
}

/** Temporary buffers made to hand contiguous inputs to a backend that needs them. */
const temps: { backend: Backend; buf: View['buf'] }[] = [];

/**
 * The view a kernel should see for `t`: `t` itself, or (on a backend without strided
 * inputs) a contiguous copy released by {@link releaseTemps}.
 */
export function input(t: View & { backend?: Backend }, backend: Backend): View {
  if (backend.caps.stridedInputs || rowMajorLayout(t.shape, t.strides)) return t;
  const buf = backend.storage.alloc(t.dtype, t.size);
  const out: View = { buf, dtype: t.dtype, shape: t.shape, strides: rowMajorStrides(t.shape), offset: 0, size: t.size };
  backend.kernels.copy(t, out);
  temps.push({ backend, buf });
  return out;
}

/** Releases the copies {@link input} made. */
export function releaseTemps(): void {
  while (temps.length > 0) {
    const t = temps.pop()!;
    t.backend.storage.release(t.buf);
  }
}

/** Tells the recorder (autograd) about an op, when one is installed. */
export function record(name: string, inputs: readonly Tensor[], out: Tensor, attrs: Record<string, unknown> = {}): void {
  const r = engine.recorder;
  if (r !== null) r({ name, inputs, output: out, attrs });
}

/**
 * Runs `compute` (a fused kernel or its decomposition) with recording paused, then records
 * one op: the recorder sees a fused op and its fallback identically.
 */
export function recorded(name: string, inputs: readonly Tensor[], attrs: Record<string, unknown>, compute: () => Tensor): Tensor {
  const r = engine.recorder;
  if (r === null) return compute();
  engine.recorder = null;
  let out: Tensor;
  try {
    out = compute();
  } finally {
    engine.recorder = r;
  }
  r({ name, inputs, output: out, attrs });
  return out;
}

/** The fused kernel `name` of `backend` when fused kernels are on and it has one. */
export function fusedKernel<K extends keyof Backend['fused']>(backend: Backend, name: K): Backend['fused'][K] | undefined {
  return engine.fusedEnabled ? backend.fused[name] : undefined;
}

/**
 * Runs the backend's fused kernel `name` into a new float32 output of `shape` when it has one
 * (and fused kernels are on); returns null when the caller should run the decomposition.
 */
export function tryFused(backend: Backend, name: keyof Backend['fused'], shape: readonly number[], run: (out: Tensor) => void): Tensor | null {
  if (fusedKernel(backend, name) === undefined) return null;
  const out = output(backend, 'float32', shape);
  try {
    if (out.size > 0) run(out);
  } catch (e) {
    // A kernel that rejects its input (a typed error from the backend) must not leak the output.
    releaseTemps();
    out.dispose();
    throw e;
  }
  releaseTemps();
  return out;
}

/** A tensor on `backend` holding a copy of host `data`. */
export function constantOn(backend: Backend, dtype: DType, data: DataArray, shape: readonly number[]): Tensor {
  return new Tensor(backend, backend.storage.upload(dtype, data), dtype, shape);
}

/** A tensor on `backend` with every element `value`. */
export function filledOn(backend: Backend, dtype: DType, shape: readonly number[], value: number): Tensor {
  const out = output(backend, dtype, shape);
  if (out.size > 0) backend.kernels.fill(out, value);
  return out;
}
