/**
 * The Keras-style progress bar `fit` shows: a bar updated per batch with ETA, time per step
 * and the running metrics on a terminal; one line per epoch elsewhere (pipes, CI logs).
 * @module
 */
import { Callback, type Logs, readsBatchLogsAsync, resolveLogs } from './base.js';

/** Where progress goes: anything with `write` (Node's `process.stdout`, a test buffer). */
export interface ProgressStream {
  write(text: string): unknown;
  /** True on a terminal: enables the in-place bar. */
  isTTY?: boolean;
}

/** Options of {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** Default: `process.stdout` in Node, else `console.log` line by line. */
  stream?: ProgressStream;
  /** `bar` (in-place, per batch) or `line` (one line per epoch). Default: bar on a TTY when verbose is 1. */
  mode?: 'bar' | 'line';
  /** Minimum milliseconds between two redraws of the bar (each redraw reads the metrics). Default 100. */
  refreshMs?: number;
  /** Width of the bar in characters (default 20). */
  width?: number;
}

/** The default output stream: stdout in Node, console.log in browsers. */
export function defaultStream(): ProgressStream {
  const p = (globalThis as { process?: { stdout?: ProgressStream } }).process;
  if (p?.stdout && typeof p.stdout.write === 'function') return p.stdout;
  let pending = '';
  return {
    write(text: string) {
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) console.log(l.replace(/^.*\r/, ''));
    },
    isTTY: false,
  };
}

/** Formats a metric value like Keras: 4 decimals, scientific below 1e-3. */
export function formatValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(4);
}

/** Formats a duration like Keras's ETA: `7s`, `1:05`, `1:02:03`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  if (s >= 60) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  return `${s}s`;
}

/** Formats time per step: `12ms/step`, `2s/step`, `350us/step`. */
export function formatPerStep(seconds: number): string {
  if (seconds >= 1) return `${Math.round(seconds)}s/step`;
  if (seconds >= 1e-3) return `${Math.round(seconds * 1e3)}ms/step`;
  return `${Math.round(seconds * 1e6)}us/step`;
}

/** `- loss: 0.1234 - accuracy: 0.9500`, loss first, then the rest in log order. */
export function formatLogs(logs: Logs): string {
  const keys = Object.keys(logs).filter((k) => k !== 'batch' && k !== 'size' && k !== 'batchLoss');
  const order = (k: string): number => (k === 'loss' ? 0 : k === 'val_loss' ? 2 : k.startsWith('val_') ? 3 : 1);
  keys.sort((a, b) => order(a) - order(b));
  return keys.map((k) => ` - ${k}: ${formatValue(logs[k]!)}`).join('');
}

/**
 * Keras-style progress display. `fit` adds one by default (`verbose: 'auto'`); pass your own
 * in `callbacks` to choose the stream or mode (then `fit` adds none).
 * @example model.fit(x, y, { verbose: 0, callbacks: [new ProgressBar({ stream: process.stderr })] });
 */
export class ProgressBar extends Callback {
  private readonly stream: ProgressStream;
  private mode: 'bar' | 'line';
  private readonly fixedMode: boolean;
  private readonly refreshMs: number;
  private readonly width: number;
  private epochStart = 0;
  private lastDraw = 0;
  private lastLen = 0;
  private seen = 0;

  constructor(opts: ProgressBarOptions = {}) {
    super();
    this.stream = opts.stream ?? defaultStream();
    this.fixedMode = opts.mode !== undefined;
    this.mode = opts.mode ?? (this.stream.isTTY ? 'bar' : 'line');
    this.refreshMs = opts.refreshMs ?? 100;
    this.width = opts.width ?? 20;
  }

  override onTrainBegin(): void {
    if (!this.fixedMode) this.mode = this.params?.verbose === 1 && this.stream.isTTY ? 'bar' : 'line';
  }

  override onEpochBegin(epoch: number): void {
    this.epochStart = now();
    this.lastDraw = 0;
    this.lastLen = 0;
    this.seen = 0;
    if (this.mode === 'bar') this.stream.write(`Epoch ${epoch + 1}/${this.params.epochs}\n`);
  }

  override async onBatchEnd(batch: number, logs?: Logs): Promise<void> {
    this.seen = batch + 1;
    if (this.mode !== 'bar') return;
    const t = now();
    const last = this.params.steps !== null && batch + 1 >= this.params.steps;
    if (!last && t - this.lastDraw < this.refreshMs && batch > 0) return;
    this.lastDraw = t;
    const values = await resolveLogs(logs);
    const elapsed = (t - this.epochStart) / 1000;
    const steps = this.params.steps;
    const eta = steps === null ? null : (elapsed / (batch + 1)) * (steps - batch - 1);
    this.draw(batch + 1, values, eta === null ? '' : formatDuration(eta), elapsed / (batch + 1), false);
  }

  override onEpochEnd(epoch: number, logs: Logs = {}): void {
    const elapsed = (now() - this.epochStart) / 1000;
    const steps = this.params.steps ?? this.seen;
    const perStep = elapsed / Math.max(1, this.seen);
    if (this.mode === 'bar') {
      this.draw(this.seen, logs, formatDuration(elapsed), perStep, true);
      this.stream.write('\n');
    } else {
      this.stream.write(`Epoch ${epoch + 1}/${this.params.epochs} - ${this.seen}/${steps} - ${formatDuration(elapsed)} ${formatPerStep(perStep)}${formatLogs(logs)}\n`);
    }
  }

  private draw(done: number, logs: Logs, time: string, perStep: number, final: boolean): void {
    const steps = this.params.steps;
    const total = steps === null ? 'Unknown' : String(steps);
    const head = `${String(done).padStart(total.length)}/${total}`;
    const filled = steps === null ? 0 : Math.min(this.width, Math.floor((done / steps) * this.width));
    const color = this.stream.isTTY === true;
    const bar = color
      ? `\x1b[32m${'━'.repeat(filled)}\x1b[0m\x1b[37m${'━'.repeat(this.width - filled)}\x1b[0m`
      : `${'━'.repeat(filled)}${'─'.repeat(this.width - filled)}`;
    const line = `${head} ${bar} ${time} ${formatPerStep(perStep)}${formatLogs(logs)}`;
    const pad = this.lastLen > line.length ? ' '.repeat(this.lastLen - line.length) : '';
    this.stream.write(`\r${line}${pad}`);
    this.lastLen = final ? 0 : line.length;
  }
}
// The bar reads batch logs only through resolveLogs, so fit needs no device read per batch for it.
readsBatchLogsAsync(ProgressBar.prototype.onBatchEnd);

function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}
