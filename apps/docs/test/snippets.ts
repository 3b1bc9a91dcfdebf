/**
 * Extracts the TypeScript code blocks of the guides. A block fenced as ```ts runs; one fenced
 * as ```ts no-run is a deliberate fragment (browser-only code, or a piece of a larger
 * program) and is only listed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Snippet {
  file: string;
  line: number;
  code: string;
  run: boolean;
}

export function extractSnippets(dir: string): Snippet[] {
  const out: Snippet[] = [];
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.md')).sort()) {
    const lines = readFileSync(join(dir, name), 'utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^```(ts|typescript)(\s+.*)?$/.exec(lines[i]!);
      if (!m) continue;
      const start = i + 1;
      let end = start;
      while (end < lines.length && lines[end] !== '```') end++;
      out.push({ file: name, line: start, code: lines.slice(start, end).join('\n'), run: !/\bno-run\b/.test(m[2] ?? '') });
      i = end;
    }
  }
  return out;
}
