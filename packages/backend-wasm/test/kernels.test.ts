/**
 * Kernel tests against backend-js as the oracle, on one thread and with the worker pool.
 * Every op runs with fused kernels on and off, over contiguous and strided inputs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as core from '@tessera/core';
import { createWasmBackend, type WasmBackend } from '../src/index.js';
import { check, gen, type Input, type T, type ViewKind } from './oracle.js';

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -0.5, 2, -2.5, 1e30, -1e30, 1e-30, 3.4e38, -3.4e38, 1e-40, -1e-40, 1.4e-45].map(Math.fround);
const VIEWS: ViewKind[] = ['none', 'transpose', 'step', 'flip', 'offset'];
const TRANS = 1e-4;

for (const threads of [1, 2]) {
  describe(`wasm kernels (threads: ${threads}${threads > 1 ? ', every op split' : ''})`, () => {
    let be: WasmBackend;
    beforeAll(async () => {
      be = await createWasmBackend({ threads, parallelThreshold: 0 });
    });
    afterAll(() => be.dispose());

    const expectOk = async (ins: Input[], fn: (xs: T[]) => T | T[], rtol?: number, atol?: number) => {
      expect(await check(be, ins, fn, rtol, atol)).toBeNull();
    };

    it('reports its thread count', () => {
      expect(be.threads).toBe(threads);
      expect(be.name).toBe('wasm');
    });

    const unaryOps: [string, (x: T) => T, number, [number, number]][] = [
      ['neg', core.neg, 0, [-3, 3]], ['abs', core.abs, 0, [-3, 3]], ['sign', core.sign, 0, [-3, 3]],
      ['exp', core.exp, TRANS, [-10, 10]], ['expm1', core.expm1, TRANS, [-5, 5]], ['log', core.log, TRANS, [0.001, 100]],
      ['log1p', core.log1p, TRANS, [-0.99, 10]], ['sqrt', core.sqrt, 1e-6, [0, 100]], ['rsqrt', core.rsqrt, 1e-6, [0.01, 100]],
      ['square', core.square, 1e-6, [-3, 3]], ['reciprocal', core.reciprocal, 1e-6, [0.1, 10]], ['sin', core.sin, TRANS, [-10, 10]],
      ['cos', core.cos, TRANS, [-10, 10]], ['tanh', core.tanh, TRANS, [-5, 5]], ['sigmoid', core.sigmoid, TRANS, [-20, 20]],
      ['erf', core.erf, TRANS, [-4, 4]], ['floor', core.floor, 0, [-5, 5]], ['ceil', core.ceil, 0, [-5, 5]],
      ['round', core.round, 0, [-5, 5]], ['relu', core.relu, 0, [-3, 3]],
    ];
    for (const [name, f, tol, [lo, hi]] of unaryOps) {
      it(`unary ${name}: shapes, views, specials`, async () => {
        for (const shape of [[], [7], [3, 5], [17, 33], [2, 1, 3, 1, 2], [0, 3], [100000]]) {
          await expectOk([gen(shape, 'float32', 3, lo, hi)], ([x]) => f(x!), tol, 1e-6);
        }
        for (const view of VIEWS) await expectOk([{ ...gen([6, 5], 'float32', 4, lo, hi), view }], ([x]) => f(x!), tol, 1e-6);
        const sp = name === 'sin' || name === 'cos' ? SPECIALS.filter((v) => !(Math.abs(v) > 1e5)) : SPECIALS;
        await expectOk([{ shape: [sp.length], dtype: 'float32', values: sp }], ([x]) => f(x!), tol, 1e-5);
        if (['neg', 'abs', 'sign', 'square', 'relu', 'floor'].includes(name)) {
          await expectOk([gen([9, 7], 'int32', 5, -20, 20)], ([x]) => f(x!));
          await expectOk([{ shape: [4], dtype: 'int32', values: [-2147483648, 2147483647, 46341, -46341] }], ([x]) => f(x!));
        }
      });
    }

    it('logicalNot, isNaN, isFinite', async () => {
      await expectOk([gen([37], 'bool', 6)], ([x]) => core.logicalNot(x!));
      await expectOk([{ shape: [SPECIALS.length], dtype: 'float32', values: SPECIALS }], ([x]) => [core.isNaN(x!), core.isFinite(x!)]);
    });

    const binOps: [string, (a: T | number, b: T | number) => T, number, boolean][] = [
      ['add', core.add, 1e-6, true], ['sub', core.sub, 1e-6, true], ['mul', core.mul, 1e-6, true], ['div', core.div, 1e-6, false],
      ['pow', core.pow, 1e-5, true], ['maximum', core.maximum, 0, true], ['minimum', core.minimum, 0, true],
      ['mod', core.mod, 1e-5, true], ['floorDiv', core.floorDiv, 1e-6, true], ['atan2', core.atan2, 1e-5, false],
    ];
    const pairs: [number[], number[]][] = [
      [[3, 4], [3, 4]], [[], []], [[], [2, 3]], [[2, 3], []], [[3, 1], [1, 4]], [[2, 3, 4], [4]], [[4], [2, 3, 4]],
      [[5, 1, 3], [1, 4, 1]], [[2, 1, 3, 1, 2], [4, 1, 5, 1]], [[0, 3], [3]], [[17, 33], [17, 33]], [[250, 401], [401]],
      [[100000], [100000]],
    ];
    for (const [name, f, tol, ints] of binOps) {
      it(`binary ${name}: broadcasting, views, specials, int32`, async () => {
        const lo = name === 'pow' ? 0.1 : -3;
        for (const [sa, sb] of pairs) {
          const a = gen(sa, 'float32', 7, lo, 3), b = gen(sb, 'float32', 8, 0.25, 4);
          await expectOk([a, b], ([x, y]) => f(x!, y!), tol, 1e-6);
        }
        for (const view of VIEWS) {
          await expectOk([{ ...gen([4, 6], 'float32', 9, lo, 3), view }, { ...gen([4, 6], 'float32', 10, 0.5, 3), view: 'flip' }], ([x, y]) => f(x!, y!), tol, 1e-6);
        }
        await expectOk([gen([3, 4], 'float32', 11, lo, 3)], ([x]) => f(x!, 2.5), tol, 1e-6);
        await expectOk([gen([3, 4], 'float32', 12, 0.5, 3)], ([x]) => f(1.5, x!), tol, 1e-6);
        const sv = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 2.5];
        const xa: number[] = [], xb: number[] = [];
        for (const p of sv) for (const q of sv) {
          if (name === 'pow' && Math.abs(p) === 1 && !Number.isFinite(q)) continue;
          if ((name === 'mod' || name === 'floorDiv') && !Number.isFinite(q)) continue;
          xa.push(p); xb.push(q);
        }
        await expectOk([{ shape: [xa.length], dtype: 'float32', values: xa }, { shape: [xb.length], dtype: 'float32', values: xb }], ([x, y]) => f(x!, y!), tol, 1e-6);
        if (ints) {
          const ilo = name === 'pow' ? 0 : -50;
          await expectOk([gen([5, 7], 'int32', 13, name === 'pow' ? -4 : -50, name === 'pow' ? 4 : 50), gen([7], 'int32', 14, ilo, name === 'pow' ? 6 : 9)], ([x, y]) => f(x!, y!));
          await expectOk([{ shape: [7], dtype: 'int32', values: [7, -7, 0, 5, -5, 5, -5] }, { shape: [7], dtype: 'int32', values: [0, 0, 0, 3, 3, -3, -3] }], ([x, y]) => f(x!, y!));
          await expectOk([{ shape: [5], dtype: 'int32', values: [2147483647, -2147483648, 65536, 123456789, -46341] }, { shape: [5], dtype: 'int32', values: [1, -1, 65536, 987654321, 46341] }], ([x, y]) => f(x!, y!));
        }
      });
    }

    it('compare ops over dtypes, broadcasting and NaN', async () => {
      const cmp = [core.equal, core.notEqual, core.less, core.lessEqual, core.greater, core.greaterEqual];
      for (const f of cmp) {
        for (const dt of ['float32', 'int32', 'bool'] as const) {
          await expectOk([gen([5, 40], dt, 15, -3, 3), gen([40], dt, 16, -3, 3)], ([x, y]) => f(x!, y!));
          await expectOk([{ ...gen([6, 4], dt, 17, -2, 2), view: 'transpose' }, gen([6, 4], dt, 18, -2, 2)], ([x, y]) => f(x!, y!));
        }
        await expectOk([{ shape: [8], dtype: 'float32', values: [NaN, 1, NaN, -0, Infinity, -Infinity, 2, 3] }, { shape: [8], dtype: 'float32', values: [NaN, NaN, 1, 0, Infinity, Infinity, 2, 1] }], ([x, y]) => f(x!, y!));
      }
      await expectOk([gen([33], 'bool', 19), gen([33], 'bool', 20)], ([x, y]) => [core.logicalAnd(x!, y!), core.logicalOr(x!, y!)]);
    });

    it('where, cast, fill-like creation and copies', async () => {
      for (const dt of ['float32', 'int32', 'bool'] as const) {
        await expectOk([gen([4, 33], 'bool', 21), gen([4, 33], dt, 22), gen([33], dt, 23)], ([c, a, b]) => core.where(c!, a!, b!));
        await expectOk([gen([4, 1], 'bool', 24), gen([4, 5], dt, 25), gen([], dt, 26)], ([c, a, b]) => core.where(c!, a!, b!));
        for (const to of ['float32', 'int32', 'bool'] as const) {
          await expectOk([gen([7, 9], dt, 27, -50, 50)], ([x]) => core.cast(x!, to));
          await expectOk([{ ...gen([7, 9], dt, 28, -50, 50), view: 'transpose' }], ([x]) => core.cast(x!, to));
        }
        for (const view of VIEWS) await expectOk([{ ...gen([5, 3, 4], dt, 29), view }], ([x]) => core.contiguous(x!));
      }
      await expectOk([{ shape: [12], dtype: 'float32', values: [NaN, 0, -0, 0.5, -0.5, 1.9, -1.9, -2.5, 1e9, -1e9, 16777217, 3.4e8] }], ([x]) => [core.cast(x!, 'int32'), core.cast(x!, 'bool')]);
      await expectOk([], () => [core.zeros([3, 4]), core.ones([5], 'int32'), core.fill([2, 2], 7.5), core.eye(4), core.arange(0, 10, 1, 'int32')]);
      await expectOk([gen([3, 4], 'float32', 30)], ([x]) => [core.pad(x!, [[1, 2], [0, 3]], -1), core.concat([x!, x!], 1), core.tile(x!, [2, 3])]);
      await expectOk([gen([2, 3], 'int32', 31, -9, 9)], ([x]) => [core.pad(x!, [[1, 1], [2, 0]]), core.stack([x!, x!], 0)]);
    });

    it('reductions over any axes, views, keepDims, empty', async () => {
      const red = [core.sum, core.prod, core.max, core.min, core.mean];
      const axesList: (number | number[] | undefined)[] = [undefined, 0, 1, 2, -1, [0, 2], [1, 2], [0, 1]];
      for (const f of red) {
        for (const axis of axesList) {
          await expectOk([gen([4, 5, 6], 'float32', 32, f === core.prod ? 0.5 : -3, f === core.prod ? 1.5 : 3)], ([x]) => f(x!, axis), 1e-5, 1e-5);
          await expectOk([{ ...gen([4, 5, 6], 'float32', 33, 0.5, 1.5), view: 'transpose' }], ([x]) => f(x!, axis, true), 1e-5, 1e-5);
        }
        await expectOk([gen([0, 3], 'float32', 34)], ([x]) => f(x!, 0));
        await expectOk([gen([100000], 'float32', 35, 0.999, 1.001)], ([x]) => f(x!), 1e-4, 1e-3);
        await expectOk([gen([200, 37], 'float32', 36, 0.99, 1.01)], ([x]) => f(x!, 0), 1e-5, 1e-5);
      }
      for (const f of [core.sum, core.max, core.min, core.prod]) {
        await expectOk([gen([6, 7], 'int32', 37, -5, 5)], ([x]) => [f(x!, 0), f(x!, 1), f(x!)]);
      }
      await expectOk([gen([6, 7], 'bool', 38)], ([x]) => [core.any(x!, 0), core.all(x!, 1), core.sum(x!), core.any(x!)]);
      await expectOk([{ shape: [2, 3], dtype: 'float32', values: [1, NaN, 3, -Infinity, 2, 1] }], ([x]) => [core.max(x!, 1), core.min(x!, 0), core.sum(x!, 1)]);
      await expectOk([gen([3, 4, 5], 'float32', 39)], ([x]) => [core.logSumExp(x!, 1), core.variance(x!, -1), core.std(x!, [0, 2])], 1e-5, 1e-5);
    });

    it('argmax/argmin and cumulative ops', async () => {
      for (const axis of [0, 1, 2]) {
        await expectOk([gen([4, 5, 6], 'float32', 40)], ([x]) => [core.argmax(x!, axis), core.argmin(x!, axis)]);
        await expectOk([{ ...gen([4, 5, 6], 'int32', 41, -3, 3), view: 'flip' }], ([x]) => [core.argmax(x!, axis), core.argmin(x!, axis)]);
        for (const exclusive of [false, true]) for (const reverse of [false, true]) {
          await expectOk([gen([4, 5, 6], 'float32', 42, 0.5, 1.5)], ([x]) => [core.cumsum(x!, axis, { exclusive, reverse }), core.cumprod(x!, axis, { exclusive, reverse })], 1e-5, 1e-5);
          await expectOk([gen([4, 5, 6], 'int32', 43, -9, 9)], ([x]) => core.cumsum(x!, axis, { exclusive, reverse }));
        }
      }
      await expectOk([{ shape: [2, 4], dtype: 'float32', values: [1, NaN, 3, NaN, 2, 2, 1, 2] }], ([x]) => [core.argmax(x!, 1), core.argmin(x!, 1), core.argmax(x!)]);
    });

    it('gather, scatterAdd, oneHot', async () => {
      const idx: Input = { shape: [2, 3], dtype: 'int32', values: [2, 0, 1, 1, 2, 0] };
      for (const axis of [0, 1, 2]) {
        await expectOk([gen([4, 4, 3], 'float32', 44), idx], ([x, i]) => core.gather(x!, i!, axis));
        await expectOk([{ ...gen([4, 4, 3], 'int32', 45, -9, 9), view: 'transpose' }, idx], ([x, i]) => core.gather(x!, i!, axis));
      }
      await expectOk([gen([5, 3], 'float32', 46), { shape: [4], dtype: 'int32', values: [4, 4, 0, 2] }, gen([4, 3], 'float32', 47)], ([x, i, u]) => core.scatterAdd(x!, i!, u!, 0));
      await expectOk([gen([3, 5], 'int32', 48, -9, 9), { shape: [4], dtype: 'int32', values: [4, 4, 0, 2] }, gen([3, 4], 'int32', 49, -9, 9)], ([x, i, u]) => core.scatterAdd(x!, i!, u!, 1));
      await expectOk([{ shape: [5], dtype: 'int32', values: [0, 3, 1, 3, 2] }], ([i]) => core.oneHot(i!, 4));
    });

    it('randomBits kernel matches the js backend across 64-bit counter carries', async () => {
      const { oracle } = await import('./oracle.js');
      for (const [counter, n, dtype] of [[4294967293, 21, 'int32'], [2 ** 40 + 5, 9, 'float32'], [0, 1, 'int32'], [7, 1000, 'float32']] as const) {
        const key: [number, number] = [0x12345678, -0x6543210f];
        const res: number[][] = [];
        for (const b of [be, oracle]) {
          const buf = b.storage.alloc(dtype, n);
          b.kernels.randomBits(key, counter, { buf, dtype, shape: [n], strides: [1], offset: 0, size: n });
          res.push([...b.storage.readSync!(buf, dtype, 0, n)]);
          b.storage.release(buf);
        }
        expect(res[0]).toEqual(res[1]);
      }
    });

    it('gather yields zeros and scatterAdd drops updates at out-of-range indices (kernel level)', () => {
      const v = (buf: ReturnType<typeof be.storage.alloc>, dtype: 'float32' | 'int32', shape: number[]) =>
        ({ buf, dtype, shape, strides: shape.length === 2 ? [shape[1]!, 1] : [1], offset: 0, size: shape.reduce((a, b) => a * b, 1) });
      const x = v(be.storage.upload('float32', Float32Array.of(1, 2, 3, 4, 5, 6)), 'float32', [3, 2]);
      const idx = v(be.storage.upload('int32', Int32Array.of(5, -1, 1)), 'int32', [3]);
      const out = v(be.storage.alloc('float32', 6), 'float32', [3, 2]);
      be.kernels.gather(x, idx, 0, out);
      expect([...be.storage.readSync!(out.buf, 'float32', 0, 6)]).toEqual([0, 0, 0, 0, 3, 4]);
      be.kernels.scatterAdd(idx, x, 0, out);
      expect([...be.storage.readSync!(out.buf, 'float32', 0, 6)]).toEqual([0, 0, 5, 6, 3, 4]);
      for (const t of [x, idx, out]) be.storage.release(t.buf);
    });

    it('random bits are bit-identical to the js backend', async () => {
      await expectOk([], () => [core.randomBits([1001], 42), core.randomUniform([3, 333], { seed: 7 }), core.randomNormal([1000], { seed: 3 })]);
      await expectOk([], () => [core.randomBits([7], 0), core.randomBits([1], 5), core.randomUniform([100003], { seed: 1 })]);
    });

    const mmShapes: [number[], number[]][] = [
      [[1, 1], [1, 1]], [[3, 5], [5, 2]], [[7, 7], [7, 7]], [[33, 65], [65, 17]], [[33, 17], [17, 65]], [[1, 300], [300, 5]],
      [[130, 3], [3, 200]], [[64, 64], [64, 64]], [[2, 3, 4], [2, 4, 5]], [[2, 3, 4], [4, 5]], [[3, 1, 5, 6], [2, 6, 4]],
      [[129, 257], [257, 130]], [[4, 0], [0, 3]], [[0, 5], [5, 2]],
    ];
    it('matmul: shapes, transposes, batches, views', async () => {
      for (const [sa, sb] of mmShapes) {
        const k = sa[sa.length - 1]!;
        const tol = 4e-6 * Math.sqrt(Math.max(k, 1));
        await expectOk([gen(sa, 'float32', 50), gen(sb, 'float32', 51)], ([a, b]) => core.matmul(a!, b!), tol, 1e-5 * Math.max(k, 1));
        if (sa.length === 2 && sb.length === 2) {
          for (const [ta, tb] of [[true, false], [false, true], [true, true]] as const) {
            const A = gen(ta ? [sa[1]!, sa[0]!] : sa, 'float32', 52), B = gen(tb ? [sb[1]!, sb[0]!] : sb, 'float32', 53);
            await expectOk([A, B], ([a, b]) => core.matmul(a!, b!, { transposeA: ta, transposeB: tb }), tol, 1e-5 * Math.max(k, 1));
          }
          for (const view of ['step', 'flip', 'offset'] as const) {
            await expectOk([{ ...gen(sa, 'float32', 54), view }, { ...gen(sb, 'float32', 55), view: 'transpose' }], ([a, b]) => core.matmul(a!, b!), tol, 1e-5 * Math.max(k, 1));
          }
        }
      }
    });

    it('linear (matmulFused) with bias and every activation', async () => {
      for (const act of ['linear', 'relu', 'sigmoid', 'tanh', 'gelu'] as const) {
        for (const [m, k, n] of [[5, 7, 3], [33, 65, 17], [64, 128, 40], [2, 0, 3], [1, 9, 1]]) {
          await expectOk([gen([m, k], 'float32', 56), gen([k, n], 'float32', 57), gen([n], 'float32', 58)], ([x, w, b]) => core.linear(x!, w!, b!, act), 1e-4, 1e-4 * Math.max(k, 1));
          await expectOk([gen([m, k], 'float32', 59), gen([k, n], 'float32', 60)], ([x, w]) => core.linear(x!, w!, null, act), 1e-4, 1e-4 * Math.max(k, 1));
        }
      }
    });

    it('conv2d and its gradients (padding, strides, dilations, pointwise)', async () => {
      const cfgs: [number[], number[], core.WindowOptions][] = [
        [[2, 7, 7, 3], [3, 3, 3, 4], { padding: 'same' }],
        [[1, 8, 9, 2], [3, 2, 2, 5], { padding: 'valid', strides: [2, 1] }],
        [[2, 6, 6, 4], [1, 1, 4, 6], {}],
        [[1, 9, 9, 3], [3, 3, 3, 2], { padding: 'same', dilations: 2 }],
        [[3, 5, 5, 8], [2, 2, 8, 16], { padding: 'same', strides: 2 }],
        [[2, 12, 12, 16], [3, 3, 16, 32], { padding: 'same' }],
      ];
      for (const [xs, fs, o] of cfgs) {
        const { p, oh, ow } = core.resolveWindow('conv2d', xs[1]!, xs[2]!, [fs[0]!, fs[1]!], o);
        const ys = [xs[0]!, oh, ow, fs[3]!];
        const tol = 1e-4;
        await expectOk([gen(xs, 'float32', 61), gen(fs, 'float32', 62)], ([x, f]) => core.conv2d(x!, f!, o), tol, 1e-4);
        await expectOk([{ ...gen(xs, 'float32', 61), view: 'flip' }, gen(fs, 'float32', 62)], ([x, f]) => core.conv2d(x!, f!, o), tol, 1e-4);
        await expectOk([gen(ys, 'float32', 63), gen(fs, 'float32', 64)], ([dy, f]) => core.conv2dBackpropInput(dy!, f!, xs, p), tol, 1e-4);
        await expectOk([gen(xs, 'float32', 65), gen(ys, 'float32', 66)], ([x, dy]) => core.conv2dBackpropFilter(x!, dy!, fs, p), tol, 1e-3);
      }
      await expectOk([gen([2, 6, 6, 4], 'float32', 67), gen([3, 3, 4, 1], 'float32', 68)], ([x, f]) => core.depthwiseConv2d(x!, f!, { padding: 'same' }), 1e-4, 1e-4);
    });

    it('pooling and its gradients', async () => {
      const cfgs: [[number, number], core.WindowOptions][] = [
        [[2, 2], { strides: 2 }], [[3, 3], { strides: 1, padding: 'same' }], [[3, 2], { strides: [2, 1], padding: 'same' }],
      ];
      for (const [win, o] of cfgs) {
        for (const xs of [[2, 6, 6, 3], [1, 7, 5, 9]]) {
          const { p, oh, ow } = core.resolveWindow('maxPool', xs[1]!, xs[2]!, win, o);
          const ys = [xs[0]!, oh, ow, xs[3]!];
          await expectOk([gen(xs, 'float32', 70)], ([x]) => [core.pool2dWith('max', x!, p), core.pool2dWith('avg', x!, p)], 1e-5, 1e-6);
          await expectOk([gen(xs, 'float32', 72), gen(ys, 'float32', 71)], ([x, dy]) => [core.pool2dBackward('max', x!, dy!, p), core.pool2dBackward('avg', x!, dy!, p)], 1e-5, 1e-6);
        }
      }
      await expectOk([{ shape: [1, 2, 2, 1], dtype: 'float32', values: [1, NaN, 3, 3] }], ([x]) => [core.maxPool(x!, 2)]);
    });

    it('softmax, logSoftmax, softmaxCrossEntropy, layerNorm', async () => {
      for (const shape of [[5], [3, 10], [2, 3, 17], [4, 1000]]) {
        await expectOk([gen(shape, 'float32', 80, -10, 10)], ([x]) => [core.softmax(x!), core.logSoftmax(x!)], 1e-5, 1e-6);
        const lab = gen(shape, 'float32', 81, 0, 1);
        await expectOk([gen(shape, 'float32', 82, -5, 5), lab], ([x, y]) => core.softmaxCrossEntropy(x!, y!), 1e-5, 1e-5);
        const d = shape[shape.length - 1]!;
        await expectOk([gen(shape, 'float32', 83), gen([d], 'float32', 84), gen([d], 'float32', 85)], ([x, g, b]) => core.layerNorm(x!, g!, b!, 1e-5), 1e-4, 1e-5);
      }
      await expectOk([{ ...gen([6, 4], 'float32', 86), view: 'transpose' }], ([x]) => [core.softmax(x!, 0), core.logSoftmax(x!, -1)], 1e-5, 1e-6);
      await expectOk([{ shape: [3, 2], dtype: 'float32', values: [1000, 1000, -Infinity, 0, -1000, -1000] }], ([x]) => [core.softmax(x!), core.logSoftmax(x!)], 1e-5, 1e-4);
    });

    it('optimizer steps update parameters and state in place', async () => {
      for (const kind of ['sgd', 'momentum', 'nesterov', 'adam'] as const) {
        for (const n of [5, 1000, 70001]) {
          const st = kind === 'sgd' ? 0 : kind === 'adam' ? 2 : 1;
          const ins = [gen([n], 'float32', 90), gen([n], 'float32', 91), ...Array.from({ length: st }, (_, i) => gen([n], 'float32', 92 + i, 0, 1))];
          await expectOk(ins, (xs) => {
            const [p, g, ...s] = xs;
            core.optimizerStep(kind, [p!], [g!], [s], { lr: 0.01, step: 3, momentum: 0.9, weightDecay: kind === 'adam' ? 0.01 : undefined });
            return [p!, ...s].map((t) => core.clone(t));
          }, 1e-5, 1e-6);
        }
      }
    });

    it('strided copies of random views (permuted, flipped, stepped, sliced, broadcast)', async () => {
      const { rng } = await import('./oracle.js');
      const u = rng(1234 + threads);
      const pick = (n: number) => Math.floor(u() * n);
      for (let trial = 0; trial < 60; trial++) {
        const rank = 1 + pick(5);
        const shape = Array.from({ length: rank }, () => 1 + pick(rank > 3 ? 4 : 9));
        const dtype = (['float32', 'int32', 'bool'] as const)[pick(3)];
        const base = gen(shape, dtype, trial + 100, -9, 9);
        const perm = shape.map((_, i) => i).sort(() => u() - 0.5);
        const flipAxes = shape.map((_, i) => i).filter(() => u() < 0.4);
        const begin = shape.map((n) => pick(Math.max(1, n - 1)));
        const end = shape.map((n, i) => begin[i]! + 1 + pick(n - begin[i]!));
        const steps = shape.map(() => 1 + pick(2));
        const err = await check(be, [base], ([x]) => {
          let v = core.transpose(x!, perm);
          if (flipAxes.length) v = core.flip(v, flipAxes);
          const sl = core.stridedSlice(v, begin.map((_, i) => Math.min(begin[i]!, v.shape[i]! - 1)), end.map((e, i) => Math.min(e, v.shape[i]!)), steps);
          const bc = core.broadcastTo(core.expandDims(sl, 0), [2, ...sl.shape]);
          return [core.contiguous(sl), core.contiguous(bc), core.add(bc, bc)];
        });
        expect(err, `trial ${trial}: ${dtype} ${JSON.stringify({ shape, perm, flipAxes, begin, end, steps })}`).toBeNull();
      }
    });

    it('keeps storage figures exact and leak-free', async () => {
      core.setBackend(be);
      const before = be.storage.stats();
      const x = core.tensor(new Float32Array(1000).fill(1), [10, 100]);
      const y = core.tidy(() => core.sum(core.exp(core.matmul(x, core.transpose(x))), 1));
      const mid = be.storage.stats();
      expect(mid.liveBuffers).toBe(before.liveBuffers + 2);
      expect(mid.liveBytes).toBe(before.liveBytes + 4000 + 40);
      x.dispose();
      y.dispose();
      expect(be.storage.stats().liveBuffers).toBe(before.liveBuffers);
      expect(be.storage.stats().liveBytes).toBe(before.liveBytes);
    });
  });
}
