/**
 * `@tessera/conformance`: the one test suite every Tessera backend must pass. An op
 * database as data (float64 references, generated inputs, tolerances, errors), a vitest
 * runner ({@link describeConformance}), a threefry reference, a gradient checker for
 * autograd, and coverage reports.
 * @packageDocumentation
 */
export { describeConformance, type ConformanceOptions } from './runner.js';
export { listCases, buildCase, casesPerKernel, type ListOptions, type BuiltCase, type BuiltInput } from './cases.js';
export { ALL_SPECS } from './opdb/index.js';
export {
  compareSpecs, creationSpecs, elementwiseSpecs, indexingSpecs, matmulSpecs, movementSpecs, nnSpecs,
  optimizerSpecs, randomSpecs, reduceSpecs,
} from './opdb/index.js';
export { compareToRef, bitwiseEqual, type CompareOptions } from './compare.js';
export { compileExpect, globToRegExp, type ExpectMatcher } from './expect.js';
export { coverageTable, summarize, summaryLine, writeReport, type ConformanceReport, type Counts } from './report.js';
export { checkGradients, centralDifference64, type GradCheckOptions, type GradCheckResult, type GradMismatch } from './gradcheck.js';
export { threefry2x32, threefryBits, bitsToUniform } from './threefry.js';
export { seedKey } from './opdb/random.js';
export { EXACT, F32, TRANSCENDENTAL, accumulating, looser, U32 } from './tolerance.js';
export { REQUIRED_KERNELS, FUSED_KERNELS, ALL_OP_CODES, kernelOf, type KernelName, type KernelRef } from './kernels.js';
export { runCase, tolOf, type Mode } from './execute.js';
export { lifecycleChecks, type LifecycleCheck } from './lifecycle.js';
export type { HostTensor } from './host.js';
export type {
  Attrs, CaseDef, CaseInfo, CaseResult, CaseStatus, Domain, ExpectFile, Family, GradPolicy, InputDef, OpSpec,
  Tag, Tol, ViewRecipe,
} from './types.js';
export type { CoreApi, ErrorName } from './api.js';
