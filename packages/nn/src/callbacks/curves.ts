/**
 * Training curves as an SVG chart: one panel per quantity (loss, accuracy, …) with its
 * training and validation values per epoch. `trainingCurvesSvg` is a pure function (usable
 * in browsers); the `TrainingCurves` callback writes the file after every epoch (Node).
 * @module
 */
import { ArgumentError } from '@tessera/core';
import { Callback, type Logs } from './base.js';

/** Options of {@link trainingCurvesSvg}. */
export interface CurvesOptions {
  /** Chart title (default "Training curves"). */
  title?: string;
  /** Width of one panel in pixels (default 420). */
  panelWidth?: number;
  /** Height of a panel in pixels (default 300). */
  panelHeight?: number;
  /** Which quantities to plot (default every key except `learning_rate`, grouped with its `val_` twin). */
  keys?: string[];
}

const COLORS = { train: '#1f77b4', val: '#ff7f0e' };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round numbers for axis ticks between lo and hi (about `count` of them). */
function ticks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(1) : String(Number(v.toPrecision(4)));
}

/**
 * An SVG chart of training (and validation) curves per epoch, from a `History` or its
 * `history` record. Deterministic output: the same numbers give the same bytes.
 * @example writeFileSync('curves.svg', trainingCurvesSvg(await model.fit(x, y, { epochs: 10, validationSplit: 0.2 })));
 */
export function trainingCurvesSvg(history: { history: Record<string, number[]>; epoch?: number[] } | Record<string, number[]>, opts: CurvesOptions = {}): string {
  const rec = (typeof (history as { history?: unknown }).history === 'object' ? (history as { history: Record<string, number[]> }).history : history) as Record<string, number[]>;
  const epochsList = (history as { epoch?: number[] }).epoch;
  const bases = opts.keys ?? [...new Set(Object.keys(rec).map((k) => k.replace(/^val_/, '')))].filter((k) => k !== 'learning_rate' && k !== 'lr');
  const W = opts.panelWidth ?? 420;
  const H = opts.panelHeight ?? 300;
  const title = opts.title ?? 'Training curves';
  const m = { left: 56, right: 16, top: 30, bottom: 44 };
  const panels = bases.length === 0 ? ['loss'] : bases;
  const totalW = W * panels.length;
  const totalH = H + 36;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${totalH}" viewBox="0 0 ${totalW} ${totalH}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="${totalW / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((base, p) => {
    const series = [
      { key: base, label: 'training', color: COLORS.train, values: rec[base] ?? [] },
      { key: `val_${base}`, label: 'validation', color: COLORS.val, values: rec[`val_${base}`] ?? [] },
    ].filter((s) => s.values.length > 0);
    const x0 = p * W + m.left;
    const y0 = 36 + m.top;
    const pw = W - m.left - m.right;
    const ph = H - m.top - m.bottom;
    const n = Math.max(1, ...series.map((s) => s.values.length));
    const epochAt = (i: number): number => (epochsList?.[i] ?? i) + 1;
    const finite = series.flatMap((s) => s.values.filter((v) => Number.isFinite(v)));
    let lo = finite.length ? Math.min(...finite) : 0;
    let hi = finite.length ? Math.max(...finite) : 1;
    if (hi - lo < 1e-12) {
      const pad = Math.abs(hi) * 0.05 || 0.5;
      lo -= pad;
      hi += pad;
    } else {
      const pad = (hi - lo) * 0.05;
      lo -= pad;
      hi += pad;
    }
    const firstEpoch = epochAt(0);
    const lastEpoch = epochAt(n - 1);
    const sx = (e: number): number => x0 + (lastEpoch === firstEpoch ? pw / 2 : ((e - firstEpoch) / (lastEpoch - firstEpoch)) * pw);
    const sy = (v: number): number => y0 + ph - ((v - lo) / (hi - lo)) * ph;
    parts.push(`<g>`);
    parts.push(`<text x="${x0 + pw / 2}" y="${y0 - 10}" text-anchor="middle" font-size="14">${esc(base)}</text>`);
    parts.push(`<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
    for (const t of ticks(lo, hi)) {
      const y = sy(t).toFixed(1);
      parts.push(`<line x1="${x0}" y1="${y}" x2="${x0 + pw}" y2="${y}" stroke="#e5e5e5"/>`);
      parts.push(`<text x="${x0 - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`);
    }
    const eTicks = ticks(firstEpoch, lastEpoch, Math.min(10, Math.max(1, lastEpoch - firstEpoch))).filter((e) => Number.isInteger(e));
    for (const e of eTicks.length ? eTicks : [firstEpoch]) {
      const x = sx(e).toFixed(1);
      parts.push(`<line x1="${x}" y1="${y0 + ph}" x2="${x}" y2="${y0 + ph + 4}" stroke="#888"/>`);
      parts.push(`<text x="${x}" y="${y0 + ph + 16}" text-anchor="middle">${e}</text>`);
    }
    parts.push(`<text x="${x0 + pw / 2}" y="${y0 + ph + 34}" text-anchor="middle">epoch</text>`);
    series.forEach((s, k) => {
      const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${sx(epochAt(i)).toFixed(1)},${sy(v).toFixed(1)}` : null)).filter((q): q is string => q !== null);
      if (pts.length > 1) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`);
      for (const q of pts) {
        const [cx, cy] = q.split(',');
        parts.push(`<circle cx="${cx}" cy="${cy}" r="2.5" fill="${s.color}"/>`);
      }
      const lx = x0 + pw - 110;
      const ly = y0 + 14 + k * 16;
      parts.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 18}" y2="${ly}" stroke="${s.color}" stroke-width="2"/>`);
      parts.push(`<text x="${lx + 24}" y="${ly}" dominant-baseline="middle">${esc(s.label)}</text>`);
    });
    parts.push(`</g>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/**
 * Writes an SVG chart of training and validation loss/metrics per epoch to `path` after
 * every epoch (Node; atomically).
 * @example model.fit(x, y, { epochs: 10, validationSplit: 0.2, callbacks: [new TrainingCurves('curves.svg')] });
 */
export class TrainingCurves extends Callback {
  readonly path: string;
  private readonly opts: CurvesOptions;
  private record: Record<string, number[]> = {};
  private epochs: number[] = [];
  constructor(path: string, opts: CurvesOptions = {}) {
    super();
    if (typeof path !== 'string' || path.length === 0) throw new ArgumentError('TrainingCurves', 'a file path is required');
    this.path = path;
    this.opts = opts;
  }
  override onTrainBegin(): void {
    this.record = {};
    this.epochs = [];
  }
  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    this.epochs.push(epoch);
    for (const [k, v] of Object.entries(logs)) (this.record[k] ??= []).push(v);
    const { writeFileAtomic } = await import('../io/node.js');
    await writeFileAtomic(this.path, trainingCurvesSvg({ history: this.record, epoch: this.epochs }, this.opts));
  }
}
