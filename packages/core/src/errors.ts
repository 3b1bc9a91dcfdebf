/**
 * One error hierarchy for everything Tessera rejects. Each message names the op, what it
 * received (shapes, dtypes, values) and what it expected, so that the first line of a stack
 * trace is enough to fix the call.
 * @module
 */

/**
 * Base class of every error Tessera throws on purpose.
 * @example
 * try { add(a, b) } catch (e) { if (e instanceof TesseraError) console.log(e.op, e.message) }
 */
export class TesseraError extends Error {
  /** The op or function that rejected its input. */
  readonly op: string;
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.op = op;
    this.name = new.target.name;
  }
}

/**
 * Shapes that do not fit: broadcasting failures, wrong ranks, mismatched sizes.
 * @example
 * add(zeros([2, 3]), zeros([4]))  // ShapeError: add: shapes [2,3] and [4] cannot broadcast ...
 */
export class ShapeError extends TesseraError {}

/**
 * A dtype the op cannot take.
 * @example
 * matmul(tensor([1], [1, 1], 'bool'), x) // DTypeError: matmul: expected float32 ... got bool
 */
export class DTypeError extends TesseraError {}

/**
 * Use of a tensor after `dispose()` (or after the tidy scope that owned it ended).
 * @example
 * x.dispose(); exp(x) // DisposedTensorError: exp: tensor #12 [2,2] float32 was disposed
 */
export class DisposedTensorError extends TesseraError {}

/**
 * No backend ready, a backend that failed to start, tensors from two backends, or an
 * operation the backend cannot do (such as a synchronous read on WebGPU).
 * @example
 * getBackend() // BackendError: getBackend: no backend is ready; call `await init()` first
 */
export class BackendError extends TesseraError {}

/**
 * An argument outside its domain: a negative size, an axis out of range, an unknown option.
 * @example
 * sum(x, 5) // ArgumentError: sum: axis 5 is out of range for rank 2 (expected -2..1)
 */
export class ArgumentError extends TesseraError {}

/**
 * An index outside the dimension it indexes (gather, oneHot labels, scatter).
 * @example
 * gather(x, tensor([7], [1], 'int32')) // IndexError: gather: index 7 at position 0 is out of range [0, 3)
 */
export class IndexError extends TesseraError {}

/**
 * A file or byte buffer that is not what it claims to be (truncated, corrupt, hostile).
 * @example
 * parseSafetensors(bytes.subarray(0, 10)) // FormatError: parseSafetensors: file is 10 bytes ...
 */
export class FormatError extends TesseraError {}
