/**
 * Expected-failure files: case-id globs mapped to reasons.
 * @module
 */
import type { ExpectFile } from './types.js';

/**
 * Compiles a glob: `*` matches any run of characters (`/` included), `?` one character,
 * everything else literally.
 * @example
 * globToRegExp('pow/int32/*').test('pow/int32/same-[3,4]'); // true
 */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '.*';
    else if (ch === '?') re += '.';
    else re += ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A compiled expect file. */
export interface ExpectMatcher {
  /** The entry that marks `id` in `mode` as an expected failure, if any. */
  match(id: string, mode: 'fused' | 'unfused'): { glob: string; reason: string } | undefined;
  /** Globs that matched no case so far (stale entries). */
  unused(): string[];
}

/**
 * Compiles an expect file. Keys without `@` match a case in both modes; `glob@fused` or
 * `glob@unfused` one mode.
 * @example
 * const m = compileExpect({ 'erf/*': { reason: 'polynomial erf' } });
 * m.match('erf/float32/special', 'fused'); // { glob: 'erf/*', reason: 'polynomial erf' }
 */
export function compileExpect(file: ExpectFile = {}): ExpectMatcher {
  const entries = Object.entries(file).map(([glob, v]) => {
    const at = glob.lastIndexOf('@');
    const mode = at >= 0 ? glob.slice(at + 1) : '';
    const hasMode = mode === 'fused' || mode === 'unfused';
    return {
      glob,
      reason: v.reason,
      mode: hasMode ? mode : undefined,
      re: globToRegExp(hasMode ? glob.slice(0, at) : glob),
      used: false,
    };
  });
  return {
    match(id, mode) {
      for (const e of entries) {
        if ((e.mode === undefined || e.mode === mode) && e.re.test(id)) {
          e.used = true;
          return { glob: e.glob, reason: e.reason };
        }
      }
      return undefined;
    },
    unused: () => entries.filter((e) => !e.used).map((e) => e.glob),
  };
}
