/**
 * State the demos share while the reader moves between pages (the site is a single-page
 * app): the model trained in the MNIST demo, which the drawing demo can use.
 */
import type { Model } from 'tessera';

/** `backend` names the backend that holds the model's weights (inputs must live there too). */
export const shared: { model: Model | null; modelSource: string; backend: 'js' | 'wasm' | 'webgpu' } = { model: null, modelSource: '', backend: 'js' };
