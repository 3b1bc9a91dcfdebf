/**
 * The nn family: activations, softmax/log-softmax, layer norm, softmax cross-entropy,
 * convolutions and pooling (forward and backward), gathered from their files.
 * @module
 */
import type { OpSpec } from '../types.js';
import { activationSpecs } from './nn-activations.js';
import { convSpecs } from './nn-conv.js';
import { normSpecs } from './nn-norm.js';

/** Every nn op. */
export const nnSpecs: readonly OpSpec[] = [...activationSpecs, ...normSpecs, ...convSpecs];
