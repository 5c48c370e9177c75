/** `npm run bench -- ...`: runs the bench, cleans up on Ctrl-C, and always exits (no stray handle keeps it alive). */
import { runBench } from './main.js';
import { disposeAll } from './lib/lifecycle.js';

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: stopping generators and servers, dropping the bench database`);
    void disposeAll().finally(() => process.exit(130));
  });
}

const code = await runBench(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error);
  return 1;
});
await disposeAll();
process.exit(code);
