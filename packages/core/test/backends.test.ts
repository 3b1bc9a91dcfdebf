import { createJsBackend } from '@tessera/backend-js';
import { describe, expect, it } from 'vitest';
import {
  BackendError, type Backend, add, getBackend, init, listBackends, moveTo, randomNormal, randomUniform, registerBackend, setBackend,
  setSeed, tensor,
} from '../src/index.js';

describe('backend selection', () => {
  it('getBackend names init when nothing is ready', () => {
    expect(() => getBackend()).toThrow(BackendError);
    expect(() => getBackend()).toThrow(/call `await init\(\)`/);
    expect(() => tensor([1])).toThrow(BackendError);
  });

  it('init reports why preferred backends failed and picks the next', async () => {
    registerBackend('broken', async () => {
      throw new Error('no GPU adapter');
    }, 10);
    registerBackend('js', createJsBackend, 1);
    const { backend, failures } = await init({ prefer: ['missing', 'broken', 'js'] });
    expect(backend.name).toBe('js');
    expect(failures).toEqual([
      { name: 'missing', reason: expect.stringContaining('not registered') },
      { name: 'broken', reason: 'no GPU adapter' },
    ]);
    expect(listBackends().find((b) => b.name === 'js')).toMatchObject({ ready: true, current: true });
    expect(getBackend()).toBe(backend);
    await expect(init({ prefer: ['broken'] })).rejects.toThrow(/broken: no GPU adapter/);
  });

  it('setBackend by name needs an initialised backend', () => {
    expect(() => setBackend('broken')).toThrow(/not initialised/);
    expect(() => setBackend('nope')).toThrow(/not registered/);
    expect(setBackend('js').name).toBe('js');
  });

  it('refuses to mix tensors of two backends and moves them on request', async () => {
    const a = setBackend(await createJsBackend());
    const x = tensor([1, 2]);
    const b = setBackend(await createJsBackend());
    const y = tensor([3, 4]);
    expect(() => add(x, y)).toThrow(BackendError);
    expect(() => add(x, y)).toThrow(/different backends/);
    const moved = await moveTo(x, b);
    expect(moved.backend).toBe(b);
    expect(add(moved, y).arraySync()).toEqual([4, 6]);
    expect(x.backend).toBe(a);
  });
});

describe('random numbers', () => {
  async function drawOn(backend: Backend) {
    setBackend(backend);
    return [
      Array.from(randomUniform([1001], { seed: 42 }).dataSync()),
      Array.from(randomNormal([64], { seed: 7 }).dataSync()),
    ];
  }

  it('a seed gives bit-identical draws on two backend instances', async () => {
    const one = await drawOn(await createJsBackend());
    const two = await drawOn(await createJsBackend());
    expect(two).toEqual(one);
  });

  it('setSeed makes the global stream reproducible, and draws differ along it', async () => {
    setBackend(await createJsBackend());
    setSeed(5);
    const a = randomUniform([4]).dataSync();
    const b = randomUniform([4]).dataSync();
    setSeed(5);
    expect(randomUniform([4]).dataSync()).toEqual(a);
    expect(Array.from(b)).not.toEqual(Array.from(a));
  });

  it('uniform and normal draws have the right range and moments', async () => {
    setBackend(await createJsBackend());
    const u = randomUniform([20000], { min: -2, max: 3, seed: 1 }).dataSync();
    let lo = Infinity;
    let hi = -Infinity;
    let s = 0;
    for (const v of u) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      s += v;
    }
    expect(lo).toBeGreaterThanOrEqual(-2);
    expect(hi).toBeLessThan(3);
    expect(s / u.length).toBeCloseTo(0.5, 1);
    const z = Array.from(randomNormal([20000], { mean: 1, stddev: 2, seed: 3 }).dataSync());
    const mean = z.reduce((a, v) => a + v, 0) / z.length;
    const variance = z.reduce((a, v) => a + (v - mean) ** 2, 0) / z.length;
    expect(mean).toBeCloseTo(1, 1);
    expect(Math.sqrt(variance)).toBeCloseTo(2, 1);
  });
});
