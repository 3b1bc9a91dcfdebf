/**
 * What the example apps (mnist, gpt, finetune) share: `--backend <name>` on their command lines.
 * @module
 */
import { type BackendFactory, init, registerBackend } from 'tessera';

/** The factory each optional backend package exports. */
const FACTORIES: Record<string, string> = { wasm: 'createWasmBackend', native: 'createNativeBackend', webgpu: 'createWebGpuBackend' };

/**
 * Makes `name` the current backend and returns its name. `js` ships with `tessera`; the
 * others are loaded from their package (`@tessera/backend-<name>`) when it is installed —
 * imported only when asked for, so an app runs where an optional backend cannot load.
 * @example await useBackend('wasm')
 */
export async function useBackend(name: string): Promise<string> {
  if (name !== 'js') {
    const factoryName = FACTORIES[name];
    if (factoryName === undefined) throw new Error(`unknown backend '${name}' (expected ${['js', ...Object.keys(FACTORIES)].join(', ')})`);
    try {
      const mod = (await import(`@tessera/backend-${name}`)) as Record<string, unknown>;
      const factory = mod[factoryName] as BackendFactory | undefined;
      if (typeof factory !== 'function') throw new Error(`@tessera/backend-${name} has no ${factoryName}()`);
      registerBackend(name, factory, 1);
    } catch (e) {
      throw new Error(`backend '${name}' is not available: ${(e as Error).message}`);
    }
  }
  const { backend, failures } = await init({ prefer: [name] });
  if (failures.length > 0) throw new Error(`backend '${name}' failed: ${failures.map((f) => f.reason).join('; ')}`);
  return backend.name;
}
