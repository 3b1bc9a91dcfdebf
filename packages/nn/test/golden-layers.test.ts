/**
 * Replays every layers.json case of the kinds nn owns through the public layer API with the
 * stored weights: forward outputs, and gradients of sum(output * upstream) with respect to
 * the input and every weight.
 */
import { type Variable, variable, variableGrads } from '@tessera/autograd';
import { dispose, keep, mul, sum, type Tensor } from '@tessera/core';
import { type GoldenCase, type GoldenTensor, loadGolden } from '@tessera/data/golden';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AttentionCallOptions, type Layer, layers } from '../src/index.js';
import { compare, expectNoLeak, snapshot, toTensor, useTestBackend } from './helpers.js';
import { getBackend as currentBackend } from '@tessera/core';
import { testBackendName } from '../../../scripts/test-backend.mjs';

beforeAll(useTestBackend);

/** Kinds that are replayed elsewhere or later, with the reason (never skipped silently). */
const SKIPPED: Record<string, string> = {
  activation: 'activations are replayed by @tessera/autograd (test/golden.test.ts), which owns their gradients',
};

/** The kinds replayed here through the nn layer API. */
const KNOWN = new Set(['dense', 'conv2d', 'depthwise_conv2d', 'max_pool2d', 'avg_pool2d', 'batch_norm', 'layer_norm', 'embedding', 'multi_head_attention']);

const RTOL = 1e-4;
const ATOL = 1e-5;

type Built = { layer: Layer; weights: string[]; training: boolean; callOptions?: AttentionCallOptions };

/** The layer a case describes, and which stored params are its weights (in `layer.weights` order). */
function makeLayer(c: GoldenCase, t: Map<string, GoldenTensor>): Built {
  const a = c.attrs as Record<string, any>;
  const p = (role: string): string => `${c.id}/${role}`;
  switch (c.kind) {
    case 'dense':
      return { layer: layers.dense({ units: a.units, useBias: a.use_bias, activation: a.activation }), weights: a.use_bias ? [p('kernel'), p('bias')] : [p('kernel')], training: false };
    case 'conv2d': {
      const k = t.get(p('kernel'))!.shape;
      return {
        layer: layers.conv2d({ filters: a.filters, kernelSize: [k[0]!, k[1]!], strides: a.strides, padding: a.padding, dilationRate: a.dilation_rate, useBias: a.use_bias }),
        weights: a.use_bias ? [p('kernel'), p('bias')] : [p('kernel')],
        training: false,
      };
    }
    case 'depthwise_conv2d': {
      const k = t.get(p('kernel'))!.shape;
      return {
        layer: layers.depthwiseConv2d({ kernelSize: [k[0]!, k[1]!], depthMultiplier: a.depth_multiplier, strides: a.strides, padding: a.padding, dilationRate: a.dilation_rate, useBias: a.use_bias }),
        weights: a.use_bias ? [p('kernel'), p('bias')] : [p('kernel')],
        training: false,
      };
    }
    case 'max_pool2d':
      return { layer: layers.maxPooling2d({ poolSize: a.pool_size, strides: a.strides, padding: a.padding }), weights: [], training: false };
    case 'avg_pool2d':
      return { layer: layers.averagePooling2d({ poolSize: a.pool_size, strides: a.strides, padding: a.padding }), weights: [], training: false };
    case 'batch_norm':
      return {
        layer: layers.batchNormalization({ axis: a.axis, epsilon: a.epsilon, momentum: a.momentum }),
        weights: [p('gamma'), p('beta'), p('moving_mean'), p('moving_variance')],
        training: a.training === true,
      };
    case 'layer_norm':
      return { layer: layers.layerNormalization({ axis: a.axis, epsilon: a.epsilon }), weights: [p('gamma'), p('beta')], training: false };
    case 'embedding':
      return { layer: layers.embedding({ inputDim: a.input_dim, outputDim: a.output_dim }), weights: [p('table')], training: false };
    case 'multi_head_attention':
      // Self-attention; the case's second output is the attention weights [batch, heads, Tq, Tk].
      if (a.self_attention !== true || a.dropout !== 0) throw new Error(`unsupported multi_head_attention case ${c.id}`);
      return {
        layer: layers.multiHeadAttention({ numHeads: a.num_heads, keyDim: a.key_dim, valueDim: a.value_dim, outputDim: a.model_dim }),
        weights: c.params,
        training: false,
        callOptions: { useCausalMask: a.causal === true, returnAttentionScores: true },
      };
    default:
      throw new Error(`no layer for kind ${c.kind}`);
  }
}

const golden = loadGolden('layers');
const cases = golden?.manifest.cases ?? [];
const replayed = cases.filter((c) => !(c.kind in SKIPPED));
const tally: Record<string, { replayed: number; passed: number }> = {};

describe('golden layers (layers.json)', () => {
  it('runs on the backend TESSERA_TEST_BACKEND names (default js)', () => {
    expect(currentBackend().name).toBe(testBackendName());
  });

  it('finds the golden data (TESSERA_GOLDEN_DIR, default ../shared/golden)', () => {
    expect(golden === null).toBe(false);
  });

  it('replays or explicitly skips every kind in the manifest', () => {
    for (const k of new Set(cases.map((c) => c.kind))) expect(KNOWN.has(k) || k in SKIPPED, k).toBe(true);
  });

  for (const c of replayed) {
    it(`${c.kind}: ${c.id}`, async () => {
      const t = golden!.tensors;
      (tally[c.kind] ??= { replayed: 0, passed: 0 }).replayed++;
      const before = snapshot();
      const { layer, weights, training, callOptions = {} } = makeLayer(c, t);
      const x = toTensor(t.get(c.inputs[0]!)!);
      const upstream = toTensor(t.get(c.upstream!)!);
      const differentiableX = x.dtype === 'float32';
      const xv = differentiableX ? variable(x, { name: 'golden_x' }) : null;
      const input = xv?.value ?? x;
      dispose(layer.applyAll(input, { ...callOptions, training: false }) as Tensor | Tensor[]); // builds the layer (BatchNormalization inference leaves the stats alone)
      const init = weights.map((n) => toTensor(t.get(n)!));
      layer.setWeights(init);
      dispose(init);
      // Map each weight's golden tensor name to its variable.
      const byName = new Map<string, Variable>(weights.map((n, i) => [n, layer.weights[i]!]));
      if (xv) byName.set(c.inputs[0]!, xv);
      const wrt = [...byName.values()].filter((v) => v.trainable);
      let y: Tensor | null = null;
      const extra: Tensor[] = []; // outputs after the first (attention scores)
      const { value, grads } = variableGrads(() => {
        const outs = layer.applyAll(input, { ...callOptions, training }) as Tensor | Tensor[];
        const [out, ...rest] = Array.isArray(outs) ? outs : [outs];
        y = keep(out!);
        for (const r of rest) extra.push(keep(r));
        return sum(mul(out!, upstream));
      }, wrt);
      const problems: string[] = [];
      const check = async (what: string, got: Tensor, want: GoldenTensor): Promise<void> => {
        const msg = compare(what, await got.data(), got.shape, want, RTOL, ATOL);
        if (msg) problems.push(msg);
      };
      await check('y', y!, t.get(c.outputs[0]!)!);
      if (callOptions.returnAttentionScores && extra.length !== c.outputs.length - 1) problems.push(`expected ${c.outputs.length - 1} extra outputs, got ${extra.length}`);
      for (let i = 0; i < extra.length; i++) await check(c.outputs[i + 1]!, extra[i]!, t.get(c.outputs[i + 1]!)!);
      if (c.kind === 'batch_norm' && training) {
        await check('new_moving_mean', layer.weights[2]!.value, t.get(`${c.id}/new_moving_mean`)!);
        await check('new_moving_variance', layer.weights[3]!.value, t.get(`${c.id}/new_moving_variance`)!);
      }
      for (const [of, gname] of Object.entries(c.grads)) {
        const v = byName.get(of);
        const g = v ? grads.get(v) : undefined;
        if (!g) problems.push(`no gradient for ${of}`);
        else await check(`grad ${of}`, g, t.get(gname)!);
      }
      dispose([value, ...grads.values(), y!, ...extra, x, upstream]);
      xv?.dispose();
      layer.dispose();
      expect(problems).toEqual([]);
      expectNoLeak(before);
      tally[c.kind]!.passed++;
    });
  }

  it('reports the replay tally', () => {
    console.log('golden layers replayed/passed per kind:', JSON.stringify(tally));
    expect(Object.keys(tally).length).toBeGreaterThan(0);
  });
});
