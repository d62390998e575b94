/**
 * A process that starts a local stack (both engines) and then just runs, for engines-die-with-their-parent.int.test.ts:
 * `stack-parent.ts <root> <name> [outlive]`. Prints the engines' PIDs as one JSON line once they serve.
 */
import { createLogger } from '@kaudit/logging';
import { LocalStack } from '../local-stack.js';
import { freePort } from '../process-control.js';

const [root, name, outlive] = process.argv.slice(2);
if (root === undefined || name === undefined) throw new Error('usage: stack-parent.ts <root> <name> [outlive]');
const stack = new LocalStack({
  root,
  name,
  kafkaPort: await freePort(),
  kafkaControllerPort: await freePort(),
  clickhouseHttpPort: await freePort(),
  outliveProcess: outlive === 'outlive',
  logger: createLogger({ service: 'stack-parent', level: 'warn' }),
});
await stack.up();
const pids = (await stack.status()).map((s) => s.pid);
process.stdout.write(`${JSON.stringify({ pids })}\n`);
// Runs until killed: nothing else keeps the event loop alive (the engines' tether must not, see spawnDetached).
setInterval(() => undefined, 60_000);
