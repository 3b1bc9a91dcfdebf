/**
 * `pnpm --filter finetune start`: the MNIST transfer-learning scenario, then the tabular
 * (breast-cancer diagnosis) one. Flags: `--backend <js|wasm|native|webgpu>`, `--seed <n>`,
 * `--small <n>` (MNIST fine-tuning images), `--arch cnn|mlp`, `--only mnist|tabular`.
 * @module
 */
import { memory } from 'tessera';
import { useBackend } from '@tessera/app-kit';
import { runMnistTransfer } from './mnist-transfer.js';
import { runTabular } from './tabular.js';

function flag(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const a = argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
}

function num(argv: string[], name: string): number | undefined {
  const v = flag(argv, name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs an integer >= 1, got ${v}`);
  return n;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2).filter((a) => a !== '--');
  const known = ['--backend', '--seed', '--small', '--only', '--arch', '--pretrain-pool', '--pretrain-epochs', '--epochs', '--few', '--draws'];
  for (const a of argv) {
    if (a.startsWith('--') && !known.includes(a.split('=')[0]!)) throw new Error(`unknown option ${a} (options: ${known.join(', ')})`);
  }
  const seed = Number(flag(argv, '--seed') ?? 0);
  const small = Number(flag(argv, '--small') ?? 200);
  if (!Number.isInteger(seed) || !Number.isInteger(small) || small < 10) throw new Error('--seed needs an integer and --small an integer >= 10');
  const only = flag(argv, '--only');
  if (only !== undefined && only !== 'mnist' && only !== 'tabular') throw new Error(`--only needs mnist or tabular, got ${only}`);
  const arch = flag(argv, '--arch') ?? 'cnn';
  if (arch !== 'mlp' && arch !== 'cnn') throw new Error(`--arch needs mlp or cnn, got ${arch}`);
  const backend = await useBackend(flag(argv, '--backend') ?? 'js');
  console.log(`Backend: ${backend}`);
  const t0 = performance.now();
  if (only !== 'tabular') await runMnistTransfer({
      seed,
      smallSize: small,
      arch,
      pretrainPool: num(argv, '--pretrain-pool'),
      pretrainEpochs: num(argv, '--pretrain-epochs'),
      epochs: num(argv, '--epochs'),
    });
  if (only !== 'mnist') await runTabular({ seed, fewShot: num(argv, '--few'), draws: num(argv, '--draws') });
  const m = memory();
  console.log(`Done in ${((performance.now() - t0) / 1000).toFixed(1)} s; ${m.numTensors} tensors live.`);
}

main().catch((e: unknown) => {
  console.error(`finetune: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
