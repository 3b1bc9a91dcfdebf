/**
 * MNIST MLP / CNN in jax-js, written by hand: @jax-js/optax is not published, so Adam is
 * written here (Keras' form: lr_t = lr·√(1−β2ᵗ)/(1−β1ᵗ), p −= lr_t·m/(√v + ε), ε = 1e-7).
 * One `jit`-compiled step: loss, gradients (valueAndGrad) and the Adam update.
 * Ownership: every jax-js call consumes its array arguments; `.ref` keeps one alive.
 */
import { readMlpInit } from '../mnist.js';
import { uniformData } from '../subjects/kernel-subject.js';
import { loadJax } from '../subjects/jax.js';
import { accuracyOf, latencies, now, stepLoop, timedEpochs, warmupEpochs, type Trainer } from './spec.js';

type JArray = import('@jax-js/jax').Array;
type Params = Record<string, JArray>;

const B1 = 0.9;
const B2 = 0.999;
const EPS = 1e-7;
const LR = 0.001;

export const trainJax: Trainer = async (spec, data) => {
  const jax = await loadJax();
  const np = jax.numpy;
  const { nn, lax } = jax;
  const { batch } = spec;
  const n = data.train.count;
  const arr = (d: Float32Array, shape: number[]) => np.array(d).reshape(shape);

  /** Glorot-uniform (fan-in/out include the receptive field for convolutions). */
  const glorot = (fanIn: number, fanOut: number, shape: number[], seed: number) => {
    const lim = Math.sqrt(6 / (fanIn + fanOut));
    const u = uniformData(shape.reduce((a, b) => a * b, 1), seed);
    for (let i = 0; i < u.length; i++) u[i] = (u[i] * 2 - 1) * lim;
    return arr(u, shape);
  };

  const zerosLike = (p: Params): Params => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, np.zeros(v.shape)]));

  /** One jitted step: (params, m, v, x, y, lrT[, key]) → [loss, params, m, v]. */
  const makeStep = (lossFn: (p: Params, x: JArray, y: JArray, key?: JArray) => JArray) =>
    jax.jit((p: Params, m: Params, v: Params, x: JArray, y: JArray, lrT: JArray, key?: JArray) => {
      // valueAndGrad consumes its arguments: keep p for the update below.
      const args = key === undefined ? [jax.tree.ref(p), x, y] : [jax.tree.ref(p), x, y, key];
      const [loss, g] = (jax.valueAndGrad(lossFn) as (...a: unknown[]) => [JArray, Params])(...args);
      const np2: Params = {};
      const nm: Params = {};
      const nv: Params = {};
      for (const k of Object.keys(p)) {
        const gk = g[k];
        nm[k] = np.add(np.multiply(m[k], B1), np.multiply(gk.ref, 1 - B1));
        nv[k] = np.add(np.multiply(v[k], B2), np.multiply(np.square(gk), 1 - B2));
        const upd = np.divide(np.multiply(nm[k].ref, lrT.ref), np.add(np.sqrt(nv[k].ref), EPS));
        np2[k] = np.subtract(p[k], upd);
      }
      lrT.dispose();
      return [loss, np2, nm, nv];
    });

  const lrAt = (t: number) => np.array(LR * (Math.sqrt(1 - B2 ** t) / (1 - B1 ** t)));
  const batchX = (i: number, shape: number[]) => arr(data.train.images.subarray(i * batch * 784, (i + 1) * batch * 784), shape);
  const batchY = (i: number) => arr(data.trainY.subarray(i * batch * 10, (i + 1) * batch * 10), [batch, 10]);
  const xent = (logits: JArray, y: JArray) => np.negative(np.mean(np.sum(np.multiply(y, nn.logSoftmax(logits, -1)), -1)));
  const nb = Math.floor(n / batch);

  if (spec.workload === 'mlp') {
    const forward = (p: Params, x: JArray) => np.add(np.matmul(nn.relu(np.add(np.matmul(x, p.w1), p.b1)), p.w2), p.b2);
    const step = makeStep((p, x, y) => xent(forward(p, x), y));
    const fresh = (): Params => {
      if (spec.initWeights) {
        const w = readMlpInit(spec.initWeights);
        return { w1: arr(w.w1, [784, 128]), b1: arr(w.b1, [128]), w2: arr(w.w2, [128, 10]), b2: arr(w.b2, [10]) };
      }
      return { w1: glorot(784, 128, [784, 128], 11), b1: np.zeros([128]), w2: glorot(128, 10, [128, 10], 12), b2: np.zeros([10]) };
    };
    const run = async (steps: number) => {
      let p = fresh();
      let m = zerosLike(p);
      let v = zerosLike(p);
      let l = Number.NaN;
      for (let i = 0; i < steps; i++) {
        let loss: JArray;
        [loss, p, m, v] = step(p, m, v, batchX(i % nb, [batch, 784]), batchY(i % nb), lrAt(i + 1)) as [JArray, Params, Params, Params];
        // Read the loss every step, as fit() does in Keras/tfjs. jax-js is lazy: without a
        // read, the whole epoch queues up unexecuted (memory grows to ~1 GB, and it is slower).
        l = (await loss.data())[0];
      }
      jax.tree.dispose([m, v]);
      return { p, l };
    };
    const firstSec = await warmupEpochs(spec, async () => jax.tree.dispose((await run(nb)).p));
    // Each timed epoch starts from the shared initial weights (`run` makes fresh ones).
    const timed = await timedEpochs(
      spec,
      (): { p?: Params; l?: number } => ({}),
      async (m) => {
        Object.assign(m, await run(nb));
        return m.l;
      },
      (m) => m.p && jax.tree.dispose(m.p),
    );
    const p = timed.model.p!;
    const { sec } = timed;
    const l = timed.loss ?? Number.NaN;
    const predict = jax.jit((q: Params, x: JArray) => nn.softmax(forward(q, x), -1));
    const test = data.test!;
    const probs = new Float32Array(test.count * 10);
    for (let s = 0; s < test.count; s += 1000) {
      const e = Math.min(test.count, s + 1000);
      const out = (await (predict(jax.tree.ref(p), arr(test.images.subarray(s * 784, e * 784), [e - s, 784])) as JArray).data()) as Float32Array;
      probs.set(out, s * 10);
    }
    const accuracy = accuracyOf(probs, test.labels);
    const x1 = test.images.subarray(0, 784);
    const xk = test.images.subarray(0, spec.inferBatch * 784);
    const infer = (x: Float32Array, bs: number) => async () => {
      await (predict(jax.tree.ref(p), arr(x, [bs, 784])) as JArray).data();
    };
    const latency1Ms = await latencies(infer(x1, 1), 5, spec.inferSamples1);
    const latencyKMs = await latencies(infer(xk, spec.inferBatch), 2, spec.inferSamplesK);
    return { samplesPerSec: sec.map((x) => (nb * batch) / x), firstEpochSamplesPerSec: (nb * batch) / (firstSec ?? sec[0]!), epochSec: sec[0], accuracy, loss: l, latency1Ms, latencyKMs };
  }

  // CNN, NCHW (jax's conv layout); max pooling via lax.reduceWindow; dropout via random.bernoulli.
  const pool = (x: JArray) => lax.reduceWindow(x, (w: JArray) => np.max(w), [2, 2], [2, 2]);
  const forward = (p: Params, x: JArray, key: JArray) => {
    let h = nn.relu(np.add(lax.conv(x, p.k1, [1, 1], 'VALID'), p.c1));
    h = pool(h);
    h = nn.relu(np.add(lax.conv(h, p.k2, [1, 1], 'VALID'), p.c2));
    h = pool(h).reshape([batch, 64 * 5 * 5]);
    const keep = jax.random.bernoulli(key, 0.5, [batch, 64 * 5 * 5]);
    h = np.where(keep, np.multiply(h, 2), 0);
    return np.add(np.matmul(h, p.w), p.b);
  };
  const step = makeStep((p, x, y, key) => xent(forward(p, x, key!), y));
  let p: Params = {
    k1: glorot(9, 32 * 9, [32, 1, 3, 3], 21),
    c1: np.zeros([32, 1, 1]),
    k2: glorot(32 * 9, 64 * 9, [64, 32, 3, 3], 22),
    c2: np.zeros([64, 1, 1]),
    w: glorot(1600, 10, [1600, 10], 23),
    b: np.zeros([10]),
  };
  let m = zerosLike(p);
  let v = zerosLike(p);
  const { samplesPerSec, note } = await stepLoop(spec, async (i) => {
    const x = batchX(i % nb, [batch, 1, 28, 28]);
    const y = batchY(i % nb);
    const key = jax.random.key(spec.seed + i);
    let loss: JArray;
    [loss, p, m, v] = step(p, m, v, x, y, lrAt(i + 1), key) as [JArray, Params, Params, Params];
    await loss.data();
  });
  jax.tree.dispose([p, m, v]);
  return { stepSamplesPerSec: samplesPerSec, note };
};
