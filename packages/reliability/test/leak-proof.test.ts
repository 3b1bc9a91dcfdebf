/**
 * Leak proof: 1,000 training steps of a small MLP and a small CNN on every backend, with
 * validation, callbacks (EarlyStopping, ReduceLROnPlateau, TerminateOnNaN, a callback that
 * predicts and evaluates between epochs) and predict/evaluate afterwards. Core's live tensor
 * count and bytes, and the backend's own live buffers and bytes, must end exactly where they
 * started.
 */
import { dispose, tensor } from '@tessera/core';
import { Callback, EarlyStopping, type Logs, type Model, ReduceLROnPlateau, resolveLogs, TerminateOnNaN } from '@tessera/nn';
import { adam } from '@tessera/optim';
import { describe, expect, it } from 'vitest';
import { accounting, BACKENDS, openBackend, use } from './support/backends.js';
import { smallCnn, smallMlp, syntheticData } from './support/models.js';

const STEPS_PER_EPOCH = 50;
const EPOCHS = 20; // 20 × 50 = 1,000 optimisation steps
const BATCH = 8;

/** Counts steps, and between epochs predicts and evaluates on a held-out batch (disposing what it gets). */
class Between extends Callback {
  steps = 0;
  lastLoss = NaN;
  predictions = 0;
  constructor(private readonly probe: { x: import('@tessera/core').Tensor; y: import('@tessera/core').Tensor }) {
    super();
  }
  override async onBatchEnd(batch: number, logs?: Logs): Promise<void> {
    this.steps++;
    if (batch === STEPS_PER_EPOCH - 1) this.lastLoss = (await resolveLogs(logs)).loss!;
  }
  override async onEpochEnd(): Promise<void> {
    const m = this.model as Model;
    const p = m.predict(this.probe.x, { batchSize: 5 });
    const probs = await (Array.isArray(p) ? p[0]! : p).data();
    dispose(p);
    expect(probs.length).toBe(this.probe.x.shape[0]! * 4);
    await m.evaluate(this.probe.x, this.probe.y, { batchSize: 7 });
    this.predictions++;
  }
}

describe.each(BACKENDS)('leak proof on %s', (name) => {
  for (const kind of ['mlp', 'cnn'] as const) {
    it(`${kind}: 1,000 steps with validation, callbacks and predict leave tensors and buffers where they started`, async (ctx) => {
      const { backend, reason } = await openBackend(name);
      if (backend === null) return ctx.skip(reason!);
      use(backend);
      const start = accounting(backend);
      const shape = kind === 'mlp' ? [8, 8] : [8, 8, 1];
      const train = syntheticData(STEPS_PER_EPOCH * BATCH, shape, 4, 1);
      const val = syntheticData(24, shape, 4, 2);
      const probe = syntheticData(13, shape, 4, 3);
      const model = kind === 'mlp' ? smallMlp() : smallCnn();
      const optimizer = adam({ learningRate: 0.01 });
      model.compile({ optimizer, loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
      const between = new Between(probe);
      const nan = new TerminateOnNaN({ printFn: () => {} });
      const history = await model.fit(train.x, train.y, {
        epochs: EPOCHS,
        batchSize: BATCH,
        verbose: 0,
        seed: 7,
        validationData: [val.x, val.y],
        callbacks: [between, nan, new EarlyStopping({ monitor: 'val_loss', patience: 1000 }), new ReduceLROnPlateau({ monitor: 'val_loss', patience: 3, factor: 0.5, verbose: 0 })],
      });
      expect(between.steps).toBe(1000);
      expect(between.predictions).toBe(EPOCHS);
      expect(nan.terminatedAt).toBeNull();
      expect(history.history.val_loss).toHaveLength(EPOCHS);
      expect(Number.isFinite(between.lastLoss)).toBe(true);
      // The run learnt something (the loss fell), so the steps really trained.
      expect(history.history.loss![EPOCHS - 1]!).toBeLessThan(history.history.loss![0]!);
      const logs = await model.evaluate(val.x, val.y);
      expect(Number.isFinite(logs.loss!)).toBe(true);
      const zeros3 = tensor(new Float32Array(3 * 64), [3, ...shape]);
      dispose([model.predict(zeros3), zeros3]);
      model.dispose();
      optimizer.dispose(); // the optimizer was passed in, so its slots are ours to free
      dispose([train, val, probe]);
      // a (1) leaked tensor here or in the backend's accounting fails the test
      backend.flush?.();
      expect(accounting(backend)).toEqual(start);
    });
  }
});
