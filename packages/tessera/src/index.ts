/**
 * `tessera`: the whole framework in one install — tensors and ops (`@tessera/core`),
 * gradients (`@tessera/autograd`), losses, optimizers, layers and models (`@tessera/nn`),
 * datasets (`@tessera/data`) and the pure-TypeScript backend (`@tessera/backend-js`), which
 * is registered on import so `await init()` just works.
 *
 * @example
 * import { init, sequential, layers, loadMnist, toCategorical } from 'tessera';
 * await init();
 * const { train, test } = await loadMnist();
 * const model = sequential([
 *   layers.flatten({ inputShape: [28, 28] }),
 *   layers.dense({ units: 128, activation: 'relu' }),
 *   layers.dense({ units: 10, activation: 'softmax' }),
 * ]);
 * model.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
 * await model.fit(train.images, toCategorical(train.labels, 10), { epochs: 10, batchSize: 32, validationSplit: 0.2 });
 * console.log(await model.evaluate(test.images, toCategorical(test.labels, 10)));
 * @packageDocumentation
 */
import { createJsBackend } from '@tessera/backend-js';
import { init as coreInit, type InitOptions, type InitResult, listBackends, registerBackend } from '@tessera/core';

export * from '@tessera/core';
export * from '@tessera/autograd';
export * from '@tessera/losses';
export * from '@tessera/optim';
export * from '@tessera/nn';
export * from '@tessera/data';
export * from '@tessera/backend-js';

// Names two packages export. The nn names (what Keras users look for) win; the others are
// renamed: core's fused-kernel activation type, optim's schedule-style plateau helper.
export { Activation, ReduceLROnPlateau, type ReduceLROnPlateauOptions } from '@tessera/nn';
export type { Activation as FusedActivation } from '@tessera/core';
export { ReduceLROnPlateau as ReduceLROnPlateauSchedule, type ReduceLROnPlateauOptions as ReduceLROnPlateauScheduleOptions } from '@tessera/optim';

/** Registers the backends this package ships (js) unless already registered. */
function registerDefaults(): void {
  if (!listBackends().some((b) => b.name === 'js')) registerBackend('js', createJsBackend, 0);
}

registerDefaults();

/**
 * Initialises a backend: like `@tessera/core`'s `init`, with the js backend registered
 * (other backends: register them first, or pass `{ backends }`), so `await init()` just works.
 * @example
 * const { backend } = await init();                 // js
 * await init({ prefer: ['wasm', 'js'], backends: { wasm: createWasmBackend } });
 */
export async function init(options: InitOptions = {}): Promise<InitResult> {
  registerDefaults();
  return coreInit(options);
}
