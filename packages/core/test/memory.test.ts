import { beforeAll, describe, expect, it } from 'vitest';
import { ArgumentError, add, dispose, exp, keep, memory, mul, tensor, tidy, tidyAsync } from '../src/index.js';
import { useJs } from './setup.js';

beforeAll(useJs);

describe('memory', () => {
  it('tidy frees everything but the result, and the live count returns to the start', () => {
    const start = memory();
    const x = tensor([1, 2, 3]);
    const y = tidy(() => add(mul(x, 2), exp(x)));
    expect(memory().numTensors).toBe(start.numTensors + 2);
    dispose([x, y]);
    expect(memory().numTensors).toBe(start.numTensors);
    expect(memory().numBytes).toBe(start.numBytes);
  });

  it('keeps tensors returned in arrays and objects, and kept ones', () => {
    const start = memory().numTensors;
    let kept;
    const r = tidy(() => {
      kept = keep(tensor([1]));
      const a = tensor([2]);
      tensor([3]);
      return { a, list: [tensor([4])] };
    });
    expect(memory().numTensors).toBe(start + 3);
    dispose([r, kept]);
    expect(memory().numTensors).toBe(start);
  });

  it('nested tidy hands results to the outer scope', () => {
    const start = memory().numTensors;
    const outer = tidy(() => {
      const inner = tidy(() => tensor([1]));
      tensor([2]);
      return inner;
    });
    expect(memory().numTensors).toBe(start + 1);
    outer.dispose();
    expect(memory().numTensors).toBe(start);
  });

  it('frees the scope when fn throws, and rejects promises', () => {
    const start = memory().numTensors;
    expect(() => tidy(() => {
      tensor([1]);
      throw new Error('boom');
    })).toThrow('boom');
    expect(memory().numTensors).toBe(start);
    expect(() => tidy((async () => tensor([1])) as never)).toThrow(ArgumentError);
  });

  it('tidyAsync frees across awaits', async () => {
    const start = memory().numTensors;
    const y = await tidyAsync(async () => {
      const a = tensor([1, 2]);
      await a.data();
      return exp(a);
    });
    expect(memory().numTensors).toBe(start + 1);
    y.dispose();
    expect(memory().numTensors).toBe(start);
    expect(memory().numBytes).toBe(0);
  });

  it('reports per-backend figures', () => {
    const x = tensor([1, 2, 3, 4]);
    const m = memory();
    expect(m.backends.js?.liveBytes).toBeGreaterThanOrEqual(16);
    expect(m.backends.js?.numTensors).toBeGreaterThanOrEqual(1);
    x.dispose();
  });
});
