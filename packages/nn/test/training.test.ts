import { Dataset } from '@tessera/data';
import { Adam } from '@tessera/optim';
import { dispose, oneHot, randomUniform, type Tensor, tensor, zeros } from '@tessera/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { input, layers, loadModelFromArtifacts, type Logs, metrics, model, sequential } from '../src/index.js';
import { expectNoLeak, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);

/** 32 samples of 4 features; the class is argmax of the first three features. */
function blobs(n = 32): { x: Tensor; labels: Tensor; y: Tensor } {
  const xs = new Float32Array(n * 4);
  const ls = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    ls[i] = i % 3;
    for (let j = 0; j < 4; j++) xs[i * 4 + j] = (j === ls[i] ? 1 : 0) + 0.1 * Math.sin(i * 7 + j);
  }
  const labels = tensor(ls, [n], 'int32');
  return { x: tensor(xs, [n, 4]), labels, y: oneHot(labels, 3) };
}

const weightsOf = (m: { getWeights(): Tensor[] }): number[][] => {
  const ws = m.getWeights();
  const out = ws.map((w) => Array.from(w.dataSync()));
  dispose(ws);
  return out;
};

describe('training', () => {
  it('Sequential without an input shape builds on the first batch; trainOnBatch, evaluate and batched predict agree', async () => {
    const before = snapshot();
    const { x, labels, y } = blobs();
    const m = sequential([layers.dense({ units: 8, activation: 'tanh' }), layers.dense({ units: 3, activation: 'softmax' })]);
    expect(m.built).toBe(false);
    const opt = new Adam({ learningRate: 0.05 });
    m.compile({ optimizer: opt, loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
    const first = await m.trainOnBatch(x, labels);
    expect(m.built).toBe(true);
    expect(Object.keys(first)).toEqual(['loss', 'accuracy']);
    const h = await m.fit(x, labels, { epochs: 30, batchSize: 8, verbose: 0, seed: 3 });
    expect(h.history.loss![29]!).toBeLessThan(first.loss!);
    const ev = await m.evaluate(x, labels, { batchSize: 5 });
    expect(ev.accuracy).toBe(1);
    const whole = m.predictOnBatch(x) as Tensor;
    const batched = m.predict(x, { batchSize: 5 }) as Tensor;
    expect(Array.from(batched.dataSync())).toEqual(Array.from(whole.dataSync()));
    dispose([x, labels, y, whole, batched]);
    m.dispose();
    opt.dispose(); // an optimizer instance stays the caller's
    expectNoLeak(before);
  });

  it("'accuracy' resolves to binary, categorical or sparse accuracy from the shapes, and the other metrics compute", async () => {
    const before = snapshot();
    const yTrue = tensor([[1], [0], [1], [1]]);
    const yPred = tensor([[0.9], [0.6], [0.4], [0.8]]);
    const acc = metrics.accuracy();
    acc.update(yTrue, yPred);
    const prec = metrics.precision();
    prec.update(yTrue, yPred);
    const rec = metrics.recall();
    rec.update(yTrue, yPred);
    const auc = metrics.auc();
    auc.update(yTrue, yPred);
    const mae = metrics.meanAbsoluteError();
    mae.update(yTrue, yPred);
    const mse = metrics.meanSquaredError();
    mse.update(yTrue, yPred);
    const read = (m: { result(): Tensor }): number => {
      const t = m.result();
      const v = t.dataSync()[0]!;
      t.dispose();
      return v;
    };
    expect((acc as unknown as { kind: string }).kind).toBe('binary');
    expect(read(acc)).toBeCloseTo(0.5);
    expect(read(prec)).toBeCloseTo(2 / 3);
    expect(read(rec)).toBeCloseTo(2 / 3);
    expect(read(auc)).toBeCloseTo(2 / 3, 2); // positives {0.9, 0.4, 0.8} vs negative {0.6}: 2 of 3 pairs ordered
    expect(read(mae)).toBeCloseTo((0.1 + 0.6 + 0.6 + 0.2) / 4, 5);
    expect(read(mse)).toBeCloseTo((0.01 + 0.36 + 0.36 + 0.04) / 4, 5);
    const cat = metrics.accuracy();
    const oh = tensor([[0, 1], [1, 0]]);
    const p = tensor([[0.2, 0.8], [0.3, 0.7]]);
    cat.update(oh, p);
    expect((cat as unknown as { kind: string }).kind).toBe('categorical');
    expect(read(cat)).toBeCloseTo(0.5);
    const sp = metrics.accuracy();
    const lab = tensor([1, 1], [2], 'int32');
    sp.update(lab, p);
    expect((sp as unknown as { kind: string }).kind).toBe('sparse_categorical');
    expect(read(sp)).toBe(1);
    for (const m of [acc, prec, rec, auc, mae, mse, cat, sp]) m.dispose();
    dispose([yTrue, yPred, oh, p, lab]);
    expectNoLeak(before);
  });

  it('a functional model with two inputs and two outputs trains with per-output losses, weights and metrics', async () => {
    const before = snapshot();
    const { x, labels, y } = blobs();
    const extra = randomUniform([32, 2], { seed: 4 });
    const target = zeros([32, 1]);
    const a = input({ shape: [4], name: 'features' });
    const b = input({ shape: [2], name: 'extra' });
    const h = layers.dense({ units: 8, activation: 'relu' }).apply(layers.concatenate().apply([a, b]));
    const cls = layers.dense({ units: 3, activation: 'softmax', name: 'cls' }).apply(h);
    const reg = layers.dense({ units: 1, name: 'reg' }).apply(h);
    const m = model({ inputs: [a, b], outputs: [cls, reg] });
    m.compile({ optimizer: 'adam', loss: { cls: 'categorical_crossentropy', reg: 'mse' }, lossWeights: { reg: 0.5 }, metrics: { cls: ['accuracy'] } });
    const hist = await m.fit({ features: x, extra }, [y, target], { epochs: 3, batchSize: 8, verbose: 0, validationSplit: 0.25 });
    expect(Object.keys(hist.history).sort()).toEqual(['cls_accuracy', 'cls_loss', 'loss', 'reg_loss', 'val_cls_accuracy', 'val_cls_loss', 'val_loss', 'val_reg_loss']);
    hist.history.loss!.forEach((l, i) => expect(l).toBeCloseTo(hist.history.cls_loss![i]! + 0.5 * hist.history.reg_loss![i]!, 4));
    const out = m.predict([x, extra]) as Tensor[];
    expect(out.map((t) => t.shape)).toEqual([[32, 3], [32, 1]]);
    dispose([x, labels, y, extra, target, ...out]);
    m.dispose();
    expectNoLeak(before);
  });

  it('fits from a Dataset of batches, with a dataset for validation', async () => {
    const before = snapshot();
    const { x, labels, y } = blobs();
    const ds = Dataset.fromTensorSlices({ xs: x, ys: y }).shuffle('all', { seed: 1 }).batch(8);
    const val = Dataset.fromTensorSlices([x, y]).batch(16);
    const m = sequential([layers.dense({ units: 3, activation: 'softmax', inputShape: [4] })]);
    const opt = new Adam({ learningRate: 0.1 });
    m.compile({ optimizer: opt, loss: 'categorical_crossentropy', metrics: ['accuracy'] });
    const steps: number[] = [];
    const h = await m.fit(ds, { epochs: 3, verbose: 0, validationData: val, callbacks: [{ onBatchEnd: (b: number) => void steps.push(b) }] });
    expect(steps).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
    expect(h.history.val_loss).toHaveLength(3);
    const ev = await m.evaluate(val);
    expect(ev.loss).toBeCloseTo(h.history.val_loss![2]!, 5);
    dispose([x, labels, y]);
    m.dispose();
    opt.dispose();
    expectNoLeak(before);
  });

  it('classWeight and sampleWeight scale the loss per sample', async () => {
    const before = snapshot();
    const { x, labels, y } = blobs(12);
    const m = sequential([layers.dense({ units: 3, activation: 'softmax', inputShape: [4] })]);
    m.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy' });
    const plain = await m.evaluate(x, y);
    const w0 = weightsOf(m);
    const seen: number[] = [];
    const cb = { onBatchEnd: (_: number, logs?: Logs) => void seen.push(logs!.batchLoss!) };
    await m.fit(x, y, { epochs: 1, batchSize: 12, verbose: 0, classWeight: { 0: 0, 1: 0, 2: 0 }, callbacks: [cb] });
    expect(seen[0]).toBe(0);
    expect(weightsOf(m)).toEqual(w0); // zero loss, zero gradient
    await m.fit(x, y, { epochs: 1, batchSize: 12, verbose: 0, classWeight: { 0: 3, 1: 3, 2: 3 }, callbacks: [cb] });
    expect(seen[1]).toBeCloseTo(3 * plain.loss!, 5);
    const sw = tensor(new Float32Array(12).fill(0.5));
    const ev = await m.evaluate(x, y, { sampleWeight: sw });
    const now = await m.evaluate(x, y);
    expect(ev.loss).toBeCloseTo(0.5 * now.loss!, 5);
    dispose([x, labels, y, sw]);
    m.dispose();
    expectNoLeak(before);
  });

  it('freezing: frozen layers keep their weights, a frozen BatchNormalization uses its moving statistics', async () => {
    const before = snapshot();
    const { x, labels, y } = blobs();
    const base = sequential([layers.dense({ units: 6, activation: 'relu', inputShape: [4] }), layers.batchNormalization()], );
    base.trainable = false;
    const m = sequential([base, layers.dense({ units: 3, activation: 'softmax' })]);
    m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' });
    expect(m.trainableWeights).toHaveLength(2);
    const baseBefore = weightsOf(base);
    const headBefore = weightsOf(m.getLayer(1));
    await m.fit(x, y, { epochs: 2, batchSize: 8, verbose: 0 });
    expect(weightsOf(base)).toEqual(baseBefore); // moving statistics included
    expect(weightsOf(m.getLayer(1))).not.toEqual(headBefore);
    base.trainable = true;
    expect(m.trainableWeights).toHaveLength(6);
    await m.fit(x, y, { epochs: 1, batchSize: 8, verbose: 0 });
    expect(weightsOf(base)).not.toEqual(baseBefore);
    dispose([x, labels, y]);
    m.dispose();
    expectNoLeak(before);
  });

  it('a seeded fit is reproducible (shuffling and dropout)', async () => {
    const before = snapshot();
    const { x, labels, y } = blobs();
    const make = () => sequential([layers.dense({ units: 8, activation: 'relu', inputShape: [4], kernelInitializer: { className: 'GlorotUniform', config: { seed: 5 } } }), layers.dropout({ rate: 0.3 }), layers.dense({ units: 3, activation: 'softmax', kernelInitializer: { className: 'GlorotUniform', config: { seed: 6 } } })]);
    const runs: number[][] = [];
    for (let k = 0; k < 2; k++) {
      const m = make();
      m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' });
      const h = await m.fit(x, y, { epochs: 3, batchSize: 4, verbose: 0, seed: 42 });
      runs.push(h.history.loss!);
      m.dispose();
    }
    expect(runs[1]).toEqual(runs[0]);
    dispose([x, labels, y]);
    expectNoLeak(before);
  });

  it('initialEpoch resumes the epoch count; validationData takes tensors', async () => {
    const before = snapshot();
    const { x, labels, y } = blobs();
    const m = sequential([layers.dense({ units: 3, activation: 'softmax', inputShape: [4] })]);
    m.compile({ optimizer: 'sgd', loss: 'categorical_crossentropy', metrics: ['acc'] });
    const h = await m.fit(x, y, { epochs: 4, initialEpoch: 2, batchSize: 16, verbose: 0, validationData: [x, y] });
    expect(h.epoch).toEqual([2, 3]);
    expect(Object.keys(h.history)).toEqual(['loss', 'acc', 'val_loss', 'val_acc']);
    dispose([x, labels, y]);
    m.dispose();
    expectNoLeak(before);
  });

  it('a loaded model keeps its optimizer configuration', async () => {
    const before = snapshot();
    const m = sequential([layers.dense({ units: 2, inputShape: [3] })]);
    m.compile({ optimizer: new Adam({ learningRate: 0.0123, beta1: 0.8 }), loss: 'mse', metrics: ['mae'] });
    const back = await loadModelFromArtifacts(await m.toArtifacts());
    expect(back.optimizer!.learningRate).toBeCloseTo(0.0123);
    expect(back.optimizer!.getConfig!()).toMatchObject({ name: 'adam', beta1: 0.8 });
    expect(back.metricsNames).toEqual(['loss', 'mae']);
    (m.optimizer as Adam).dispose();
    m.dispose();
    back.dispose();
    expectNoLeak(before);
  });
});

