/**
 * Entry point of `pnpm mnist`: `node dist/main.js [train|predict] [options]`.
 * @module
 */
import { parseArgs, predict, train, USAGE } from './cli.js';

async function main(): Promise<void> {
  const cmd = parseArgs(process.argv.slice(2));
  if (cmd.command === 'help') console.log(USAGE);
  else if (cmd.command === 'predict') await predict(cmd.options);
  else await train(cmd.options);
}

main().catch((e: unknown) => {
  console.error(`mnist: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
