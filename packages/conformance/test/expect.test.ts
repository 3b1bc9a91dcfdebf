import { describe, expect, it } from 'vitest';
import { compileExpect, globToRegExp } from '../src/expect.js';

describe('expected-failure files', () => {
  it('globs: * spans anything, ? one character, the rest is literal', () => {
    expect(globToRegExp('pow/int32/*').test('pow/int32/same-[3,4]x[3,4]')).toBe(true);
    expect(globToRegExp('*/denormal').test('exp/float32/denormal')).toBe(true);
    expect(globToRegExp('add/float32/bcast-[3,1]x[1,4]').test('add/float32/bcast-[3,1]x[1,4]')).toBe(true);
    expect(globToRegExp('add/float32/bcast-[3,1]x[1,4]').test('add/float32/bcast-3,1x1,4')).toBe(false);
    expect(globToRegExp('a?c').test('abc')).toBe(true);
    expect(globToRegExp('a.c').test('abc')).toBe(false);
  });

  it('matches both modes, or one with @fused / @unfused', () => {
    const m = compileExpect({
      'erf/*': { reason: 'polynomial erf' },
      'conv2d/*@fused': { reason: 'fused conv lacks dilation' },
    });
    expect(m.match('erf/float32/special', 'unfused')?.reason).toBe('polynomial erf');
    expect(m.match('conv2d/float32/valid-dil2', 'fused')?.glob).toBe('conv2d/*@fused');
    expect(m.match('conv2d/float32/valid-dil2', 'unfused')).toBeUndefined();
    expect(m.match('exp/float32/special', 'fused')).toBeUndefined();
  });

  it('lists entries that matched nothing', () => {
    const m = compileExpect({ 'exp/*': { reason: 'x' }, 'nothing/*': { reason: 'y' } });
    m.match('exp/float32/mat', 'fused');
    expect(m.unused()).toEqual(['nothing/*']);
  });
});
