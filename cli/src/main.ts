import { readEnv } from '@kaudit/config';
import { isKauditError } from '@kaudit/errors';
import { chooseLogOutput, createLogger } from '@kaudit/logging';
import { buildProgram } from './build-program.js';
import { repoPaths } from './repo-paths.js';

// Composition root of the CLI: read the environment once, wire the logger, run one command.
const env = readEnv();
let logOutput;
try {
  // Readable lines on a terminal (npm start), JSON when piped; KAUDIT_LOG_FORMAT forces one.
  logOutput = chooseLogOutput({ isTTY: process.stdout.isTTY === true, requested: env.KAUDIT_LOG_FORMAT, noColor: env.NO_COLOR });
} catch (err) {
  process.stderr.write(`kaudit: ${(err as Error).message}\n`);
  process.exit(1);
}
const logger = createLogger({ service: 'kaudit-cli', level: env.KAUDIT_LOG_LEVEL ?? 'info', output: logOutput });
const program = buildProgram({
  env,
  logOutput,
  paths: repoPaths(),
  logger,
  out: (text) => process.stdout.write(`${text}\n`),
  setExitCode: (code) => {
    process.exitCode = code;
  },
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Known failures get their message alone (it says what to do); anything else is a bug: show the stack.
  if (isKauditError(err)) process.stderr.write(`kaudit: ${err.message}\n`);
  else process.stderr.write(`kaudit: unexpected error\n${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
}
