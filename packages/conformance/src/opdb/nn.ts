/**
 * The nn family: activations, softmax/log-softmax, layer norm, softmax cross-entropy,
 * convolutions and pooling (forward and backward), scaled dot-product attention, gathered
 * from their files.
 * @module
 */
import type { OpSpec } from '../types.js';
import { activationSpecs } from './nn-activations.js';
import { attentionSpecs } from './nn-attention.js';
import { convSpecs } from './nn-conv.js';
import { normSpecs } from './nn-norm.js';

/** Every nn op. */
export const nnSpecs: readonly OpSpec[] = [...activationSpecs, ...normSpecs, ...convSpecs, ...attentionSpecs];
