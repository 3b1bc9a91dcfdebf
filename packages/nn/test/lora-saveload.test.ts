/**
 * A model saved with active (unmerged) LoRA adapters loads back with them: same adapters
 * (paths, rank, alpha, A and B bit-exact), the same predictions, the same weights trainable
 * (sublayer flags included), training that continues exactly as it would have, and `merge()`
 * working afterwards. Damaged adapter entries or tensors are FormatErrors naming them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dispose, FormatError, tensor, type Tensor } from '@tessera/core';
import { fromHostArray, parseSafetensors, type SafeTensor, serializeSafetensors } from '@tessera/data';
import { adam } from '@tessera/optim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyLora, type Dense, input, layers, loadModel, loadModelFromArtifacts, loraAdapterOf, type Model, model, type ModelJson, sequential } from '../src/index.js';
import { crc32 } from '../src/io/crc32.js';
import { blobs, expectNoLeak, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);
const dir = mkdtempSync(path.join(tmpdir(), 'tessera-lora-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));


/** dense h1 → batch norm → dense h2 → softmax head. */
function mlp(): Model {
  const x = input({ shape: [4], name: 'in' });
  const h1 = layers.dense({ units: 8, activation: 'relu', name: 'h1' }).apply(x);
  const bn = layers.batchNormalization({ name: 'bn' }).apply(h1);
  const h2 = layers.dense({ units: 6, activation: 'relu', name: 'h2' }).apply(bn);
  return model({ inputs: x, outputs: layers.dense({ units: 3, activation: 'softmax', name: 'out' }).apply(h2), name: 'mlp' });
}

/** Self-attention over [5, 8] then a Dense head on the last axis. */
function attentionModel(): Model {
  const x = input({ shape: [5, 8], name: 'seq' });
  const h = layers.multiHeadAttention({ numHeads: 2, keyDim: 4, name: 'mha' }).apply(x);
  return model({ inputs: x, outputs: layers.dense({ units: 2, name: 'cls' }).apply(h), name: 'att' });
}

function predict(m: Model, x: Tensor): Float32Array {
  const y = m.predict(x) as Tensor;
  const out = Float32Array.from(y.dataSync());
  y.dispose();
  return out;
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

const values = (t: { value: Tensor }): Float32Array => Float32Array.from(t.value.dataSync());

/** Weight paths (`layer/weight`) of the variables training moves (variable names get process-unique suffixes). */
function trainableNames(m: Model): string[] {
  const t = new Set(m.trainableWeights);
  return m.weightEntries.filter((e) => t.has(e.variable)).map((e) => e.name);
}

/** Artifacts with the weights rebuilt by `edit` (manifest length and CRC updated to match, so only the edit is wrong). */
function withWeights(a: { modelJson: ModelJson; weights: Uint8Array }, edit: (t: Map<string, SafeTensor>) => void): { modelJson: ModelJson; weights: Uint8Array } {
  const file = parseSafetensors(a.weights);
  const tensors = new Map(file.tensors);
  edit(tensors);
  const weights = serializeSafetensors(tensors, file.metadata);
  const json: ModelJson = structuredClone(a.modelJson);
  json.weightsManifest = { ...json.weightsManifest, byteLength: weights.length, crc32: crc32(weights) };
  return { modelJson: json, weights };
}

describe('save / load with active LoRA adapters', () => {
  it('round-trips through files: adapters, predictions, trainable set, optimizer state; training continues identically; merge() works after load', async () => {
    const before = snapshot();
    const m = mlp();
    const { x, labels, y } = blobs();
    labels.dispose();
    const adapters = applyLora(m, { rank: 2, alpha: 4, targets: ['h1', 'h2'], seed: 5 });
    m.compile({ optimizer: adam({ learningRate: 0.02 }), loss: 'categorical_crossentropy' });
    m.compiled!.ownsOptimizer = true;
    await m.fit(x, y, { epochs: 2, batchSize: 16, shuffle: false, verbose: 0 });
    const where = path.join(dir, 'mlp-lora');
    await m.save(where);

    const back = await loadModel(where);
    // The adapters are back: same layers, rank, alpha, A and B bit for bit.
    for (const [i, name] of ['h1', 'h2'].entries()) {
      const ad = loraAdapterOf(back.getLayer(name) as Dense);
      expect(ad).not.toBeNull();
      expect([ad!.rank, ad!.alpha, ad!.active]).toEqual([2, 4, true]);
      expect(values(ad!.a)).toEqual(values(adapters[i]!.a));
      expect(values(ad!.b)).toEqual(values(adapters[i]!.b));
      expect(Array.from(values(ad!.b)).some((v) => v !== 0)).toBe(true); // trained, not fresh zeros
    }
    expect(loraAdapterOf(back.getLayer('out') as Dense)).toBeNull();
    expect(maxAbsDiff(predict(back, x), predict(m, x))).toBeLessThanOrEqual(1e-6);
    // Only the adapters train, in both models; the frozen batch norm stays frozen.
    expect(trainableNames(back)).toEqual(trainableNames(m));
    expect(trainableNames(back)).toHaveLength(4);
    expect(back.getLayer('bn').trainable).toBe(false);

    // Training continues: one more epoch on each gives the same adapters (optimizer state restored) and leaves the base alone.
    const h2 = back.getLayer('h2') as Dense;
    const baseKernel = values(h2.kernel!);
    await m.fit(x, y, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
    await back.fit(x, y, { epochs: 1, batchSize: 16, shuffle: false, verbose: 0 });
    expect(values(h2.kernel!)).toEqual(baseKernel);
    for (const [i, name] of ['h1', 'h2'].entries()) {
      const ad = loraAdapterOf(back.getLayer(name) as Dense)!;
      expect(maxAbsDiff(values(ad.b), values(adapters[i]!.b))).toBeLessThanOrEqual(1e-6);
      expect(maxAbsDiff(values(ad.a), values(adapters[i]!.a))).toBeLessThanOrEqual(1e-6);
    }
    expect(maxAbsDiff(predict(back, x), predict(m, x))).toBeLessThanOrEqual(1e-6);

    // merge() after load folds the update in: the same function from a plain Dense.
    const adapted = predict(back, x);
    for (const name of ['h1', 'h2']) loraAdapterOf(back.getLayer(name) as Dense)!.merge();
    expect(h2.weightEntries.map((w) => w.name)).toEqual(['kernel', 'bias']);
    expect(h2.trainableWeights).toEqual([h2.kernel, h2.bias]); // the base flags saved with the adapter
    expect(maxAbsDiff(predict(back, x), adapted)).toBeLessThanOrEqual(1e-5);
    // A merged model saves without a lora entry and loads as a plain model.
    await back.save(path.join(dir, 'mlp-merged'));
    const merged = await loadModel(path.join(dir, 'mlp-merged'));
    expect(loraAdapterOf(merged.getLayer('h2') as Dense)).toBeNull();
    expect(maxAbsDiff(predict(merged, x), adapted)).toBeLessThanOrEqual(1e-5);

    dispose([x, y]);
    for (const k of [m, back, merged]) k.dispose();
    expectNoLeak(before);
  });

  it('round-trips adapters on attention projections in memory, with the sublayers applyLora froze still frozen', async () => {
    const before = snapshot();
    const m = attentionModel();
    const xs = tensor(Float32Array.from({ length: 2 * 5 * 8 }, (_, i) => Math.sin(i * 0.7)), [2, 5, 8]);
    const ads = applyLora(m, { rank: 2, alpha: 2, targets: /queryDense|valueDense/, seed: 9 });
    // Give B non-zero values so the adapters change the output.
    for (const ad of ads) {
      const v = tensor(Float32Array.from({ length: ad.b.shape[0]! * ad.b.shape[1]! }, (_, i) => 0.05 * Math.cos(i)), [...ad.b.shape]);
      ad.b.assign(v);
      v.dispose();
    }
    const want = predict(m, xs);
    const a = await m.toArtifacts();
    expect(a.modelJson.lora?.adapters).toEqual({
      'mha/queryDense': { rank: 2, alpha: 2, baseTrainable: { kernel: true, bias: true } },
      'mha/valueDense': { rank: 2, alpha: 2, baseTrainable: { kernel: true, bias: true } },
    });
    const back = await loadModelFromArtifacts(a);
    const mha = back.getLayer('mha') as unknown as { queryDense: Dense; keyDense: Dense; valueDense: Dense; outputDense: Dense };
    expect(loraAdapterOf(mha.queryDense)?.rank).toBe(2);
    expect(loraAdapterOf(mha.valueDense)?.rank).toBe(2);
    expect(loraAdapterOf(mha.keyDense)).toBeNull();
    expect(maxAbsDiff(predict(back, xs), want)).toBeLessThanOrEqual(1e-6);
    // keyDense and outputDense were frozen by applyLora; a layer config does not hold its
    // sublayers' flags, so this needs the saved trainable state.
    expect(mha.keyDense.trainable).toBe(false);
    expect(trainableNames(back)).toEqual(trainableNames(m));
    expect(trainableNames(back)).toHaveLength(4);
    // Without adapters there is no lora entry.
    for (const ad of ads) ad.remove();
    expect((await m.toArtifacts()).modelJson.lora).toBeUndefined();
    xs.dispose();
    m.dispose();
    back.dispose();
    expectNoLeak(before);
  });

  it('round-trips a Sequential model with an adapter on every Dense layer', async () => {
    const before = snapshot();
    const m = sequential([layers.dense({ units: 6, activation: 'tanh', inputShape: [4], name: 'd1' }), layers.dense({ units: 3, name: 'd2' })]);
    const ads = applyLora(m, { rank: 1, alpha: 3, seed: 2 });
    for (const ad of ads) {
      const v = tensor(Float32Array.from({ length: ad.b.shape[1]! }, (_, i) => 0.1 * (i + 1)), [...ad.b.shape]);
      ad.b.assign(v);
      v.dispose();
    }
    const { x, labels, y } = blobs(8);
    labels.dispose();
    const back = await loadModelFromArtifacts(await m.toArtifacts());
    expect(['d1', 'd2'].map((n) => loraAdapterOf(back.getLayer(n) as Dense)?.alpha)).toEqual([3, 3]);
    expect(maxAbsDiff(predict(back, x), predict(m, x))).toBeLessThanOrEqual(1e-6);
    expect(trainableNames(back)).toEqual(['d1/lora_a', 'd1/lora_b', 'd2/lora_a', 'd2/lora_b']);
    dispose([x, y]);
    m.dispose();
    back.dispose();
    expectNoLeak(before);
  });

  it('a missing, misshapen or mistyped adapter tensor, or a damaged lora entry, is a FormatError naming it (and leaks nothing)', async () => {
    const m = mlp();
    applyLora(m, { rank: 2, targets: ['h2'], seed: 1 });
    const a = await m.toArtifacts();
    m.dispose();
    const before = snapshot();
    const load = (art: { modelJson: ModelJson; weights: Uint8Array }): Promise<Model> => loadModelFromArtifacts(art);

    await expect(load(withWeights(a, (t) => t.delete('h2/lora_b')))).rejects.toThrow(FormatError);
    await expect(load(withWeights(a, (t) => t.delete('h2/lora_b')))).rejects.toThrow(/lack 'h2\/lora_b'/);
    await expect(load(withWeights(a, (t) => t.set('h2/lora_a', fromHostArray(new Float32Array(6 * 2), [6, 2], 'float32'))))).rejects.toThrow(
      /weight 'h2\/lora_a' has shape \[6,2\] in the file but \[8,2\]/,
    );
    await expect(load(withWeights(a, (t) => t.set('h2/lora_b', fromHostArray(new Int32Array(12), [2, 6], 'int32'))))).rejects.toThrow(/weight 'h2\/lora_b' is int32 in the file/);
    // Damaged bytes inside the adapter tensor (manifest left as saved): the checksum catches them.
    const flipped = { modelJson: a.modelJson, weights: a.weights.slice() };
    const headerLength = Number(new DataView(a.weights.buffer, a.weights.byteOffset).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(a.weights.subarray(8, 8 + headerLength))) as Record<string, { data_offsets: [number, number] }>;
    flipped.weights[8 + headerLength + header['h2/lora_b']!.data_offsets[0] + 1]! ^= 0xff;
    await expect(load(flipped)).rejects.toThrow(/are corrupt: CRC-32/);

    const withLora = (edit: (l: Record<string, unknown>) => void): { modelJson: ModelJson; weights: Uint8Array } => {
      const json: ModelJson = structuredClone(a.modelJson);
      edit(json.lora as unknown as Record<string, unknown>);
      return { modelJson: json, weights: a.weights };
    };
    const adapters = (l: Record<string, unknown>): Record<string, Record<string, unknown>> => l.adapters as Record<string, Record<string, unknown>>;
    await expect(load(withLora((l) => (adapters(l).h2!.rank = 0)))).rejects.toThrow(/adapter for "h2" has rank 0; layer "h2" \(kernel \[8, 6\]\) takes an integer in 1\.\.6/);
    await expect(load(withLora((l) => (adapters(l).h2!.alpha = 'big')))).rejects.toThrow(/adapter for "h2" has alpha "big"/);
    await expect(load(withLora((l) => (adapters(l).h2!.baseTrainable = { kernel: true })))).rejects.toThrow(/adapter for "h2" has baseTrainable/);
    await expect(
      load(
        withLora((l) => {
          adapters(l).nope = adapters(l).h2!;
        }),
      ),
    ).rejects.toThrow(/adapter for "nope", but the model has no Dense layer there/);
    await expect(load(withLora((l) => ((l.trainable as Record<string, unknown>).ghost = true)))).rejects.toThrow(/trainable flag for "ghost"/);
    await expect(load(withLora((l) => (l.frozenWeights = ['h1/nope'])))).rejects.toThrow(/frozen weight "h1\/nope" is not a weight/);
    await expect(load(withLora((l) => delete l.adapters))).rejects.toThrow(FormatError);
    // An adapter listed without its tensors (the weights of a model saved without adapters).
    await expect(load({ modelJson: a.modelJson, weights: a.weights }).then((k) => k.dispose())).resolves.toBeUndefined();
    const json = structuredClone(a.modelJson);
    json.lora = null;
    await expect(load({ modelJson: json, weights: a.weights })).rejects.toThrow(/the weights hold 'h2\/lora_a', which the model does not have/);
    const bad = structuredClone(a.modelJson) as unknown as Record<string, unknown>;
    bad.lora = 'yes';
    await expect(load({ modelJson: bad as unknown as ModelJson, weights: a.weights })).rejects.toThrow(/invalid lora entry/);
    expectNoLeak(before);
  });
});
