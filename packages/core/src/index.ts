/**
 * @tessera/core: tensors, the kernel interface, backend selection, memory management,
 * random numbers and every op.
 * @packageDocumentation
 */
export * from './backend/types.js';
export * from './errors.js';
export { broadcastShapes, normAxes, normAxis, sizeOf, stridesOf, fmtShape, shapesEqual, isRowMajor, collapseAxes, type CollapsedAxes } from './shape.js';
export { DTYPES } from './dtype.js';
export { Tensor, type NestedArray } from './tensor.js';
export { getBackend, setOpRecorder, getOpRecorder, withFusedKernels, withAllocationLimit, type OpRecord, type OpRecorder } from './engine.js';
export { tidy, tidyAsync, keep, dispose, memory, type TensorContainer, type MemoryInfo, type BackendMemory } from './memory.js';
export { registerBackend, init, setBackend, listBackends, moveTo, type InitOptions, type InitResult } from './backends.js';
export { alias, type Operand } from './ops/util.js';
export * from './ops/create.js';
export * from './ops/random.js';
export * from './ops/elementwise.js';
export * from './ops/reduce.js';
export * from './ops/movement.js';
export * from './ops/matmul.js';
export * from './ops/activation.js';
// window.ts also holds the window checks conv.ts and pool.ts share; only these are public.
export { resolveWindow, extractPatches, accumulatePatches, type Padding, type WindowOptions } from './ops/window.js';
export * from './ops/conv.js';
export * from './ops/pool.js';
export * from './ops/fused.js';
export * from './ops/attention.js';
