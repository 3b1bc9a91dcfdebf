/**
 * Fine-tuning: frozen layers stay bit-identical whichever way training runs (fit, or an
 * optimizer's minimize over "all trainable variables"), a frozen BatchNormalization runs in
 * inference mode, a new model grows from a base model's intermediate output, parameter
 * groups give the base a lower rate, unfreezing and recompiling keeps the weights; LoRA
 * adapters start as a no-op, train only A and B, merge exactly and save/load alone.
 */
import { variableGrads } from '@tessera/autograd';
import { ArgumentError, dispose, FormatError, matmul, mul, add, oneHot, ShapeError, tensor, type Tensor } from '@tessera/core';
import { serializeSafetensors } from '@tessera/data';
import { Adam, adam, sgd } from '@tessera/optim';
import { meanSquaredError } from '@tessera/losses';
import { beforeAll, describe, expect, it } from 'vitest';
import { applyLora, type Dense, input, layers, loadLoraAdapters, loraAdapter, loraAdapterOf, loraTargets, model, type Model, saveLoraAdapters, sequential } from '../src/index.js';
import { blobs, expectNoLeak, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);


/** Exact copies of the weight values (Float32Array: compared bit for bit). */
function valuesOf(ws: { value: Tensor }[]): Float32Array[] {
  return ws.map((w) => Float32Array.from(w.value.dataSync()));
}

function base(): Model {
  const x = input({ shape: [4], name: 'in' });
  const h1 = layers.dense({ units: 8, activation: 'relu', name: 'h1' }).apply(x);
  const bn = layers.batchNormalization({ name: 'bn' }).apply(h1);
  const h2 = layers.dense({ units: 6, activation: 'relu', name: 'h2' }).apply(bn);
  const out = layers.dense({ units: 3, activation: 'softmax', name: 'out' }).apply(h2);
  return model({ inputs: x, outputs: out, name: 'base' });
}

describe('freezing and fine-tuning', () => {
  it('model.layers and getLayer(name | index); errors name the choices', () => {
    const m = base();
    expect(m.layers.map((l) => l.name)).toEqual(['in', 'h1', 'bn', 'h2', 'out']);
    expect(m.getLayer('h2')).toBe(m.layers[3]);
    expect(m.getLayer(1).name).toBe('h1');
    expect(() => m.getLayer('nope')).toThrow(/no layer named "nope" \(layers: in, h1, bn, h2, out\)/);
    expect(() => m.getLayer(9)).toThrow(ArgumentError);
    m.dispose();
  });

  it('trainable = false reaches the variables: minimize() over all trainable variables leaves frozen weights bit-identical', () => {
    const before = snapshot();
    const m = base();
    const { x, labels, y } = blobs();
    const h1 = m.getLayer('h1');
    h1.trainable = false;
    expect(h1.weights.every((v) => !v.trainable)).toBe(true);
    const frozen = valuesOf(h1.weights);
    const head = valuesOf(m.getLayer('out').weights);
    const opt = sgd({ learningRate: 0.5 });
    for (let s = 0; s < 3; s++) opt.minimize(() => meanSquaredError(y, m.apply(x) as Tensor)).dispose(); // default: every trainable variable
    expect(valuesOf(h1.weights)).toEqual(frozen);
    expect(valuesOf(m.getLayer('out').weights)).not.toEqual(head);
    h1.trainable = true;
    expect(h1.weights.every((v) => v.trainable)).toBe(true);
    opt.dispose();
    dispose([x, labels, y]);
    m.dispose();
    expectNoLeak(before);
  });

  it('fit: a frozen base is bit-identical afterwards; a frozen BatchNormalization runs in inference mode', async () => {
    const before = snapshot();
    const m = base();
    const { x, labels, y } = blobs();
    const bn = m.getLayer('bn');
    // Non-trivial moving statistics, so inference and batch statistics differ.
    m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' });
    await m.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
    for (const name of ['h1', 'bn', 'h2']) m.getLayer(name).trainable = false;
    expect(m.trainableWeights).toHaveLength(2);
    const frozen = valuesOf(['h1', 'bn', 'h2'].flatMap((n) => m.getLayer(n).weights));
    // Frozen BN: training-mode output equals inference-mode output.
    const h = m.getLayer('h1').apply(x) as Tensor;
    const tr = bn.apply(h, { training: true }) as Tensor;
    const inf = bn.apply(h, { training: false }) as Tensor;
    expect(Array.from(tr.dataSync())).toEqual(Array.from(inf.dataSync()));
    dispose([h, tr, inf]);
    const opt = adam({ learningRate: 0.01 }); // an optimizer instance stays the caller's to dispose
    m.compile({ optimizer: opt, loss: 'categorical_crossentropy' });
    await m.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0 });
    expect(valuesOf(['h1', 'bn', 'h2'].flatMap((n) => m.getLayer(n).weights))).toEqual(frozen);
    opt.dispose();
    dispose([x, labels, y]);
    m.dispose();
    expectNoLeak(before);
  });

  it('a new functional model from an intermediate output shares the base layers; unfreeze + recompile keeps the weights', async () => {
    const before = snapshot();
    const b = base();
    const { x, labels, y } = blobs();
    b.compile({ optimizer: 'adam', loss: 'categorical_crossentropy' });
    await b.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
    b.trainable = false;
    const feat = b.getLayer('h2').output as ReturnType<typeof input>;
    const head = layers.dense({ units: 2, activation: 'softmax', name: 'new_head' });
    const ft = model({ inputs: b.inputs, outputs: head.apply(feat) });
    expect(ft.layers.map((l) => l.name)).toEqual(['in', 'h1', 'bn', 'h2', 'new_head']);
    expect(ft.getLayer('h1')).toBe(b.getLayer('h1'));
    expect(ft.trainableWeights).toEqual(head.weights);
    const l2 = tensor(Int32Array.from({ length: 48 }, (_, i) => (i % 3 === 0 ? 1 : 0)), [48], 'int32');
    const y2 = oneHot(l2, 2);
    const baseVals = valuesOf(b.weights);
    const opt1 = adam({ learningRate: 0.01 });
    ft.compile({ optimizer: opt1, loss: 'categorical_crossentropy' });
    await ft.fit(x, y2, { epochs: 3, batchSize: 16, verbose: 0 });
    expect(valuesOf(b.weights)).toEqual(baseVals);
    // Unfreeze the base and recompile with a lower rate: the weights stay, training continues.
    for (const n of ['h1', 'h2']) ft.getLayer(n).trainable = true;
    const afterHead = valuesOf(ft.weights);
    const h1Before = valuesOf(ft.getLayer('h1').weights);
    const opt2 = adam({ learningRate: 1e-4 });
    ft.compile({ optimizer: opt2, loss: 'categorical_crossentropy' });
    expect(valuesOf(ft.weights)).toEqual(afterHead);
    expect(ft.trainableWeights.length).toBe(6);
    const h = await ft.fit(x, y2, { epochs: 2, batchSize: 16, verbose: 0 });
    expect(valuesOf(ft.getLayer('h1').weights)).not.toEqual(h1Before); // the unfrozen base moved
    expect(Number.isFinite(h.history.loss![1]!)).toBe(true);
    dispose([x, labels, y, l2, y2]);
    opt1.dispose();
    opt2.dispose();
    ft.dispose(); // disposes the shared base layers too
    b.dispose(); // the old head and b's own optimizer
    expectNoLeak(before);
  });

  it('parameter groups in compile: the base at rate 0 stays bit-identical while the head trains', async () => {
    const before = snapshot();
    const m = base();
    const { x, labels, y } = blobs();
    const baseWeights = ['h1', 'h2'].flatMap((n) => m.getLayer(n).trainableWeights);
    const vals = valuesOf(baseWeights);
    const head = valuesOf(m.getLayer('out').weights);
    const opt = new Adam({ learningRate: 0.01, paramGroups: [{ params: baseWeights, learningRateScale: 0 }] });
    m.compile({ optimizer: opt, loss: 'categorical_crossentropy' });
    await m.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
    expect(valuesOf(baseWeights)).toEqual(vals);
    expect(valuesOf(m.getLayer('out').weights)).not.toEqual(head);
    opt.dispose();
    dispose([x, labels, y]);
    m.dispose();
    expectNoLeak(before);
  });
});

describe('LoRA', () => {
  function predict(m: Model, x: Tensor): Float32Array {
    const y = m.predict(x) as Tensor;
    const out = Float32Array.from(y.dataSync());
    y.dispose();
    return out;
  }

  it('starts as a no-op (B = 0), trains only A and B, and merge() folds scale·A·B into the kernel', async () => {
    const before = snapshot();
    const m = base();
    const { x, labels, y } = blobs();
    const h2 = m.getLayer('h2') as Dense;
    const out0 = predict(m, x);
    for (const l of m.layers) l.trainable = false;
    h2.trainable = true;
    const ad = loraAdapter(h2, { rank: 2, alpha: 4, seed: 1 });
    expect(ad.scale).toBe(2);
    expect(loraAdapterOf(h2)).toBe(ad);
    expect(Array.from(ad.b.value.dataSync()).every((v) => v === 0)).toBe(true);
    expect(predict(m, x)).toEqual(out0); // bit-identical at the start
    expect(m.trainableWeights).toEqual([ad.a, ad.b]);
    const kernel = valuesOf([h2.kernel!, h2.bias!]);
    const opt = adam({ learningRate: 0.02 });
    m.compile({ optimizer: opt, loss: 'categorical_crossentropy' });
    await m.fit(x, y, { epochs: 3, batchSize: 16, verbose: 0 });
    opt.dispose();
    expect(valuesOf([h2.kernel!, h2.bias!])).toEqual(kernel);
    expect(Array.from(ad.b.value.dataSync()).some((v) => v !== 0)).toBe(true);
    const adapted = predict(m, x);
    expect(adapted).not.toEqual(out0);
    // merge: kernel == K + scale·A·B, and the model computes the same function.
    const want = (() => {
      const ab = matmul(ad.a.value, ad.b.value);
      const s = mul(ab, ad.scale);
      const k = add(h2.kernel!.value, s);
      const r = Float32Array.from(k.dataSync());
      dispose([ab, s, k]);
      return r;
    })();
    ad.merge();
    expect(ad.active).toBe(false);
    expect(loraAdapterOf(h2)).toBeNull();
    expect(Float32Array.from(h2.kernel!.value.dataSync())).toEqual(want);
    expect(h2.weightEntries.map((w) => w.name)).toEqual(['kernel', 'bias']);
    expect(h2.trainableWeights).toEqual([h2.kernel, h2.bias]); // base flags restored
    const merged = predict(m, x);
    merged.forEach((v, i) => expect(v).toBeCloseTo(adapted[i]!, 5));
    expect(() => ad.a).toThrow(/was merged or removed/);
    dispose([x, labels, y]);
    m.dispose();
    expectNoLeak(before);
  });

  it('adapters save and load alone (safetensors) into a copy of the base; remove() restores the base', async () => {
    const before = snapshot();
    const m = base();
    const { x, labels, y } = blobs();
    const adapters = applyLora(m, { rank: 2, targets: ['h1', 'h2'], seed: 3 });
    expect(adapters.map((a) => a.layer.name)).toEqual(['h1', 'h2']);
    expect(m.trainableWeights).toHaveLength(4);
    const opt = adam({ learningRate: 0.02 });
    m.compile({ optimizer: opt, loss: 'categorical_crossentropy' });
    await m.fit(x, y, { epochs: 2, batchSize: 16, verbose: 0 });
    opt.dispose();
    const want = predict(m, x);
    const bytes = await saveLoraAdapters(m);
    expect(bytes.length).toBeLessThan(2000);
    // A copy of the base (same weights, no adapters) gets the adapters from the file.
    const copy = base();
    for (const n of ['h1', 'bn', 'h2', 'out']) {
      const src = m.getLayer(n).weightEntries.filter((w) => !w.name.startsWith('lora_')).map((w) => w.variable.value);
      copy.getLayer(n).setWeights(src);
    }
    const loaded = loadLoraAdapters(copy, bytes);
    expect(loaded.map((a) => [a.layer.name, a.rank, a.alpha])).toEqual([['h1', 2, 2], ['h2', 2, 2]]);
    predict(copy, x).forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
    // remove(): back to the base function
    for (const a of loaded) a.remove();
    const plain = predict(copy, x);
    for (const a of adapters) a.remove();
    expect(predict(m, x)).toEqual(plain);
    dispose([x, labels, y]);
    m.dispose();
    copy.dispose();
    expectNoLeak(before);
  });

  it('reaches Dense sublayers (attention projections) by path', () => {
    const before = snapshot();
    const x = input({ shape: [5, 8] });
    const mha = layers.multiHeadAttention({ numHeads: 2, keyDim: 4, name: 'mha' });
    const m = model({ inputs: x, outputs: layers.dense({ units: 2, name: 'cls' }).apply(mha.apply(x)) });
    const paths = [...loraTargets(m).keys()];
    expect(paths).toEqual(expect.arrayContaining(['mha/queryDense', 'mha/keyDense', 'mha/valueDense', 'mha/outputDense', 'cls']));
    const xs = tensor(Float32Array.from({ length: 2 * 5 * 8 }, (_, i) => Math.sin(i)), [2, 5, 8]);
    const y0 = predict(m, xs);
    const ads = applyLora(m, { rank: 2, targets: /queryDense|valueDense/ });
    expect(ads).toHaveLength(2);
    expect(m.trainableWeights.map((v) => v.name).sort()).toEqual([ads[0]!.a.name, ads[0]!.b.name, ads[1]!.a.name, ads[1]!.b.name].sort());
    expect(predict(m, xs)).toEqual(y0);
    for (const a of ads) a.remove();
    xs.dispose();
    m.dispose();
    expectNoLeak(before);
  });

  it('bad arguments and files raise typed errors naming the layer', async () => {
    const before = snapshot();
    const m = base();
    const h2 = m.getLayer('h2') as Dense;
    expect(() => loraAdapter(h2, { rank: 0 })).toThrow(/rank must be a positive integer/);
    expect(() => loraAdapter(h2, { rank: 7 })).toThrow(/rank 7 exceeds min\(in, out\) = 6 of layer "h2"/);
    expect(() => loraAdapter(m.getLayer('bn') as never, { rank: 1 })).toThrow(/expected a Dense layer/);
    expect(() => loraAdapter(layers.dense({ units: 3 }), { rank: 1 })).toThrow(/is not built yet/);
    const ad = loraAdapter(h2, { rank: 1 });
    expect(() => loraAdapter(h2, { rank: 1 })).toThrow(/already has a LoRA adapter/);
    const bytes = await saveLoraAdapters(m);
    ad.remove();
    await expect(saveLoraAdapters(m)).rejects.toThrow(/has no active LoRA adapter/);
    expect(() => loadLoraAdapters(m, serializeSafetensors({}))).toThrow(FormatError);
    const other = sequential([layers.dense({ units: 6, inputShape: [8], name: 'zz' })]);
    expect(() => loadLoraAdapters(other, bytes)).toThrow(/adapter for "h2": the model has no Dense layer there/);
    const wrong = sequential([layers.dense({ units: 5, inputShape: [8], name: 'h2' })]);
    expect(() => loadLoraAdapters(wrong, bytes)).toThrow(ShapeError);
    expect(loraAdapterOf(wrong.getLayer('h2') as Dense)).toBeNull(); // nothing attached by a failed load
    expect(() => applyLora(m, { rank: 1, targets: ['nope'] })).toThrow(/no Dense layer at path "nope"/);
    m.dispose();
    other.dispose();
    wrong.dispose();
    expectNoLeak(before);
  });
});
