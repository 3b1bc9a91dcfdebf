/**
 * Picking the demos' backend at run time. `tessera` registers `js`; the WebAssembly and
 * WebGPU backends are separate packages, imported only when chosen so the page loads fast.
 */
import { init, registerBackend, listBackends, type Backend } from 'tessera';

/** The backends the demos offer. */
export type DemoBackend = 'js' | 'wasm' | 'webgpu';

/** Whether this browser can try a backend at all (WebGPU needs `navigator.gpu`). */
export function available(name: DemoBackend): boolean {
  if (name === 'webgpu') return typeof navigator !== 'undefined' && 'gpu' in navigator && !!(navigator as { gpu?: unknown }).gpu;
  if (name === 'wasm') return typeof WebAssembly === 'object';
  return true;
}

async function register(name: DemoBackend): Promise<void> {
  if (listBackends().some((b) => b.name === name)) return;
  if (name === 'wasm') {
    const { createWasmBackend } = await import('@tessera/backend-wasm');
    // The pool needs a cross-origin isolated page; elsewhere the backend says why it uses one thread.
    registerBackend('wasm', () => createWasmBackend({ onFallback: () => {} }), 1);
  } else if (name === 'webgpu') {
    const { createWebGpuBackend } = await import('@tessera/backend-webgpu');
    registerBackend('webgpu', () => createWebGpuBackend(), 2);
  }
}

/** Makes `name` the current backend (initialising it once) and returns it with a note. */
export async function useBackend(name: DemoBackend): Promise<{ backend: Backend; note: string }> {
  await register(name);
  const { backend } = await init({ prefer: [name] });
  const threads = (backend as { threads?: number; threadsNote?: string | null }).threads;
  const why = (backend as { threadsNote?: string | null }).threadsNote;
  const note = threads !== undefined ? `${threads} thread${threads === 1 ? '' : 's'}${why ? ` (${why})` : ''}` : '';
  return { backend, note };
}
