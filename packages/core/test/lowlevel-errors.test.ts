/**
 * The low-level exports that stay public (for autograd, layers and backend tests) check their
 * arguments like the ops do: alias, resolveWindow and accumulatePatches given garbage throw a
 * typed error naming themselves (or the op the caller named) and leak nothing.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ArgumentError, DisposedTensorError, ShapeError, accumulatePatches, alias, memory, resolveWindow, zeros,
} from '../src/index.js';
import { expectTyped, useJs } from './setup.js';

beforeAll(useJs);

describe('alias', () => {
  it('rejects a non-tensor and a disposed tensor', () => {
    expectTyped(() => alias(null as never), ArgumentError, /^alias: x must be a Tensor, got null/);
    expectTyped(() => alias([1, 2] as never), ArgumentError, /^alias: x must be a Tensor, got an array/);
    const x = zeros([2]);
    x.dispose();
    expectTyped(() => alias(x), DisposedTensorError, /^alias: /);
  });

  it('gives a second handle that outlives the first', async () => {
    const before = memory();
    const x = zeros([2, 2]);
    const a = alias(x);
    x.dispose();
    expect(Array.from(await a.data())).toEqual([0, 0, 0, 0]);
    a.dispose();
    expect(memory().numBytes).toBe(before.numBytes);
  });
});

describe('resolveWindow', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['a negative height', () => resolveWindow('conv2d', -1, 8, [3, 3], {}), /^conv2d: input h must be a non-negative integer, got -1/],
    ['a NaN width', () => resolveWindow('conv2d', 8, NaN, [3, 3], {}), /^conv2d: input w must be a non-negative integer, got NaN/],
    ['a fractional window', () => resolveWindow('conv2d', 8, 8, [2.5, 3], {}), /^conv2d: window must be a positive integer or a pair of them, got \[2\.5,3\]/],
    ['a window that is not a pair', () => resolveWindow('conv2d', 8, 8, null as never, {}), /^conv2d: window must be .*, got null/],
    ['null options', () => resolveWindow('conv2d', 8, 8, [3, 3], null as never), /^conv2d: options must be an object \(\{ strides, padding, dilations \}\), got null/],
    ['strides that are not a pair', () => resolveWindow('conv2d', 8, 8, [3, 3], { strides: 'x' as never }), /^conv2d: strides must be .*, got "x"/],
    ['explicit padding with a non-array side', () => resolveWindow('conv2d', 8, 8, [3, 3], { padding: [null, [1, 1]] as never }), /^conv2d: padding must be 'same', 'valid' or \[\[top, bottom\], \[left, right\]\], got \[null,\[1,1\]\]/],
    ['no op name', () => resolveWindow(undefined as never, -1, 8, [3, 3], {}), /^resolveWindow: input h/],
  ];
  for (const [name, fn, message] of cases) it(`rejects ${name}`, () => expectTyped(fn, ArgumentError, message));

  it('gives a ShapeError when the window does not fit', () => {
    expectTyped(() => resolveWindow('maxPool', 2, 2, [3, 3], {}), ShapeError, /^maxPool: window 3x3 \(dilated 3x3\) does not fit input 2x2/);
  });

  it('resolves valid options (options optional, one number for both strides)', () => {
    expect(resolveWindow('conv2d', 8, 8, [3, 3], { strides: 2, padding: 'same' })).toEqual({ p: { window: [3, 3], strides: [2, 2], pads: [0, 1, 0, 1], dilations: [1, 1] }, oh: 4, ow: 4 });
    expect(resolveWindow('conv2d', 5, 5, [3, 3]).oh).toBe(3);
  });
});

describe('accumulatePatches', () => {
  it('checks the window parameters before using them', () => {
    const cols = zeros([1, 3, 3, 3, 3, 2]);
    expectTyped(() => accumulatePatches(cols, [1, 5, 5, 2], null as never), ArgumentError, /^accumulatePatches: window parameters null must have positive integer/);
    expectTyped(
      () => accumulatePatches(cols, [1, 5, 5, 2], { window: [3, 3], strides: [0, 1], pads: [0, 0, 0, 0], dilations: [1, 1] }),
      ArgumentError,
      /^accumulatePatches: window parameters .* must have positive integer window\/strides\/dilations pairs/,
    );
    cols.dispose();
  });
});
