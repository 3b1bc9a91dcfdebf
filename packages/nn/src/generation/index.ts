/**
 * Text generation: token sampling (greedy, temperature, top-k, top-p) and the decoding loop.
 * @module
 */
export { TokenSampler, greedy, topKFilter, topPFilter, pickToken, topKRow, topPRow, softmaxRow, argmaxRow, type SamplingOptions, type TokenSamplerOptions } from './sampling.js';
export { generate, type GenerateOptions, type StepContext, type StepFn } from './generate.js';
