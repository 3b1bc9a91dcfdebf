import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { dispose, FormatError, randomNormal, randomUniform, type Tensor } from '@tessera/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { input, layers, loadModel, loadModelFromArtifacts, type Model, model, sequential } from '../src/index.js';
import { expectNoLeak, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);
const dir = mkdtempSync(path.join(tmpdir(), 'tessera-nn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function bytesOf(t: Tensor): Buffer {
  const d = t.dataSync();
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
}

/** Asserts two models have bit-identical weights (same names, shapes, bytes). */
function expectSameWeights(a: Model, b: Model): void {
  const ea = a.weightEntries;
  const eb = b.weightEntries;
  expect(eb.map((e) => e.name)).toEqual(ea.map((e) => e.name));
  ea.forEach((e, i) => {
    expect(eb[i]!.variable.shape).toEqual(e.variable.shape);
    expect(bytesOf(eb[i]!.variable.value).equals(bytesOf(e.variable.value))).toBe(true);
  });
}

function mlp(): Model {
  const m = sequential([layers.flatten({ inputShape: [4, 4] }), layers.dense({ units: 8, activation: 'relu' }), layers.dropout({ rate: 0.3 }), layers.dense({ units: 3, activation: 'softmax' })]);
  m.compile({ optimizer: 'adam', loss: 'categorical_crossentropy', metrics: ['accuracy'] });
  return m;
}

describe('save / load', () => {
  it('round-trips a Sequential model through files bit-exactly (weights, predictions, training config)', async () => {
    const before = snapshot();
    const m = mlp();
    const where = path.join(dir, 'mlp');
    await m.save(where);
    const files = readdirSync(where).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toBe('model.json');
    expect(files[1]).toMatch(/^weights-[0-9a-f]{8}\.safetensors$/);
    const back = await loadModel(where);
    expect(back.className).toBe('Sequential');
    expectSameWeights(m, back);
    const x = randomUniform([5, 4, 4], { seed: 3 });
    const ya = m.predict(x) as Tensor;
    const yb = back.predict(x) as Tensor;
    expect(bytesOf(yb).equals(bytesOf(ya))).toBe(true);
    expect(back.optimizer).not.toBeNull();
    expect(back.metricsNames).toEqual(['loss', 'accuracy']);
    // Saving again (new weights) replaces the weights file and leaves no temporary files.
    const old = m.layers[1]!.getWeights();
    const fresh = old.map((w) => randomNormal(w.shape, { seed: 9 }));
    m.layers[1]!.setWeights(fresh);
    dispose([...old, ...fresh]);
    await m.save(where);
    const again = readdirSync(where).sort();
    expect(again).toHaveLength(2);
    expect(again[1]).not.toBe(files[1]);
    const third = await loadModel(path.join(where, 'model.json'));
    expectSameWeights(m, third);
    dispose([x, ya, yb]);
    for (const mm of [m, back, third]) mm.dispose();
    expectNoLeak(before);
  });

  it('round-trips a functional model with two inputs, two outputs, conv, batch norm and embedding in memory', async () => {
    const before = snapshot();
    const img = input({ shape: [6, 6, 2], name: 'image' });
    const tok = input({ shape: [3], name: 'tokens', dtype: 'int32' });
    let h = layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }).apply(img);
    h = layers.batchNormalization().apply(h);
    h = layers.depthwiseConv2d({ kernelSize: 3 }).apply(h);
    h = layers.maxPooling2d({ poolSize: 2 }).apply(h);
    h = layers.globalAveragePooling2d().apply(h);
    const e = layers.flatten().apply(layers.embedding({ inputDim: 10, outputDim: 2 }).apply(tok));
    const merged = layers.concatenate().apply([h, e]);
    const out1 = layers.dense({ units: 3, activation: 'softmax', name: 'cls' }).apply(merged);
    const out2 = layers.dense({ units: 1, name: 'reg' }).apply(layers.layerNormalization().apply(merged));
    const m = model({ inputs: [img, tok], outputs: [out1, out2] });
    m.compile({ optimizer: 'sgd', loss: ['categorical_crossentropy', 'mse'], metrics: { cls: ['accuracy'] } });
    const art = await m.toArtifacts();
    const back = await loadModelFromArtifacts({ modelJson: JSON.stringify(art.modelJson), weights: art.weights });
    expect(back.className).toBe('Functional');
    expect(back.inputNames).toEqual(['image', 'tokens']);
    expect(back.outputNames).toEqual(['cls', 'reg']);
    expectSameWeights(m, back);
    const xi = randomUniform([2, 6, 6, 2], { seed: 1 });
    const xt = randomUniform([2, 3], { min: 0, max: 10, dtype: 'int32', seed: 2 });
    const ya = m.predict([xi, xt]) as Tensor[];
    const yb = back.predict({ image: xi, tokens: xt }) as Tensor[];
    ya.forEach((t, i) => expect(bytesOf(yb[i]!).equals(bytesOf(t))).toBe(true));
    dispose([xi, xt, ...ya, ...yb]);
    m.dispose();
    back.dispose();
    expectNoLeak(before);
  });

  it('rejects truncated or corrupt files with a FormatError', async () => {
    const before = snapshot();
    const m = mlp();
    const where = path.join(dir, 'broken');
    await m.save(where);
    const weightsFile = path.join(where, readdirSync(where).find((f) => f.startsWith('weights-'))!);
    const jsonFile = path.join(where, 'model.json');
    const weights = readFileSync(weightsFile);
    const json = readFileSync(jsonFile);

    writeFileSync(weightsFile, weights.subarray(0, weights.length - 7));
    await expect(loadModel(where)).rejects.toThrow(FormatError);
    await expect(loadModel(where)).rejects.toThrow(/truncated/);

    const flipped = Buffer.from(weights);
    flipped[flipped.length - 3] ^= 0xff;
    writeFileSync(weightsFile, flipped);
    await expect(loadModel(where)).rejects.toThrow(/corrupt: CRC-32/);

    writeFileSync(weightsFile, weights);
    writeFileSync(jsonFile, json.subarray(0, Math.floor(json.length / 2)));
    await expect(loadModel(where)).rejects.toThrow(FormatError);
    await expect(loadModel(where)).rejects.toThrow(/not valid JSON/);

    writeFileSync(jsonFile, json);
    rmSync(weightsFile);
    await expect(loadModel(where)).rejects.toThrow(/is missing/);

    const art = await m.toArtifacts();
    await expect(loadModelFromArtifacts({ modelJson: art.modelJson, weights: art.weights.subarray(0, 20) })).rejects.toThrow(FormatError);
    const bad = { ...art.modelJson, weightsManifest: { ...art.modelJson.weightsManifest, crc32: (await import('../src/index.js')).crc32(new Uint8Array(0)) } };
    await expect(loadModelFromArtifacts({ modelJson: bad, weights: art.weights })).rejects.toThrow(FormatError);
    await expect(loadModelFromArtifacts({ modelJson: '{"format":"other"}', weights: art.weights })).rejects.toThrow(/not a Tessera model/);
    m.dispose();
    expectNoLeak(before);
  });
});
