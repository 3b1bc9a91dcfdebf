/**
 * PyTorch state_dicts (made by test/fixtures/make-torch-fixtures.py with PyTorch 1.13, saved
 * as safetensors) load into the matching Tessera models — names mapped, layouts converted —
 * and reproduce PyTorch's outputs; every unmatched, missing or mis-shaped tensor is reported
 * by name.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dispose, FormatError, tensor, type Tensor } from '@tessera/core';
import { parseSafetensors, type SafeTensor, serializeSafetensors, toHostArray } from '@tessera/data';
import { beforeAll, describe, expect, it } from 'vitest';
import { input, layers, loadStateDict, loadStateDictFile, model, type Model, sequential } from '../src/index.js';
import { expectNoLeak, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(fixture(name)));
const io = (name: string): Map<string, SafeTensor> => parseSafetensors(read(`${name}.io.safetensors`)).tensors;

function hostTensor(t: SafeTensor): Tensor {
  const h = toHostArray(t);
  return tensor(h.data as Float32Array | Int32Array, t.shape, h.dtype);
}

/** Runs `m` on the stored input and checks PyTorch's stored output within 1e-5. */
function expectReproduces(m: Model, name: string, inputName = 'x'): void {
  const t = io(name);
  const x = hostTensor(t.get(inputName)!);
  const y = m.predict(x) as Tensor;
  const want = toHostArray(t.get('y')!).data as Float32Array;
  expect(y.shape).toEqual(t.get('y')!.shape);
  const got = y.dataSync();
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  expect(worst).toBeLessThan(1e-5);
  dispose([x, y]);
}

const mlp = () =>
  sequential([
    layers.dense({ units: 16, activation: 'relu', inputShape: [8] }),
    layers.dense({ units: 12, activation: 'tanh' }),
    layers.dense({ units: 4 }),
  ]);

function named(): Model {
  const x = input({ shape: [6] });
  const h = layers.dense({ units: 10, name: 'fc1' }).apply(x);
  const n = layers.layerNormalization({ epsilon: 1e-5, name: 'norm' }).apply(h);
  const r = layers.activation({ activation: 'relu' }).apply(n);
  return model({ inputs: x, outputs: layers.dense({ units: 3, name: 'fc2' }).apply(r) });
}

const cnn = () =>
  sequential([
    layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', inputShape: [8, 8, 3] }),
    layers.batchNormalization({ epsilon: 1e-5 }),
    layers.activation({ activation: 'relu' }),
    layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', activation: 'relu' }),
    layers.globalAveragePooling2d(),
    layers.dense({ units: 3 }),
  ]);

describe('loadStateDict reproduces PyTorch outputs', () => {
  it('nn.Sequential MLP ("0.weight", "2.weight", ...): matched in order, Linear weights transposed', () => {
    const before = snapshot();
    const m = mlp();
    const report = loadStateDict(m, read('mlp.safetensors'));
    expect(report.loaded.map((l) => l.source)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias', '4.weight', '4.bias']);
    expect(report.loaded[0]!.target).toBe(`${m.layers[0]!.name}/kernel`);
    expect(report.unexpected).toEqual([]);
    expect(report.missing).toEqual([]);
    expectReproduces(m, 'mlp');
    m.dispose();
    expectNoLeak(before);
  });

  it('named modules (fc1, norm, fc2) match layers of the same name, LayerNorm included', () => {
    const before = snapshot();
    const m = named();
    const report = loadStateDict(m, read('named.safetensors'));
    expect(report.loaded.map((l) => `${l.source}->${l.target}`)).toContain('norm.weight->norm/gamma');
    expectReproduces(m, 'named');
    m.dispose();
    expectNoLeak(before);
  });

  it('F16 and BF16 state_dicts are converted to float32 (outputs of the rounded weights)', () => {
    const before = snapshot();
    const file = parseSafetensors(read('named_half.safetensors'));
    expect(file.tensors.get('fc1.weight')!.dtype).toBe('F16');
    expect(file.tensors.get('fc2.weight')!.dtype).toBe('BF16');
    const m = named();
    loadStateDict(m, file);
    expectReproduces(m, 'named_half');
    m.dispose();
    expectNoLeak(before);
  });

  it('CNN: Conv2d OIHW -> HWIO, BatchNorm running statistics, depthwise Conv2d (groups = channels), num_batches_tracked skipped', () => {
    const before = snapshot();
    const m = cnn();
    const report = loadStateDict(m, read('cnn.safetensors'));
    expect(report.skipped).toEqual(['1.num_batches_tracked']);
    expect(report.loaded.map((l) => l.target.split('/')[1])).toEqual(['kernel', 'bias', 'gamma', 'beta', 'moving_mean', 'moving_variance', 'depthwise_kernel', 'bias', 'kernel', 'bias']);
    expectReproduces(m, 'cnn');
    m.dispose();
    expectNoLeak(before);
  });

  it('Embedding + per-token Linear on int32 ids', () => {
    const before = snapshot();
    const m = sequential([layers.embedding({ inputDim: 12, outputDim: 5, inputShape: [7], dtype: 'int32' }), layers.dense({ units: 3 })]);
    loadStateDict(m, read('embedding.safetensors'));
    expectReproduces(m, 'embedding', 'ids');
    m.dispose();
    expectNoLeak(before);
  });

  it('loadStateDictFile reads the file from disk', async () => {
    const before = snapshot();
    const m = mlp();
    const report = await loadStateDictFile(m, fixture('mlp.safetensors'));
    expect(report.loaded).toHaveLength(6);
    expectReproduces(m, 'mlp');
    m.dispose();
    expectNoLeak(before);
  });
});

describe('loadStateDict reports every problem by name', () => {
  const weightsOf = (m: Model): number[][] => {
    const ws = m.getWeights();
    const out = ws.map((w) => Array.from(w.dataSync()));
    dispose(ws);
    return out;
  };

  it('strict: mis-shaped, unexpected and missing tensors all listed, nothing loaded', () => {
    const before = snapshot();
    const m = sequential([layers.dense({ units: 16, inputShape: [8] }), layers.dense({ units: 5 })]);
    const w0 = weightsOf(m);
    let err: unknown;
    try {
      loadStateDict(m, read('mlp.safetensors'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/mis-matched: "2\.weight" -> dense_\d+\/kernel: shape \[12, 16\]; layer "dense_\d+" weight 'kernel' \[16, 5\] needs PyTorch shape \[5, 16\]/);
    expect(msg).toMatch(/mis-matched: "2\.bias" -> dense_\d+\/bias: shape \[12\]/);
    expect(msg).toMatch(/unexpected: "4\.weight"/);
    expect(msg).toMatch(/unexpected: "4\.bias"/);
    expect(msg).toMatch(/nothing was loaded/);
    expect(weightsOf(m)).toEqual(w0);
    m.dispose();
    expectNoLeak(before);
  });

  it('non-strict: loads what fits and returns the report; missing weights named', () => {
    const before = snapshot();
    const m = sequential([layers.dense({ units: 16, inputShape: [8], name: 'a' }), layers.dense({ units: 12, name: 'b' }), layers.dense({ units: 4, name: 'c' }), layers.dense({ units: 2, name: 'd' })]);
    const report = loadStateDict(m, read('mlp.safetensors'), { strict: false });
    expect(report.loaded).toHaveLength(6);
    expect(report.missing).toEqual(['d/kernel', 'd/bias']);
    m.dispose();
    expectNoLeak(before);
  });

  it('an explicit mapping (by module prefix or full name, null skips) places tensors anywhere', () => {
    const before = snapshot();
    const m = mlp();
    const [l0, l1, l2] = m.layers.map((l) => l.name);
    const report = loadStateDict(m, read('mlp.safetensors'), { mapping: { '0': l0!, '2.weight': `${l1}/kernel`, '2.bias': `${l1}/bias`, '4': l2! } });
    expect(report.loaded).toHaveLength(6);
    expectReproduces(m, 'mlp');
    // 2.* sent to the last layer ([12, 4] kernel): mis-shaped; 4.* skipped; so the last layer is missing nothing but mis-set
    const f = loadStateDict(m, read('mlp.safetensors'), { mapping: (n) => (n.startsWith('4.') ? null : n.startsWith('0.') ? l0! : l2!), strict: false });
    expect(f.skipped).toEqual(['4.weight', '4.bias']);
    expect(f.mismatched.map((x) => `${x.source}->${x.target}`)).toEqual([`2.weight->${l2}/kernel`, `2.bias->${l2}/bias`]);
    expect(f.missing).toEqual([`${l1}/kernel`, `${l1}/bias`]);
    m.dispose();
    expectNoLeak(before);
  });

  it('wrong kinds: a conv weight into a Dense, an unknown parameter, integer dtype, a grouped conv into Conv2D', () => {
    const before = snapshot();
    const f32 = (shape: number[]): SafeTensor => ({ dtype: 'F32', shape, data: new Uint8Array(shape.reduce((a, b) => a * b, 1) * 4) });
    const m = sequential([layers.dense({ units: 2, inputShape: [3], name: 'fc' })]);
    const r = loadStateDict(m, { 'fc.weight': f32([2, 3, 1, 1]), 'fc.scale': f32([2]), 'fc.bias': { dtype: 'I32', shape: [2], data: new Uint8Array(8) } }, { strict: false });
    expect(r.mismatched.map((x) => `${x.source}: ${x.reason}`)).toEqual([
      expect.stringMatching(/^fc\.scale: layer "fc" \(Dense\) has no weight for PyTorch parameter 'scale'/),
      expect.stringMatching(/^fc\.weight: shape \[2, 3, 1, 1\]; layer "fc" weight 'kernel' \[3, 2\] needs PyTorch shape \[2, 3\]/),
      expect.stringMatching(/^fc\.bias: dtype I32 is not a floating-point type/),
    ]);
    const c = sequential([layers.conv2d({ filters: 4, kernelSize: 3, inputShape: [5, 5, 4], name: 'conv' })]);
    const g = loadStateDict(c, { 'conv.weight': f32([4, 1, 3, 3]), 'conv.bias': f32([4]) }, { strict: false });
    expect(g.mismatched[0]!.reason).toMatch(/grouped Conv2d, groups = 4; map it to a DepthwiseConv2D/);
    m.dispose();
    c.dispose();
    expectNoLeak(before);
  });

  it('malformed files and bad arguments raise typed errors', () => {
    const m = mlp();
    const bytes = read('mlp.safetensors');
    expect(() => loadStateDict(m, bytes.subarray(0, 100))).toThrow(FormatError);
    expect(() => loadStateDict(m, null as never)).toThrow(/expected safetensors bytes/);
    expect(() => loadStateDict(m, bytes, { mapping: { '0': 'nope' } })).toThrow(/"nope" is neither a layer with weights nor a weight of the model/);
    const unbuilt = sequential([layers.dense({ units: 2 })]);
    expect(() => loadStateDict(unbuilt, bytes)).toThrow(/is not built/);
    const empty = serializeSafetensors({});
    expect(() => loadStateDict(m, empty)).toThrow(/missing: weight dense_\d+\/kernel is set by no tensor/);
    m.dispose();
    unbuilt.dispose();
  });
});

describe('loadStateDict into composite layers', () => {
  it('attention projections are reachable by path (a split nn.MultiheadAttention in_proj)', () => {
    const before = snapshot();
    const x = input({ shape: [3, 4] });
    const mha = layers.multiHeadAttention({ numHeads: 2, keyDim: 2, name: 'mha' });
    const m = model({ inputs: x, outputs: mha.apply(x) });
    const f = (shape: number[], base: number): SafeTensor => {
      const n = shape.reduce((a, b) => a * b, 1);
      return { dtype: 'F32', shape, data: new Uint8Array(Float32Array.from({ length: n }, (_, i) => base + i).buffer) };
    };
    // PyTorch packs q, k, v as in_proj_weight [3E, E]; split it into three Linear-shaped tensors.
    const sd: Record<string, SafeTensor> = {};
    ['q', 'k', 'v', 'out'].forEach((p, i) => {
      sd[`attn.${p}.weight`] = f([4, 4], 100 * i);
      sd[`attn.${p}.bias`] = f([4], 100 * i + 50);
    });
    const report = loadStateDict(m, sd, { mapping: { 'attn.q': 'mha/queryDense', 'attn.k': 'mha/keyDense', 'attn.v': 'mha/valueDense', 'attn.out': 'mha/outputDense' } });
    expect(report.loaded).toHaveLength(8);
    const k = mha.keyDense!.kernel!.value.dataSync();
    // kernel[i][o] = weight[o][i] = 100 + 4o + i
    expect(k[1 * 4 + 2]).toBe(100 + 4 * 2 + 1);
    expect(Array.from(mha.outputDense!.bias!.value.dataSync())).toEqual([350, 351, 352, 353]);
    expect(report.pairedByOrder).toEqual([]);
    // Without a mapping, numbered modules pair up with the projections in order (and say so).
    const numbered = Object.fromEntries(Object.entries(sd).map(([k, v]) => [k.replace('attn.q', '0').replace('attn.k', '1').replace('attn.v', '2').replace('attn.out', '3'), v]));
    const byOrder = loadStateDict(m, numbered);
    expect(byOrder.loaded.map((l) => `${l.source}->${l.target}`)).toEqual([
      '0.weight->mha/queryDense/kernel', '0.bias->mha/queryDense/bias', '1.weight->mha/keyDense/kernel', '1.bias->mha/keyDense/bias',
      '2.weight->mha/valueDense/kernel', '2.bias->mha/valueDense/bias', '3.weight->mha/outputDense/kernel', '3.bias->mha/outputDense/bias',
    ]);
    expect(byOrder.pairedByOrder).toEqual([{ module: '0', layer: 'mha/queryDense' }, { module: '1', layer: 'mha/keyDense' }, { module: '2', layer: 'mha/valueDense' }, { module: '3', layer: 'mha/outputDense' }]);
    m.dispose();
    expectNoLeak(before);
  });
});
