// Browser smoke test: serves dist/ from a local server, opens a page in headless Chromium and
// checks what it reports. With the cross-origin-isolation headers: a one-thread backend and a
// pooled one (blob workers; the main thread spins, never Atomics.wait), each running matmul,
// exp and randomBits against values computed in the page. Without them: the backend falls
// back to one thread and says why.
// Usage: node scripts/browser-smoke.mjs [path-to-chromium]   (needs `pnpm build` first)
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const chromium = process.argv[2] ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p) => existsSync(p));
if (!chromium) {
  console.log('browser smoke: no Chromium found (apt-get install -y chromium, or scripts/install-vulkan.sh at the repo root)');
  process.exit(1);
}
const page = `<!doctype html><meta charset="utf-8"><script type="module">
import { createWasmBackend } from '/dist/index.js';
const out = { isolated: self.crossOriginIsolated, runs: [] };
try {
  for (const threads of [1, 2]) {
    const be = await createWasmBackend({ threads, parallelThreshold: 0, onFallback: () => {} });
    const n = 96;
    const a = new Float32Array(n * n).map((_, i) => ((i * 7) % 11) - 5);
    const v = (buf, shape) => ({ buf, dtype: 'float32', shape, strides: shape.length === 2 ? [shape[1], 1] : [1], offset: 0, size: shape.reduce((x, y) => x * y, 1) });
    const A = v(be.storage.upload('float32', a), [n, n]), C = v(be.storage.alloc('float32', n * n), [n, n]);
    be.kernels.matmul(A, A, C);
    const c = be.storage.readSync(C.buf, 'float32', 0, n * n);
    let bad = 0;
    for (let i = 0; i < n; i += 7) for (let j = 0; j < n; j += 5) {
      let s = 0; for (let k = 0; k < n; k++) s += a[i * n + k] * a[k * n + j];
      if (s !== c[i * n + j]) bad++;
    }
    const X = v(be.storage.upload('float32', Float32Array.of(0, 1, -1, 10)), [4]), E = v(be.storage.alloc('float32', 4), [4]);
    be.kernels.unary('exp', X, E);
    const e = be.storage.readSync(E.buf, 'float32', 0, 4);
    const expOk = [0, 1, -1, 10].every((x, i) => Math.abs(e[i] - Math.exp(x)) <= 1e-6 * Math.exp(x));
    const R = v(be.storage.alloc('int32', 2), [2]);
    be.kernels.randomBits([0, 0], 0, { ...R, dtype: 'int32' });
    const r = be.storage.readSync(R.buf, 'int32', 0, 2);
    out.runs.push({ threads: be.threads, note: be.threadsNote, relaxedSimd: be.relaxedSimd, matmulBad: bad, expOk, bits: [r[0] >>> 0, r[1] >>> 0] });
    be.dispose();
  }
} catch (e) { out.error = String(e && e.stack || e); }
await fetch('/result', { method: 'POST', body: JSON.stringify(out) });
</script>`;

const types = { '.js': 'text/javascript', '.map': 'application/json', '.html': 'text/html' };
let resolveResult;
const server = createServer((req, res) => {
  const isolate = !req.url.startsWith('/?plain');
  const headers = isolate ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp', 'Cross-Origin-Resource-Policy': 'same-origin' } : {};
  if (req.method === 'POST' && req.url === '/result') {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => { res.writeHead(204, headers).end(); resolveResult(JSON.parse(body)); });
    return;
  }
  const path = req.url === '/' || req.url.startsWith('/?') ? null : join(root, req.url.split('?')[0]);
  if (path === null) return void res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end(page);
  if (!path.startsWith(join(root, 'dist')) || !existsSync(path)) return void res.writeHead(404, headers).end();
  res.writeHead(200, { ...headers, 'Content-Type': types[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream' }).end(readFileSync(path));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));

async function visit(url) {
  const result = new Promise((r) => { resolveResult = r; });
  const browser = spawn(chromium, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--user-data-dir=/tmp/tessera-smoke-profile', url], { stdio: 'ignore' });
  const timer = setTimeout(() => resolveResult({ error: 'timed out after 90 s' }), 90000);
  const r = await result;
  clearTimeout(timer);
  browser.kill();
  await new Promise((done) => browser.once('exit', done));
  return r;
}

const base = `http://127.0.0.1:${server.address().port}/`;
const isolated = await visit(base);
const plain = await visit(`${base}?plain`);
server.close();
console.log(JSON.stringify({ isolated, plain }, null, 2));
const good = (x) => x.matmulBad === 0 && x.expOk && x.bits[0] === 0x6b200159 && x.bits[1] === 0x99ba4efe;
const checks = [
  !isolated.error && isolated.isolated && isolated.runs.length === 2 && isolated.runs[1].threads === 2 && isolated.runs.every(good),
  !plain.error && !plain.isolated && plain.runs.length === 2 && plain.runs[1].threads === 1 && /cross-origin isolated/.test(plain.runs[1].note ?? '') && plain.runs.every(good),
];
const passed = checks.filter(Boolean).length;
console.log(`browser smoke: ${passed} passed, ${checks.length - passed} failed`);
process.exit(passed === checks.length ? 0 : 1);
