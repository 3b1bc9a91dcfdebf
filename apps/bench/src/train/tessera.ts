/** MNIST MLP / CNN with Tessera's Keras-style API (@tessera/nn: sequential, fit, trainOnBatch). */
import * as core from '@tessera/core';
import type { Backend, Tensor } from '@tessera/core';
import { readMlpInit } from '../mnist.js';
import { findFactory } from '../subjects/tessera.js';
import { tesseraExports } from '../tessera-modules.js';
import { accuracyOf, latencies, stepLoop, timedEpochs, warmupEpochs, type Trainer } from './spec.js';

interface NnModel {
  compile(args: Record<string, unknown>): void;
  fit(x: Tensor, y: Tensor, args: Record<string, unknown>): Promise<unknown>;
  predict(x: Tensor, args?: Record<string, unknown>): Tensor | Tensor[];
  trainOnBatch(x: Tensor, y: Tensor): Promise<unknown>;
  setWeights(ws: readonly Tensor[]): void;
  dispose?(): void;
}
type LayerFactory = (args?: Record<string, unknown>) => unknown;
interface Nn {
  sequential: (layers: readonly unknown[]) => NnModel;
  layers: Record<string, LayerFactory>;
}

export const trainTessera: Trainer = async (spec, data) => {
  const t = spec.tessera;
  if (!t) throw new Error('tessera subject without backend spec');
  const mod = (await import(t.entry ?? t.pkg)) as Record<string, unknown>;
  const factory = findFactory(mod, t.name);
  if (!factory) throw new Error(`${t.pkg} exports no create*Backend factory`);
  const backend: Backend = await (factory as (o?: Record<string, unknown>) => Promise<Backend>)(t.options);
  core.setBackend(backend);
  const nn = await tesseraExports<Nn>('@tessera/nn', ['sequential', 'layers']);
  const L = nn.layers;
  const { batch } = spec;
  const n = data.train.count;
  const compile = (m: NnModel) => m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' });

  if (spec.workload === 'mlp') {
    const xs = core.tensor(data.train.images, [n, 28, 28], 'float32');
    const ys = core.tensor(data.trainY, [n, 10], 'float32');
    const build = () => {
      const m = nn.sequential([L.flatten({ inputShape: [28, 28] }), L.dense({ units: 128, activation: 'relu' }), L.dense({ units: 10, activation: 'softmax' })]);
      compile(m);
      return m;
    };
    const steps = Math.floor(n / batch);
    let warm: NnModel | undefined;
    const firstSec = await warmupEpochs(spec, async () => {
      warm ??= build();
      await warm.fit(xs, ys, { epochs: 1, batchSize: batch, shuffle: false, verbose: 0 });
      await backend.flush();
    });
    warm?.dispose?.();
    const fresh = () => {
      const m = build();
      if (spec.initWeights) {
        const iw = readMlpInit(spec.initWeights);
        const ws = [core.tensor(iw.w1, [784, 128]), core.tensor(iw.b1, [128]), core.tensor(iw.w2, [128, 10]), core.tensor(iw.b2, [10])];
        m.setWeights(ws);
        core.dispose(ws);
      }
      return m;
    };
    const { model, sec, loss } = await timedEpochs(
      spec,
      fresh,
      async (m) => {
        const h = (await m.fit(xs, ys, { epochs: 1, batchSize: batch, shuffle: false, verbose: 0 })) as { history?: Record<string, number[]> };
        await backend.flush();
        return h?.history?.loss?.[0];
      },
      (m) => m.dispose?.(),
    );
    const test = data.test!;
    const xt = core.tensor(test.images, [test.count, 28, 28], 'float32');
    const probs = model.predict(xt, { batchSize: 1000 }) as Tensor;
    const accuracy = accuracyOf(await probs.data(), test.labels);
    probs.dispose();
    const x1 = core.slice(xt, [0, 0, 0], [1, 28, 28]);
    const xk = core.slice(xt, [0, 0, 0], [spec.inferBatch, 28, 28]);
    const infer = (x: Tensor, bs: number) => async () => {
      const p = model.predict(x, { batchSize: bs }) as Tensor;
      await p.data();
      p.dispose();
    };
    const latency1Ms = await latencies(infer(x1, 1), 5, spec.inferSamples1);
    const latencyKMs = await latencies(infer(xk, spec.inferBatch), 2, spec.inferSamplesK);
    return { samplesPerSec: sec.map((x) => (steps * batch) / x), firstEpochSamplesPerSec: (steps * batch) / (firstSec ?? sec[0]!), epochSec: sec[0], accuracy, loss, latency1Ms, latencyKMs };
  }

  const xs = core.tensor(data.train.images, [n, 28, 28, 1], 'float32');
  const ys = core.tensor(data.trainY, [n, 10], 'float32');
  const model = nn.sequential([
    L.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
    L.maxPooling2d({ poolSize: 2 }),
    L.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
    L.maxPooling2d({ poolSize: 2 }),
    L.flatten(),
    L.dropout({ rate: 0.5 }),
    L.dense({ units: 10, activation: 'softmax' }),
  ]);
  compile(model);
  const nb = Math.floor(n / batch);
  const { samplesPerSec, note } = await stepLoop(spec, async (i) => {
    const j = (i % nb) * batch;
    const x = core.slice(xs, [j, 0, 0, 0], [batch, 28, 28, 1]);
    const y = core.slice(ys, [j, 0], [batch, 10]);
    await model.trainOnBatch(x, y);
    await backend.flush();
    core.dispose([x, y]);
  });
  return { stepSamplesPerSec: samplesPerSec, note };
};
