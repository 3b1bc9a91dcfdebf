/**
 * The op database: every family's specs, in a stable order.
 * @module
 */
import type { OpSpec } from '../types.js';
import { compareSpecs } from './compare.js';
import { creationSpecs } from './creation.js';
import { elementwiseSpecs } from './elementwise.js';
import { indexingSpecs } from './indexing.js';
import { matmulSpecs } from './matmul.js';
import { movementSpecs } from './movement.js';
import { nnSpecs } from './nn.js';
import { optimizerSpecs } from './optimizer.js';
import { randomSpecs } from './random.js';
import { reduceSpecs } from './reduce.js';

export {
  compareSpecs, creationSpecs, elementwiseSpecs, indexingSpecs, matmulSpecs, movementSpecs, nnSpecs,
  optimizerSpecs, randomSpecs, reduceSpecs,
};

/** All op specs. */
export const ALL_SPECS: readonly OpSpec[] = [
  ...elementwiseSpecs,
  ...compareSpecs,
  ...reduceSpecs,
  ...movementSpecs,
  ...matmulSpecs,
  ...nnSpecs,
  ...creationSpecs,
  ...randomSpecs,
  ...indexingSpecs,
  ...optimizerSpecs,
];
