/** MNIST MLP / CNN with TensorFlow.js layers (`tf.sequential`, `fit`, `trainOnBatch`). */
import { readMlpInit } from '../mnist.js';
import { loadTfjs } from '../subjects/tfjs.js';
import { accuracyOf, latencies, now, stepLoop, timedEpochs, warmupEpochs, type Trainer } from './spec.js';

export const trainTfjs: Trainer = async (spec, data) => {
  const tf = await loadTfjs(spec.subject === 'tfjs-wasm' ? 'wasm' : 'cpu');
  const { batch } = spec;
  const adam = () => tf.train.adam(0.001, 0.9, 0.999, 1e-7);
  const n = data.train.count;
  const xs = tf.tensor(data.train.images, [n, 28, 28, 1]);
  const ys = tf.tensor(data.trainY, [n, 10]);

  if (spec.workload === 'mlp') {
    const build = () => {
      const m = tf.sequential({
        layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 128, activation: 'relu' }), tf.layers.dense({ units: 10, activation: 'softmax' })],
      });
      m.compile({ optimizer: adam(), loss: 'categoricalCrossentropy' });
      return m;
    };
    const steps = Math.floor(n / batch);
    let warm: ReturnType<typeof build> | undefined;
    const firstSec = await warmupEpochs(spec, async () => {
      warm ??= build();
      await warm.fit(xs, ys, { epochs: 1, batchSize: batch, shuffle: false, verbose: 0 });
    });
    warm?.dispose();
    const fresh = () => {
      const m = build();
      if (spec.initWeights) {
        const iw = readMlpInit(spec.initWeights);
        const ws = [tf.tensor(iw.w1, [784, 128]), tf.tensor(iw.b1, [128]), tf.tensor(iw.w2, [128, 10]), tf.tensor(iw.b2, [10])];
        m.setWeights(ws);
        tf.dispose(ws);
      }
      return m;
    };
    const { model, sec, loss } = await timedEpochs(
      spec,
      fresh,
      async (m) => {
        const h = await m.fit(xs, ys, { epochs: 1, batchSize: batch, shuffle: false, verbose: 0 });
        const l = h.history.loss?.[0];
        return typeof l === 'number' ? l : undefined;
      },
      (m) => m.dispose(),
    );
    const test = data.test!;
    const xt = tf.tensor(test.images, [test.count, 28, 28, 1]);
    const probs = tf.tidy(() => model.predict(xt, { batchSize: 1000 }) as import('@tensorflow/tfjs').Tensor);
    const accuracy = accuracyOf(probs.dataSync(), test.labels);
    probs.dispose();
    const x1 = xt.slice(0, 1);
    const xk = xt.slice(0, spec.inferBatch);
    const infer = (x: import('@tensorflow/tfjs').Tensor, bs: number) => () => {
      const p = model.predict(x, { batchSize: bs }) as import('@tensorflow/tfjs').Tensor;
      p.dataSync();
      p.dispose();
    };
    const latency1Ms = await latencies(infer(x1, 1), 5, spec.inferSamples1);
    const latencyKMs = await latencies(infer(xk, spec.inferBatch), 2, spec.inferSamplesK);
    return { samplesPerSec: sec.map((x) => (steps * batch) / x), firstEpochSamplesPerSec: (steps * batch) / (firstSec ?? sec[0]!), epochSec: sec[0], accuracy, loss, latency1Ms, latencyKMs };
  }

  // CNN: per-step times with trainOnBatch.
  const build = () => {
    const m = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.flatten(),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 10, activation: 'softmax' }),
      ],
    });
    m.compile({ optimizer: adam(), loss: 'categoricalCrossentropy' });
    return m;
  };
  const model = build();
  const nb = Math.floor(n / batch);
  const bx = (i: number) => xs.slice((i % nb) * batch, batch);
  const by = (i: number) => ys.slice((i % nb) * batch, batch);
  const { samplesPerSec, note } = await stepLoop(spec, async (i) => {
    const x = bx(i);
    const y = by(i);
    await model.trainOnBatch(x, y);
    tf.dispose([x, y]);
  });
  return { stepSamplesPerSec: samplesPerSec, note };
};
