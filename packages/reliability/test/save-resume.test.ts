/**
 * model.save keeps the optimizer's state under keys that hold in another process: a model
 * loaded next to the one that was saved (so its variables get different unique names) trains
 * on to exactly the same weights as the original, and `includeOptimizer: false` leaves the
 * state out (training then starts the optimizer afresh, and the weights differ).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as core from '@tessera/core';
import { loadModel, type Model } from '@tessera/nn';
import { afterAll, expect, it } from 'vitest';
import { accounting, openBackend, use } from './support/backends.js';
import { smallMlp, syntheticData } from './support/models.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-save-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const weightsOf = async (m: Model): Promise<number[][]> => Promise.all(m.weights.map(async (w) => Array.from(await w.value.data())));

it('a loaded model continues training exactly where the saved one stopped', async () => {
  const { backend } = await openBackend('js');
  use(backend!);
  const start = accounting(backend!);
  const d = syntheticData(64, [8, 8], 4, 3);
  const a = smallMlp(4, 11);
  a.compile({ optimizer: 'adam', loss: 'categoricalCrossentropy' });
  await a.fit(d.x, d.y, { epochs: 2, batchSize: 8, seed: 1, verbose: 0 });
  await a.save(join(dir, 'with'));
  await a.save(join(dir, 'without'), { includeOptimizer: false });
  const b = await loadModel(join(dir, 'with'));
  const c = await loadModel(join(dir, 'without'));
  // Same layer names in one process: the loaded variables' names differ from the original's.
  expect(b.weights.map((w) => w.name)).not.toEqual(a.weights.map((w) => w.name));
  expect((b.optimizer as unknown as { iterations: number }).iterations).toBe(16);
  expect((c.optimizer as unknown as { iterations: number }).iterations).toBe(0);
  for (const m of [a, b, c]) await m.fit(d.x, d.y, { epochs: 3, initialEpoch: 2, batchSize: 8, seed: 1, verbose: 0 });
  const [wa, wb, wc] = [await weightsOf(a), await weightsOf(b), await weightsOf(c)];
  expect(wb).toEqual(wa);
  expect(wc).not.toEqual(wa);
  for (const m of [a, b, c]) m.dispose();
  core.dispose([d.x, d.y]);
  expect(accounting(backend!)).toEqual(start);
});
