import Info from './commands/info.ts';
export const COMMANDS = { info: Info };
export { run } from '@oclif/core';
