// Shared by pcopy and prun (skopeo login and podman login behave alike).
import { Args } from '@oclif/core';
import { BaseCommand } from '../index.ts';
import { authfile } from '../registry-flags.ts';

export default class Logout extends BaseCommand {
  static override summary = 'Log out of a registry';
  static override examples = ['<%= config.bin %> logout registry.example'];
  static override args = {
    registry: Args.string({ required: true, ignoreStdin: true, description: 'registry host[:port]' }),
  };
  static override flags = { authfile };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Logout);
    const { logout } = await import('@pkit/storage/registry/login');
    await logout(args.registry, flags.authfile);
    this.log(`Removed login credentials for ${args.registry}`);
  }
}
