export { buildProgram, type CliDeps } from './build-program.js';
