export { CliError } from './output';
export { createProgram } from './program';
