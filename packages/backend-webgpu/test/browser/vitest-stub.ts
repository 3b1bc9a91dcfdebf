/**
 * Stands in for `vitest` in the browser bundle: `@tessera/conformance` imports vitest for
 * `describeConformance`, which the page does not use (it calls `runCase` directly).
 */
const unavailable = (): never => {
  throw new Error('vitest is not available in the browser bundle');
};
export const describe = unavailable;
export const it = unavailable;
export const beforeAll = unavailable;
export const afterAll = unavailable;
