/**
 * The Tensor handle: an immutable strided view of backend storage.
 * @module
 */
import type { Backend, Buf, DataArray, DType, View } from './backend/types.js';
import { countsFor, engine } from './engine.js';
import { BackendError, DisposedTensorError } from './errors.js';
import { formatTensor } from './format.js';
import { fmtShape } from './shape.js';
import { product, rowMajorLayout, rowMajorStrides } from './shape-unchecked.js';

interface Held {
  backend: Backend;
  buf: Buf;
}

/** Frees storage of tensors the program dropped without disposing them. */
const finalizer =
  typeof FinalizationRegistry === 'undefined'
    ? null
    : new FinalizationRegistry<Held>((held) => {
        held.backend.storage.release(held.buf);
        const c = engine.counts.get(held.backend);
        if (c) c.tensors--;
        engine.finalized++;
        if (engine.warnOnFinalize) {
          console.warn(`tessera: a tensor was garbage-collected without dispose() (${engine.finalized} so far)`);
        }
      });

/**
 * An n-dimensional array on a backend. Tensors are immutable: every op returns a new one.
 * Free them with `dispose()`, `using`, or by creating them inside `tidy`.
 * @example
 * const x = tensor([[1, 2], [3, 4]]);
 * console.log(x.shape, x.dtype, await x.data()); // [2, 2] 'float32' Float32Array [1, 2, 3, 4]
 * x.dispose();
 */
export class Tensor implements View {
  /** A process-unique id (for debugging and error messages). */
  readonly id: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  /** The backend that holds the storage. */
  readonly backend: Backend;
  /** @internal Storage handle (shared between views). */
  readonly buf: Buf;
  /** @internal Element strides (0 = broadcast, negative = reversed). */
  readonly strides: readonly number[];
  /** @internal Element offset of the first element. */
  readonly offset: number;
  /** @internal */
  disposed = false;
  /**
   * True when tidy scopes must leave this tensor alone (set by `keep`, or directly by code
   * that manages the handle's lifetime itself and wants no FinalizationRegistry entry).
   */
  kept = false;
  /** @internal Registered with the FinalizationRegistry. */
  guarded = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, …) instead. */
  constructor(backend: Backend, buf: Buf, dtype: DType, shape: readonly number[], strides?: readonly number[], offset = 0) {
    this.id = engine.nextId++;
    this.backend = backend;
    this.buf = buf;
    this.dtype = dtype;
    this.shape = shape;
    // Unchecked: only core makes tensors, from shapes it has checked (see ops/util.ts output()).
    this.size = product(shape);
    this.strides = strides ?? rowMajorStrides(shape);
    this.offset = offset;
    countsFor(backend).tensors++;
    const scopes = engine.scopes;
    if (scopes.length > 0) scopes[scopes.length - 1]!.push(this);
    else this.guard();
  }

  /**
   * @internal Puts the tensor under the FinalizationRegistry safety net. Tensors inside a
   * tidy scope skip it (the scope frees them deterministically, and registering costs about
   * as much as the rest of an op); they are registered when they leave the last scope.
   */
  guard(): void {
    if (this.guarded || finalizer === null) return;
    this.guarded = true;
    finalizer.register(this, { backend: this.backend, buf: this.buf }, this);
  }

  /** Number of axes. */
  get rank(): number {
    return this.shape.length;
  }

  /** True once `dispose()` ran (or the owning tidy scope ended). */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** True if the elements are laid out row-major with no gaps from `offset`. */
  get isContiguous(): boolean {
    return rowMajorLayout(this.shape, this.strides);
  }

  /**
   * Throws a DisposedTensorError naming `op` if this tensor was disposed.
   * @example x.assertLive('myOp')
   */
  assertLive(op: string): void {
    if (this.disposed) {
      throw new DisposedTensorError(op, `tensor #${this.id} ${fmtShape(this.shape)} ${this.dtype} was disposed`);
    }
  }

  /**
   * The values, row-major, in a fresh typed array (bool as 0/1 bytes). Waits for pending
   * kernels.
   * @example const values = await x.data();
   */
  async data(): Promise<DataArray> {
    this.assertLive('data');
    if (this.size === 0) return emptyArray(this.dtype);
    if (this.isContiguous) return this.backend.storage.read(this.buf, this.dtype, this.offset, this.size);
    const buf = materialise(this);
    try {
      return await this.backend.storage.read(buf, this.dtype, 0, this.size);
    } finally {
      this.backend.storage.release(buf);
    }
  }

  /**
   * The values, synchronously, on backends that can (js, wasm, native). Throws a
   * BackendError on backends that cannot (WebGPU): use `await data()` there.
   * @example const values = x.dataSync();
   */
  dataSync(): DataArray {
    this.assertLive('dataSync');
    const storage = this.backend.storage;
    if (!this.backend.caps.syncRead || storage.readSync === undefined) {
      throw new BackendError('dataSync', `backend '${this.backend.name}' cannot read synchronously; use \`await x.data()\``);
    }
    if (this.size === 0) return emptyArray(this.dtype);
    if (this.isContiguous) return storage.readSync(this.buf, this.dtype, this.offset, this.size);
    const buf = materialise(this);
    try {
      return storage.readSync(buf, this.dtype, 0, this.size);
    } finally {
      storage.release(buf);
    }
  }

  /**
   * The values as nested JS arrays (numbers, or booleans for bool tensors).
   * @example await tensor([[1, 2]]).array() // [[1, 2]]
   */
  async array(): Promise<NestedArray> {
    return toNested(await this.data(), this.shape, this.dtype);
  }

  /** Synchronous {@link Tensor.array}; see {@link Tensor.dataSync} for where it works. */
  arraySync(): NestedArray {
    return toNested(this.dataSync(), this.shape, this.dtype);
  }

  /**
   * A NumPy-like rendering (values included when the backend can read synchronously).
   * @example console.log(tensor([1, 2]).toString()) // Tensor float32 [2]\n[1, 2]
   */
  toString(): string {
    const head = `Tensor ${this.dtype} ${fmtShape(this.shape)}`;
    if (this.disposed) return `${head} (disposed)`;
    if (!this.backend.caps.syncRead) return `${head} on ${this.backend.name} (use await x.data())`;
    return `${head}\n${formatTensor(this.dataSync(), this.shape, this.dtype)}`;
  }

  /**
   * Frees the storage reference this tensor holds. Safe to call twice.
   * @example const y = exp(x); y.dispose();
   */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.guarded) finalizer!.unregister(this);
    this.backend.storage.release(this.buf);
    countsFor(this.backend).tensors--;
  }

  /** `using x = tensor(...)` disposes x at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/** Nested arrays as returned by {@link Tensor.array}. */
export type NestedArray = number | boolean | NestedArray[];

function emptyArray(dtype: DType): DataArray {
  return dtype === 'float32' ? new Float32Array(0) : dtype === 'int32' ? new Int32Array(0) : new Uint8Array(0);
}

/** A contiguous copy of a strided tensor's elements in a new buffer (one reference). */
function materialise(t: Tensor): Buf {
  const backend = t.backend;
  const buf = backend.storage.alloc(t.dtype, t.size);
  backend.kernels.copy(t, { buf, dtype: t.dtype, shape: t.shape, strides: rowMajorStrides(t.shape), offset: 0, size: t.size });
  return buf;
}

function toNested(data: DataArray, shape: readonly number[], dtype: DType): NestedArray {
  const conv = dtype === 'bool' ? (v: number) => v !== 0 : (v: number) => v;
  if (shape.length === 0) return conv(data[0]!);
  let pos = 0;
  const build = (axis: number): NestedArray[] => {
    const n = shape[axis]!;
    const out: NestedArray[] = new Array(n);
    if (axis === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = conv(data[pos++]!);
    } else {
      for (let i = 0; i < n; i++) out[i] = build(axis + 1);
    }
    return out;
  };
  return build(0);
}
