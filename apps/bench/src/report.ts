/**
 * Results → Markdown table (with ratios against the best peer of each row), JSON, and an SVG
 * bar chart of the ratios.
 */
import { fmt, fmtRatio, fmtStat } from './stats.js';
import type { Cell, Results, Row, SubjectInfo } from './types.js';

/** The best peer of a row: highest or lowest median among the peers that have a number. */
export function bestPeer(row: Row, subjects: readonly SubjectInfo[], family?: 'node' | 'python'): { id: string; value: number } | undefined {
  let best: { id: string; value: number } | undefined;
  for (const s of subjects) {
    if (s.kind !== 'peer' || (family && s.family !== family)) continue;
    const v = row.cells[s.id]?.stat?.median;
    if (v === undefined || !Number.isFinite(v)) continue;
    if (!best || (row.better === 'higher' ? v > best.value : v < best.value)) best = { id: s.id, value: v };
  }
  return best;
}

/** Tessera ÷ peer, oriented so that > 1 means Tessera is better. */
export function ratio(row: Row, tesseraValue: number | undefined, peerValue: number | undefined): number {
  if (tesseraValue === undefined || peerValue === undefined || !(tesseraValue > 0) || !(peerValue > 0)) return Number.NaN;
  return row.better === 'higher' ? tesseraValue / peerValue : peerValue / tesseraValue;
}

export interface RatioEntry {
  row: string;
  subject: string;
  vsBest: number;
  bestPeer?: string;
  vsBestNode: number;
  bestNodePeer?: string;
}

export function ratios(results: Results): RatioEntry[] {
  const tess = results.subjects.filter((s) => s.kind === 'tessera' && s.status === 'ok');
  const out: RatioEntry[] = [];
  for (const row of results.rows) {
    const best = bestPeer(row, results.subjects);
    const bestNode = bestPeer(row, results.subjects, 'node');
    for (const t of tess) {
      const v = row.cells[t.id]?.stat?.median;
      out.push({
        row: row.id,
        subject: t.id,
        vsBest: ratio(row, v, best?.value),
        bestPeer: best?.id,
        vsBestNode: ratio(row, v, bestNode?.value),
        bestNodePeer: bestNode?.id,
      });
    }
  }
  return out;
}

function cellText(c: Cell | undefined): string {
  if (!c) return '—';
  if (c.stat && c.stat.n > 0) return fmtStat(c.stat);
  if (c.error === 'n/a') return 'n/a';
  if (c.error === 'skipped') return 'skipped²';
  if (c.error) return `error¹`;
  return '—';
}

const esc = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function toMarkdown(results: Results): string {
  const { machine: m, subjects, rows } = results;
  const ok = subjects.filter((s) => s.status === 'ok');
  const tess = ok.filter((s) => s.kind === 'tessera');
  const label = (id: string | undefined) => subjects.find((s) => s.id === id)?.label ?? id ?? '—';
  const la = (l?: [number, number, number]) => (l ? l.map((x) => x.toFixed(2)).join(' / ') : '—');
  const out: string[] = [];
  out.push(`# Tessera benchmark (${m.mode} run)`, '');
  out.push('| | |', '|---|---|');
  out.push(`| date | ${m.date} |`);
  out.push(`| machine | ${m.cpu}, ${m.cores} cores, ${m.totalMemGiB.toFixed(1)} GiB RAM, ${m.platform} |`);
  out.push(`| Node | ${m.node} (V8 ${m.v8}) |`);
  if (m.python) out.push(`| Python | ${esc(m.python)} |`);
  out.push(`| load average (1/5/15 min) | start ${la(m.loadStart)}; end ${la(m.loadEnd)} |`);
  const pct = (x?: number) => (x === undefined ? '—' : `${(x * 100).toFixed(0)}%`);
  if (m.idleStart !== undefined || m.idleEnd !== undefined) out.push(`| CPU idle over 1 s (/proc/stat, all containers) | start ${pct(m.idleStart)}; end ${pct(m.idleEnd)} |`);
  if (m.commit) out.push(`| commit | ${m.commit} |`);
  if (m.durationSec !== undefined) {
    const w = m.waitIdle ? `, of which ${(m.waitIdle.waitedSec / 60).toFixed(1)} min waiting for ≥ ${(m.waitIdle.minIdle * 100).toFixed(0)}% idle CPUs before rows (--wait-idle)` : '';
    out.push(`| duration | ${(m.durationSec / 60).toFixed(1)} min${w} |`);
  }
  out.push('');
  out.push(
    'Each cell is the **median (min–max)** over the samples; the subjects of a row are sampled in interleaved rounds ' +
      '(A, B, C, A, B, C …) after a warm-up. MNIST rows come from one child process per run (interleaved across subjects when ' +
      'repeated); `n=1` marks a single run. **÷ best** = Tessera against the best peer of the row, oriented so that **> 1× means Tessera is better** ' +
      '(faster, or less memory). `n/a`: the subject does not offer that workload; `error¹`: see the footnotes.',
    '',
  );
  const cols = [...ok.map((s) => s.label), 'best peer', ...tess.map((t) => `${t.label} ÷ best`)];
  out.push(`| workload | unit | ${cols.map(esc).join(' | ')} |`);
  out.push(`|---|---|${cols.map(() => '---:').join('|')}|`);
  const errors: string[] = [];
  let busyRows = 0;
  for (const row of rows) {
    const best = bestPeer(row, subjects);
    const cells = ok.map((s) => {
      const c = row.cells[s.id];
      if (c?.error && c.error !== 'n/a' && c.error !== 'skipped') errors.push(`${row.label} — ${s.label}: ${c.error}`);
      return cellText(c);
    });
    const rs = tess.map((t) => fmtRatio(ratio(row, row.cells[t.id]?.stat?.median, best?.value)));
    const busyRow = m.waitIdle && row.idleBefore !== undefined && row.idleBefore < m.waitIdle.minIdle;
    if (busyRow) busyRows++;
    out.push(`| ${esc(row.label)}${busyRow ? ' ‡' : ''} | ${row.unit} | ${cells.join(' | ')} | ${best ? esc(label(best.id)) : '—'} | ${rs.join(' | ')} |`);
  }
  out.push('');
  if (errors.length) {
    out.push('¹ Errors:', '');
    for (const e of errors) out.push(`- ${esc(e)}`);
    out.push('');
  }
  if (busyRows > 0 && m.waitIdle) {
    out.push(`‡ This row started on a busy machine: the CPUs were still under ${(m.waitIdle.minIdle * 100).toFixed(0)}% idle after the maximum wait.`, '');
  }
  if (rows.some((r) => Object.values(r.cells).some((c) => c.error === 'skipped'))) {
    out.push('² Quick mode trains only the default (all-threads) instance of each Tessera backend; `--full` adds the 1-thread ones.', '');
  }
  // Against the in-Node peers only: the real alternatives for a JS/TS program.
  if (tess.length) {
    out.push('### Against the best in-Node peer (tfjs, jax-js)', '');
    out.push(`| workload | best Node peer | ${tess.map((t) => `${esc(t.label)} ÷ it`).join(' | ')} |`);
    out.push(`|---|---|${tess.map(() => '---:').join('|')}|`);
    for (const row of rows) {
      const b = bestPeer(row, subjects, 'node');
      out.push(`| ${esc(row.label)} | ${b ? `${esc(label(b.id))} (${fmt(b.value)} ${row.unit})` : '—'} | ${tess.map((t) => fmtRatio(ratio(row, row.cells[t.id]?.stat?.median, b?.value))).join(' | ')} |`);
    }
    out.push('');
  }
  out.push('## Subjects', '');
  out.push('| subject | kind | status | detail |', '|---|---|---|---|');
  for (const s of subjects) out.push(`| ${esc(s.label)} | ${s.kind === 'tessera' ? 'Tessera' : `peer (${s.family ?? 'node'})`} | ${s.status} | ${esc(s.detail)} |`);
  out.push('');
  if (results.notes.length) {
    out.push('## Notes', '');
    for (const n of results.notes) out.push(`- ${esc(n)}`);
    out.push('');
  }
  out.push('Raw numbers (every sample-set summary, per subject): `latest.json`. Chart: `latest.svg`.', '');
  return out.join('\n');
}

const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2', '#4d7c0f', '#be185d'];

const xmlEsc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Horizontal bars of Tessera ÷ best peer, one group per workload row and one bar per Tessera
 * backend, on a log axis centred at 1×.
 */
export function toSvg(results: Results): string {
  const tess = results.subjects.filter((s) => s.kind === 'tessera' && s.status === 'ok');
  const rs = ratios(results);
  const get = (row: string, subj: string) => rs.find((r) => r.row === row && r.subject === subj)?.vsBest ?? Number.NaN;
  const finite = rs.map((r) => r.vsBest).filter((x) => Number.isFinite(x) && x > 0);
  let lo = Math.floor(Math.log10(Math.min(0.1, ...finite)));
  let hi = Math.ceil(Math.log10(Math.max(10, ...finite)));
  lo = Math.max(lo, -4);
  hi = Math.min(hi, 4);
  const labelW = 330;
  const plotW = 520;
  const barH = 11;
  const gap = 8;
  const legendPer = 4;
  const legendRows = Math.ceil(Math.max(1, tess.length) / legendPer);
  const top = 50 + legendRows * 16 + 10;
  const groupH = Math.max(1, tess.length) * barH + gap;
  const height = top + results.rows.length * groupH + 40;
  const width = labelW + plotW + 70;
  const x = (r: number) => labelW + ((Math.log10(r) - lo) / (hi - lo)) * plotW;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="11">`,
  );
  parts.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  parts.push(
    `<text x="10" y="18" font-size="14" font-weight="600">Tessera ÷ best peer per workload (log scale; right of 1× = Tessera better)</text>`,
    `<text x="10" y="34" fill="#555">${xmlEsc(`${results.machine.mode} run, ${results.machine.date}, ${results.machine.cpu}, ${results.machine.cores} cores, Node ${results.machine.node}, load ${results.machine.loadStart.join(' ')}`)}</text>`,
  );
  tess.forEach((t, i) => {
    const lx = 10 + (i % legendPer) * 200;
    const ly = 44 + Math.floor(i / legendPer) * 16;
    parts.push(`<rect x="${lx}" y="${ly}" width="10" height="10" fill="${COLORS[i % COLORS.length]}"/>`, `<text x="${lx + 14}" y="${ly + 9}">${xmlEsc(t.label)}</text>`);
  });
  // Grid.
  const plotBottom = top + results.rows.length * groupH;
  for (let e = lo; e <= hi; e++) {
    const gx = x(10 ** e);
    parts.push(`<line x1="${gx.toFixed(1)}" y1="${top - 4}" x2="${gx.toFixed(1)}" y2="${plotBottom}" stroke="${e === 0 ? '#111' : '#ddd'}" stroke-width="${e === 0 ? 1.2 : 1}"/>`);
    const lab = e >= 0 ? `${10 ** e}×` : `${(10 ** e).toFixed(-e)}×`;
    parts.push(`<text x="${gx.toFixed(1)}" y="${plotBottom + 14}" text-anchor="middle" fill="#555">${lab}</text>`);
  }
  let lastGroup = '';
  results.rows.forEach((row, ri) => {
    const gy = top + ri * groupH;
    if (row.group !== lastGroup && ri > 0) parts.push(`<line x1="10" y1="${gy - gap / 2}" x2="${labelW + plotW}" y2="${gy - gap / 2}" stroke="#eee"/>`);
    lastGroup = row.group;
    parts.push(`<text x="${labelW - 8}" y="${gy + (tess.length * barH) / 2 + 4}" text-anchor="end">${xmlEsc(`${row.label} (${row.unit})`)}</text>`);
    tess.forEach((t, ti) => {
      const r = get(row.id, t.id);
      const by = gy + ti * barH;
      if (!Number.isFinite(r) || r <= 0) {
        const c = row.cells[t.id];
        const why = c?.error === 'skipped' ? 'skipped (quick mode)' : c?.error && c.error !== 'n/a' ? 'error' : 'n/a';
        parts.push(`<text x="${x(1) + 4}" y="${by + barH - 2}" fill="#999" font-size="9">${why}</text>`);
        return;
      }
      const rc = Math.min(10 ** hi, Math.max(10 ** lo, r));
      const x0 = Math.min(x(1), x(rc));
      const w = Math.max(1, Math.abs(x(rc) - x(1)));
      parts.push(`<rect x="${x0.toFixed(1)}" y="${by + 1}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${COLORS[ti % COLORS.length]}"><title>${xmlEsc(`${row.label}: ${t.label} ${fmtRatio(r)} of the best peer`)}</title></rect>`);
      const tx = r >= 1 ? x0 + w + 3 : x0 - 3;
      parts.push(`<text x="${tx.toFixed(1)}" y="${by + barH - 2}" font-size="9" fill="#333" text-anchor="${r >= 1 ? 'start' : 'end'}">${xmlEsc(fmtRatio(r))}</text>`);
    });
  });
  parts.push(`<text x="10" y="${height - 8}" fill="#777" font-size="10">Best peer = fastest (or smallest) of tfjs cpu/wasm, jax-js, PyTorch and NumPy in that row. Source: apps/bench/results/latest.json</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
