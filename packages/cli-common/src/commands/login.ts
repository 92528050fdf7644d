// Shared by pcopy and prun (skopeo login and podman login behave alike).
import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '../index.ts';
import { authfile, tlsVerify } from '../registry-flags.ts';

export default class Login extends BaseCommand {
  static override summary = 'Log in to a registry';
  static override description =
    'Checks the credentials with the registry and stores them in $XDG_RUNTIME_DIR/containers/auth.json (or --authfile), where podman and skopeo look too. ' +
    'Give the password on stdin (--password-stdin) or at the prompt: a -p value is visible to every user in the process list.';
  static override examples = ['echo "$TOKEN" | <%= config.bin %> login -u me --password-stdin registry.example'];
  static override args = {
    registry: Args.string({ required: true, ignoreStdin: true, description: 'registry host[:port]' }),
  };
  static override flags = {
    username: Flags.string({ char: 'u', summary: 'Username' }),
    password: Flags.string({ char: 'p', summary: 'Password (visible in the process list: prefer --password-stdin)' }),
    'password-stdin': Flags.boolean({ summary: 'Read the password from stdin' }),
    authfile,
    'tls-verify': tlsVerify(''),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Login);
    const { login } = await import('@pkit/storage/registry/login');
    const { StoreError } = await import('@pkit/storage/errors');
    const { readPassword, readStdin } = await import('../prompt.ts');
    if (flags.password !== undefined && flags['password-stdin']) {
      throw new StoreError('--password and --password-stdin are mutually exclusive: give one', 'PKIT_BAD_FLAG');
    }
    const username = flags.username ?? (process.stdin.isTTY ? await readPassword('Username: ', true) : undefined);
    if (!username) throw new StoreError('no username: give -u USERNAME', 'PKIT_BAD_FLAG');
    let password = flags.password;
    if (flags['password-stdin']) password = (await readStdin()).replace(/\r?\n$/, '');
    else if (password === undefined && process.stdin.isTTY) password = await readPassword('Password: ', false);
    if (password === undefined || password === '') {
      throw new StoreError('no password: pipe it to --password-stdin (or run on a terminal to be asked)', 'PKIT_BAD_FLAG');
    }
    await login(args.registry, {
      username,
      password,
      ...(flags.authfile ? { authFile: flags.authfile } : {}),
      ...(flags['tls-verify'] !== undefined ? { tlsVerify: flags['tls-verify'] } : {}),
    });
    this.log('Login Succeeded!');
  }
}
