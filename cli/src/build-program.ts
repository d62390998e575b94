import { createRequire } from 'node:module';
import { Command } from 'commander';
import { z } from 'zod';
import type { Logger, LogOutput } from '@kaudit/logging';
import type { RepoPaths } from './repo-paths.js';
import { registerStackCommand } from './commands/stack-command.js';
import { registerStartCommand } from './commands/start-command.js';
import { registerAskCommand } from './commands/ask-command.js';
import { registerInvestigateQuestions } from './commands/investigate-questions.js';
import { registerSqlCommand } from './commands/sql-command.js';
import { registerSetupCommand } from './commands/setup-command.js';
import { registerImportCommand } from './commands/import-command.js';
import { registerRulesCommand } from './commands/rules-command.js';
import { registerDemoCommand } from './commands/demo-command.js';
import { registerClustersCommand } from './commands/clusters-command.js';
import { registerTailCommand } from './commands/tail-command.js';

/** Everything commands need from the outside world, injected so they can be tested without a process. */
export interface CliDeps {
  env: Readonly<Record<string, string | undefined>>;
  paths: RepoPaths;
  logger: Logger;
  out: (text: string) => void;
  setExitCode: (code: number) => void;
  /** Ends long-running commands (`tail`) instead of the process's SIGINT/SIGTERM; tests pass their own. */
  signal?: AbortSignal;
  /** How the CLI's own output shows log lines (pretty on a terminal); `start` shows the services' lines the same way. Default JSON. */
  logOutput?: LogOutput;
}

const packageSchema = z.object({ version: z.string().min(1) });

/** The version of this package (cli/package.json: one level above both src/ and dist/). */
function cliVersion(): string {
  return packageSchema.parse(createRequire(import.meta.url)('../package.json')).version;
}

export function buildProgram(deps: CliDeps): Command {
  const program = new Command('kaudit')
    .version(`kaudit ${cliVersion()}`, '-V, --version', 'print the kaudit version')
    .description('Kubernetes audit across clusters: who did what, to which object, from where, with what result, and when.')
    .showHelpAfterError();
  registerStackCommand(program, deps);
  registerStartCommand(program, deps);
  registerInvestigateQuestions(registerAskCommand(program, deps), deps);
  registerSqlCommand(program, deps);
  registerSetupCommand(program, deps);
  registerImportCommand(program, deps);
  registerRulesCommand(program, deps);
  registerDemoCommand(program, deps);
  registerClustersCommand(program, deps);
  registerTailCommand(program, deps);
  return program;
}
