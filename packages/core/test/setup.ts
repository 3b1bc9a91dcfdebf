import { createJsBackend } from '@tessera/backend-js';
import { setBackend } from '../src/index.js';

/** Makes a fresh reference backend current (each test file runs in its own module graph). */
export async function useJs() {
  return setBackend(await createJsBackend());
}
