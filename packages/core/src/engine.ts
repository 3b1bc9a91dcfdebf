/**
 * The runtime state every op shares: the current backend, tidy scopes, live-tensor
 * accounting, the fused-kernel switch and the op recorder that autograd installs.
 * Kept in one small object so the hot path reads a few fields and nothing else.
 * @module
 */
import type { Backend } from './backend/types.js';
import { ArgumentError, BackendError } from './errors.js';
import type { Tensor } from './tensor.js';

/** What the core tells a recorder (autograd) about one differentiable op. */
export interface OpRecord {
  /** The op's name, e.g. `'add'`, `'matmul'`, `'reshape'`, `'conv2d'`. */
  readonly name: string;
  /** The tensor inputs, in the op's argument order (numbers already turned into tensors). */
  readonly inputs: readonly Tensor[];
  readonly output: Tensor;
  /** Non-tensor arguments the gradient needs (axes, shapes, flags). */
  readonly attrs: Readonly<Record<string, unknown>>;
}

/** Receives every differentiable op while installed (see {@link setOpRecorder}). */
export type OpRecorder = (record: OpRecord) => void;

interface BackendCounts {
  tensors: number;
}

/** @internal The mutable runtime state. */
export const engine = {
  backend: null as Backend | null,
  fusedEnabled: true,
  scopes: [] as Tensor[][],
  recorder: null as OpRecorder | null,
  nextId: 1,
  counts: new Map<Backend, BackendCounts>(),
  /** Warn when the FinalizationRegistry frees a forgotten tensor (development aid). */
  warnOnFinalize: typeof process !== 'undefined' && process.env?.NODE_ENV === 'development',
  finalized: 0,
  /** Bytes new outputs may still take inside {@link withAllocationLimit} (null: no limit). */
  allocLeft: null as { bytes: number; limit: number; what: string } | null,
};

/**
 * The current backend, or a BackendError that says how to get one.
 * @example const b = getBackend(); console.log(b.name)
 */
export function getBackend(): Backend {
  const b = engine.backend;
  if (b === null) {
    throw new BackendError(
      'getBackend',
      'no backend is ready; call `await init()` (or `setBackend(await createJsBackend())`) first',
    );
  }
  return b;
}

/** @internal */
export function countsFor(b: Backend): BackendCounts {
  let c = engine.counts.get(b);
  if (c === undefined) {
    c = { tensors: 0 };
    engine.counts.set(b, c);
  }
  return c;
}

/**
 * Installs (or with `null` removes) the recorder that sees every differentiable op. Used by
 * `@tessera/autograd`; the core never imports autograd. Returns the previous recorder.
 * @example const prev = setOpRecorder((r) => tape.push(r)); ...; setOpRecorder(prev);
 */
export function setOpRecorder(recorder: OpRecorder | null): OpRecorder | null {
  const prev = engine.recorder;
  engine.recorder = recorder;
  return prev;
}

/** The recorder currently installed, if any. @example const active = getOpRecorder() !== null */
export function getOpRecorder(): OpRecorder | null {
  return engine.recorder;
}

/**
 * Runs `fn` with a cap on the bytes of the tensors it allocates in all (outputs of every op,
 * freed or not): past it, the op that would allocate throws an ArgumentError naming `what`.
 * For code whose sizes come from untrusted input — a model file's config — so a hostile
 * number cannot make it allocate gigabytes before a check could refuse it.
 * @example withAllocationLimit(64 << 20, 'the model config', () => deserializeLayer(config))
 */
export function withAllocationLimit<T>(bytes: number, what: string, fn: () => T): T {
  if (!(typeof bytes === 'number' && bytes >= 0)) throw new ArgumentError('withAllocationLimit', `bytes must be a number >= 0, got ${String(bytes)}`);
  const prev = engine.allocLeft;
  engine.allocLeft = { bytes: Math.min(bytes, prev?.bytes ?? Infinity), limit: bytes, what };
  try {
    return fn();
  } finally {
    if (prev !== null) prev.bytes -= Math.max(0, Math.min(bytes, prev.bytes) - engine.allocLeft!.bytes);
    engine.allocLeft = prev;
  }
}

/**
 * Runs `fn` with the fused kernels of every backend turned on or off, so the reference
 * decompositions run instead (the conformance suite runs each case both ways).
 * @example withFusedKernels(false, () => conv2d(x, w)) // decomposition into im2col + matmul
 */
export function withFusedKernels<T>(enabled: boolean, fn: () => T): T {
  const prev = engine.fusedEnabled;
  engine.fusedEnabled = enabled;
  try {
    return fn();
  } finally {
    engine.fusedEnabled = prev;
  }
}
