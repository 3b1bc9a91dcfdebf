// Overhead of the tape on a 1-element `mul(add(x, y), x)` (2 forward ops), in ns per op:
//   forward        the two ops with no tape;
//   recording      the two ops while a tape records them (no backward pass);
//   differentiate  the two ops recorded and differentiated (grads of both inputs);
// plus the fixed cost of one grads() call (tape, scopes, seed, returned gradients), measured
// on f = (x, y) => x and subtracted from the two per-op figures.
// Run with `pnpm --filter @tessera/autograd bench` (builds first). N=<iterations> to change.
import { add, init, memory, mul, scalar } from '@tessera/core';
import { createJsBackend } from '@tessera/backend-js';
import { grads } from '../dist/index.js';

await init({ backends: { js: createJsBackend } });
const x = scalar(1.5);
const y = scalar(0.5);
const N = Number(process.env.N ?? 100_000);

function plain(n) {
  for (let i = 0; i < n; i++) {
    const a = add(x, y);
    const b = mul(a, x);
    a.dispose();
    b.dispose();
  }
}

/** n grads() calls of f, disposing the gradients. */
const calls = (f) => (n) => {
  const g = grads(f);
  for (let i = 0; i < n; i++) {
    const [gx, gy] = g([x, y]);
    gx.dispose();
    gy.dispose();
  }
};
const empty = calls((p) => p);
const recordOnly = calls((p, q) => {
  // recorded, but f returns p itself, so the backward pass has nothing to do
  mul(add(p, q), p);
  return p;
});
const differentiate = calls((p, q) => mul(add(p, q), p));

/** Best time per iteration (ns) over `reps` interleaved rounds, to ride out a noisy machine. */
function bench(fns, n, reps = 9) {
  for (const f of fns) f(Math.min(n, 10_000)); // warm-up
  const best = fns.map(() => Infinity);
  for (let r = 0; r < reps; r++) {
    fns.forEach((f, k) => {
      const t0 = process.hrtime.bigint();
      f(n);
      best[k] = Math.min(best[k], Number(process.hrtime.bigint() - t0) / n);
    });
  }
  return best;
}

const m0 = memory();
const [tPlain, tEmpty, tRecord, tDiff] = bench([plain, empty, recordOnly, differentiate], N);
const leaked = memory().numTensors - m0.numTensors;
const bytes = memory().numBytes - m0.numBytes;

const perOp = (t) => (t - tEmpty) / 2;
const fmt = (v) => `${v.toFixed(0).padStart(6)} ns/op`;
console.log(`tape overhead on a 1-element mul(add(x, y), x); ${N} iterations, best of 9 (node ${process.version})`);
console.log(`  forward, no tape           ${fmt(tPlain / 2)}`);
console.log(`  forward, recording         ${fmt(perOp(tRecord))}   (tape: +${(perOp(tRecord) - tPlain / 2).toFixed(0)} ns/op)`);
console.log(`  forward + backward         ${fmt(perOp(tDiff))}   (tape: +${(perOp(tDiff) - tPlain / 2).toFixed(0)} ns/op, backward included)`);
console.log(`  fixed cost of a grads() call: ${(tEmpty / 1000).toFixed(2)} µs; a whole grads() call of mul(add(x, y), x): ${(tDiff / 1000).toFixed(2)} µs`);
console.log(`  tensors leaked: ${leaked}, bytes: ${bytes}`);
if (leaked !== 0 || bytes !== 0) process.exitCode = 1;
