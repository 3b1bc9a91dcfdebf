/**
 * How the suite reaches `@tessera/core`. Every op case calls core through a {@link CoreApi}
 * (core's module namespace) passed to its `run`, so the op database imports nothing from
 * core at runtime: listing cases needs no backend, and a core that lacks one op fails that
 * op's cases only.
 * @module
 */
import type * as Core from '@tessera/core';

/** Core's public API: the type of `import * as core from '@tessera/core'`. */
export type CoreApi = typeof Core;
/** Core's tensor handle. */
export type Tensor = Core.Tensor;
/** Convolution options (`strides`, `padding`, `dilations`). */
export type ConvOptions = Core.WindowOptions;
/** Explicit window geometry, as the backward ops take it. */
export type WindowParams = Core.WindowParams;

/** Names of the core error classes an error case may expect. */
export type ErrorName = 'ShapeError' | 'DTypeError' | 'ArgumentError' | 'IndexError' | 'DisposedTensorError';

/**
 * Loads core's module namespace.
 * @example
 * const api = await loadCoreApi();
 * api.setBackend(backend);
 */
export async function loadCoreApi(): Promise<CoreApi> {
  return import('@tessera/core');
}
