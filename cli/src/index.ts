export { buildProgram, type CliDeps } from './build-program.js';
export { setupPipeline, type SetupTarget } from './commands/setup-command.js';
