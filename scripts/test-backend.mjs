// The backend the shared golden replays run on: TESSERA_TEST_BACKEND (default js). The test
// suites of autograd, losses, optim and nn cannot depend on the optional backends (that would
// make a dependency cycle through @tessera/conformance), so those are loaded from their built
// files in this checkout; `pnpm test` builds them first and re-runs the golden files on each.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const FACTORIES = {
  wasm: ['backend-wasm', 'createWasmBackend'],
  native: ['backend-native', 'createNativeBackend'],
  webgpu: ['backend-webgpu', 'createWebGpuBackend'],
};

/** Name of the backend the golden replays should use. */
export function testBackendName() {
  return process.env.TESSERA_TEST_BACKEND ?? 'js';
}

/** Creates the backend named by TESSERA_TEST_BACKEND, or returns null for the default (js). */
export async function createTestBackend() {
  const name = testBackendName();
  if (name === 'js') return null;
  const spec = FACTORIES[name];
  if (!spec) throw new Error(`TESSERA_TEST_BACKEND=${name}: expected js, ${Object.keys(FACTORIES).join(', ')}`);
  const file = resolve(root, 'packages', spec[0], 'dist', 'index.js');
  if (!existsSync(file)) throw new Error(`TESSERA_TEST_BACKEND=${name}: ${file} is missing; run pnpm build`);
  const mod = await import(pathToFileURL(file).href);
  return mod[spec[1]]();
}
