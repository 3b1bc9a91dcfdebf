/**
 * The one place where nn creates and overwrites autograd variables, so that the ownership
 * rules of `@tessera/autograd` (`variable` and `assign` copy their argument) are handled once.
 * @module
 */
import { noGrad, variable, type Variable } from '@tessera/autograd';
import { clone, type Tensor } from '@tessera/core';

/**
 * A new variable initialised from `init`, which this function disposes.
 * @example const v = newVariable(zeros([3]), 'dense/bias', true);
 */
export function newVariable(init: Tensor, name: string, trainable: boolean): Variable {
  try {
    return noGrad(() => variable(init, { name, trainable }));
  } finally {
    init.dispose();
  }
}

/**
 * Overwrites a variable's value with a copy of `value`; the caller still owns `value`.
 * @example assignValue(v, newValue); newValue.dispose();
 */
export function assignValue(v: Variable, value: Tensor): void {
  noGrad(() => v.assign(value));
}

/**
 * A copy of a variable's current value, owned by the caller.
 * @example const snapshot = readValue(v); ... snapshot.dispose();
 */
export function readValue(v: Variable): Tensor {
  return noGrad(() => clone(v.value));
}
