import { Command } from '@oclif/core';

export default class Info extends Command {
  static override summary = 'Show store paths and host facts';
  async run(): Promise<void> {
    this.log('info');
  }
}
