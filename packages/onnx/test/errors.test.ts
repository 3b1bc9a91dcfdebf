// Typed errors: layers the exporter cannot express, unbuilt/disposed models, bad options,
// and files that break the checker's structural rules.
import { ArgumentError, FormatError, mul, type Tensor } from '@tessera/core';
import { Dense, input, Layer, layers, model, sequential, type SymbolicTensor } from '@tessera/nn';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkOnnx, exportOnnx, exportOnnxSync, OnnxExportError } from '../src/index.js';
import { encodeModel, type ModelMsg } from '../src/proto/schema.js';
import { expectNoLeak, snapshot, useTestBackend } from './helpers.js';

beforeAll(useTestBackend);

class Doubler extends Layer {
  static override readonly className = 'Doubler';
  call(x: Tensor | Tensor[]): Tensor {
    return mul(x as Tensor, 2);
  }
}

/** A subclass that changes Dense's computation must not be exported as a plain Dense. */
class ScaledDense extends Dense {
  override call(x: Tensor | Tensor[]): Tensor {
    const y = super.call(x);
    const z = mul(y, 3);
    y.dispose();
    return z;
  }
}

async function exportError(m: Parameters<typeof exportOnnx>[0], opts = {}): Promise<unknown> {
  try {
    await exportOnnx(m, opts);
  } catch (e) {
    return e;
  }
  throw new Error('expected exportOnnx to throw');
}

describe('unsupported layers', () => {
  it('a custom layer class gives OnnxExportError naming the layer and its class', async () => {
    const before = snapshot();
    const m = sequential([layers.dense({ units: 3, inputShape: [2] }), new Doubler({ name: 'times_two' })]);
    const e = await exportError(m);
    expect(e).toBeInstanceOf(OnnxExportError);
    expect(e).toMatchObject({ layerName: 'times_two', className: 'Doubler' });
    expect((e as Error).message).toMatch(/times_two.*Doubler.*supported: Dense/);
    expect(() => exportOnnxSync(m)).toThrow(OnnxExportError);
    m.dispose();
    expectNoLeak(before);
  });

  it('a subclass of a supported layer is not mistaken for it', async () => {
    const before = snapshot();
    const m = sequential([new ScaledDense({ units: 2, inputShape: [3], name: 'scaled' })]);
    expect(await exportError(m)).toMatchObject({ layerName: 'scaled', className: 'ScaledDense' });
    m.dispose();
    expectNoLeak(before);
  });

  it('a custom activation function gives OnnxExportError', async () => {
    const before = snapshot();
    const m = sequential([layers.dense({ units: 2, inputShape: [3], activation: (x: Tensor) => mul(x, 2), name: 'odd' })]);
    const e = await exportError(m);
    expect(e).toBeInstanceOf(OnnxExportError);
    expect((e as Error).message).toMatch(/odd.*Dense.*JavaScript function/);
    m.dispose();
    expectNoLeak(before);
  });

  it('dropout or batch statistics forced on with training: true give OnnxExportError', async () => {
    const before = snapshot();
    const x = input({ shape: [4] });
    const d = layers.dropout({ rate: 0.5, name: 'mc_dropout' }).apply(x, { training: true });
    const m1 = model({ inputs: x, outputs: d as SymbolicTensor });
    expect(await exportError(m1)).toMatchObject({ layerName: 'mc_dropout', className: 'Dropout' });
    const y = input({ shape: [4] });
    const bn = layers.batchNormalization({ name: 'bn_train' }).apply(y, { training: true });
    const m2 = model({ inputs: y, outputs: bn as SymbolicTensor });
    expect(await exportError(m2)).toMatchObject({ layerName: 'bn_train', className: 'BatchNormalization' });
    m1.dispose();
    m2.dispose();
    expectNoLeak(before);
  });
});

describe('models and options', () => {
  it('an unbuilt model, a disposed model and a non-model give ArgumentError', async () => {
    const before = snapshot();
    const unbuilt = sequential([layers.dense({ units: 2 })]);
    const e = await exportError(unbuilt);
    expect(e).toBeInstanceOf(ArgumentError);
    expect((e as Error).message).toMatch(/not built/);
    unbuilt.dispose();
    const m = sequential([layers.dense({ units: 2, inputShape: [3] })]);
    m.dispose();
    expect(await exportError(m)).toBeInstanceOf(ArgumentError);
    expect(await exportError({} as never)).toBeInstanceOf(ArgumentError);
    expectNoLeak(before);
  });

  it('bad options give ArgumentError naming the option', async () => {
    const before = snapshot();
    const m = sequential([layers.dense({ units: 2, inputShape: [3] })]);
    const cases: [object, RegExp][] = [
      [{ opset: 16 }, /opset must be an integer from 17 to 21/],
      [{ opset: 17.5 }, /opset/],
      [{ inputNames: ['a', 'b'] }, /inputNames must be 1 non-empty string/],
      [{ outputNames: [''] }, /outputNames/],
      [{ inputNames: ['x'], outputNames: ['x'] }, /also an input name/],
      [{ dynamicBatch: false }, /no fixed batch size; pass batchSize/],
      [{ dynamicBatch: false, batchSize: 0 }, /batchSize must be a positive integer/],
    ];
    for (const [opts, msg] of cases) {
      const e = await exportError(m, opts);
      expect(e, JSON.stringify(opts)).toBeInstanceOf(ArgumentError);
      expect((e as Error).message).toMatch(msg);
    }
    m.dispose();
    expectNoLeak(before);
  });

  it('a fixed-batch model: dynamicBatch false takes its batch size, and a contradicting batchSize is an ArgumentError', async () => {
    const before = snapshot();
    const x = input({ shape: [3], batchSize: 2, name: 'fixed_in' });
    const m = model({ inputs: x, outputs: layers.dense({ units: 4 }).apply(x) as SymbolicTensor });
    const info = checkOnnx(await exportOnnx(m, { dynamicBatch: false }));
    expect(info.inputs[0]!.shape).toEqual([2, 3]);
    expect(info.outputs[0]!.shape).toEqual([2, 4]);
    const e = await exportError(m, { dynamicBatch: false, batchSize: 3 });
    expect(e).toBeInstanceOf(ArgumentError);
    expect((e as Error).message).toMatch(/batchSize 3 contradicts input "fixed_in", whose batch size is fixed at 2/);
    m.dispose();
    expectNoLeak(before);
  });
});

describe('checkOnnx', () => {
  const base = (): ModelMsg => ({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 't',
    producerVersion: '0',
    graph: {
      name: 'g',
      node: [{ name: 'n0', opType: 'Relu', input: ['x'], output: ['y'], attribute: [] }],
      initializer: [],
      input: [{ name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
      output: [{ name: 'y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }] } } } }],
    },
  });

  it('accepts a minimal valid model and reports it', () => {
    expect(checkOnnx(encodeModel(base()))).toMatchObject({ irVersion: 8, opsetVersion: 17, nodeCount: 1, opTypes: { Relu: 1 } });
  });

  it('rejects garbage, a missing opset, undefined inputs, double definitions, unproduced outputs and short raw_data', () => {
    const broken: [string, (m: ModelMsg) => void, RegExp][] = [
      ['no opset', (m) => (m.opsetImport = [{ domain: 'ai.onnx.ml', version: 3 }]), /no opset_import for the default domain/],
      ['undefined input', (m) => (m.graph.node[0]!.input = ['nope']), /reads "nope"/],
      ['out of order', (m) => m.graph.node.unshift({ name: 'n1', opType: 'Relu', input: ['y'], output: ['z'], attribute: [] }), /reads "y"/],
      ['defined twice', (m) => (m.graph.node[0]!.output = ['x']), /"x" .* defined twice/],
      ['unproduced output', (m) => (m.graph.output[0]!.name = 'w'), /graph output "w" is never produced/],
      ['short raw_data', (m) => m.graph.initializer.push({ name: 'k', dims: [2, 3], dataType: 1, rawData: new Uint8Array(20) }), /"k" has 20 bytes of raw_data; .* need 24/],
      ['no ir_version', (m) => (m.irVersion = 0), /ir_version/],
    ];
    for (const [what, breakIt, msg] of broken) {
      const m = base();
      breakIt(m);
      expect(() => checkOnnx(encodeModel(m)), what).toThrow(FormatError);
      expect(() => checkOnnx(encodeModel(m)), what).toThrow(msg);
    }
    expect(() => checkOnnx(new Uint8Array([0xff, 0xff, 0xff, 0x0f, 0x01]))).toThrow(FormatError);
    expect(() => checkOnnx('model.onnx' as never)).toThrow(FormatError);
  });
});
