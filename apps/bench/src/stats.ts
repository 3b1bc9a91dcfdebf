/** Small statistics and formatting helpers. */
import type { Stat } from './types.js';

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median, min and max of finite samples. */
export function summarize(xs: readonly number[]): Stat {
  const ok = xs.filter((x) => Number.isFinite(x));
  if (ok.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, n: 0 };
  return { median: median(ok), min: Math.min(...ok), max: Math.max(...ok), n: ok.length };
}

/** A number with three significant digits (no exponent for the usual ranges). */
export function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a === 0) return '0';
  if (a >= 1000) return Math.round(x).toLocaleString('en-US');
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  if (a >= 1) return x.toFixed(2);
  if (a >= 0.01) return x.toFixed(3);
  return x.toPrecision(2);
}

/** `median (min–max)`. */
export function fmtStat(s: Stat): string {
  if (s.n <= 1 || s.min === s.max) return `${fmt(s.median)}${s.n <= 1 ? ' (n=1)' : ''}`;
  return `${fmt(s.median)} (${fmt(s.min)}–${fmt(s.max)})`;
}

/** A ratio as `1.23×`. */
export function fmtRatio(r: number): string {
  if (!Number.isFinite(r)) return '—';
  if (r >= 100) return `${r.toFixed(0)}×`;
  if (r >= 10) return `${r.toFixed(1)}×`;
  if (r >= 0.1) return `${r.toFixed(2)}×`;
  return `${r.toPrecision(2)}×`;
}

/** Seconds since `t0` (a `process.hrtime.bigint()` value). */
export function since(t0: bigint): number {
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message.split('\n')[0].slice(0, 300);
  return String(e).slice(0, 300);
}
