import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The dependency direction of ARCHITECTURE.md, checked against every package.json.
const ALLOWED: Record<string, string[]> = {
  '@tessera/core': [],
  '@tessera/autograd': ['@tessera/core'],
  '@tessera/losses': ['@tessera/core', '@tessera/autograd'],
  '@tessera/optim': ['@tessera/core', '@tessera/autograd'],
  '@tessera/data': ['@tessera/core'],
  '@tessera/nn': ['@tessera/core', '@tessera/autograd', '@tessera/losses', '@tessera/optim', '@tessera/data'],
  '@tessera/conformance': ['@tessera/core', '@tessera/autograd'],
};

const root = join(__dirname, '..', '..', '..');
function manifests(): { name: string; deps: string[]; all: string[] }[] {
  const out = [];
  for (const group of ['packages', 'apps']) {
    const dir = join(root, group);
    if (!existsSync(dir)) continue;
    for (const d of readdirSync(dir)) {
      const file = join(dir, d, 'package.json');
      if (!existsSync(file)) continue;
      const pkg = JSON.parse(readFileSync(file, 'utf8'));
      const deps = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }).filter((n) => n.startsWith('@tessera/') || n === 'tessera');
      const all = Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies, ...pkg.devDependencies }).filter((n) => n.startsWith('@tessera/') || n === 'tessera');
      out.push({ name: pkg.name as string, deps, all });
    }
  }
  return out;
}

describe('architecture', () => {
  const pkgs = manifests();

  it('finds the packages', () => {
    expect(pkgs.map((p) => p.name)).toContain('@tessera/core');
    expect(pkgs.length).toBeGreaterThanOrEqual(3);
  });

  for (const p of pkgs) {
    it(`${p.name} depends only on what the map allows`, () => {
      if (p.name.startsWith('@tessera/backend-')) expect(p.deps.filter((d) => d !== '@tessera/core')).toEqual([]);
      else if (ALLOWED[p.name]) expect(p.deps.filter((d) => !ALLOWED[p.name]!.includes(d))).toEqual([]);
    });
  }

  it('has no dependency cycle (dev dependencies included)', () => {
    const graph = new Map(pkgs.map((p) => [p.name, p.all]));
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (n: string, path: string[]): void => {
      if (state.get(n) === 'done') return;
      if (state.get(n) === 'visiting') throw new Error(`cycle: ${[...path, n].join(' -> ')}`);
      state.set(n, 'visiting');
      for (const d of graph.get(n) ?? []) visit(d, [...path, n]);
      state.set(n, 'done');
    };
    for (const n of graph.keys()) visit(n, []);
  });
});
