import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Inspect extends BaseCommand {
  static override summary = 'Show a working container or an image as JSON';
  static override description =
    'buildah\'s inspect: the image a working container was made from and the config it will commit (OCIv1, and Docker\'s shape of it), or an image\'s (--type image). ' +
    'Without --type, a name that is no working container is looked up as an image. --format takes a Go template (e.g. {{.FromImageID}}, {{.OCIv1.Config.Env}}).';
  static override examples = [
    '<%= config.bin %> inspect busybox-working-container',
    '<%= config.bin %> inspect --type image busybox',
    '<%= config.bin %> inspect --format "{{.OCIv1.Config.Cmd}}" app',
  ];
  static override args = { name: Args.string({ required: true, ignoreStdin: true, description: 'working container or image (name or ID)' }) };
  static override flags = {
    type: Flags.string({ char: 't', options: ['container', 'image'], summary: 'What to inspect (default: a working container, else an image)' }),
    format: Flags.string({ char: 'f', summary: 'A Go template over the JSON' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Inspect);
    const { inspect } = await import('../actions/inspect.ts');
    const data = await inspect(flags.root, args.name, flags.type as 'container' | 'image' | undefined);
    if (flags.format === undefined) {
      this.log(JSON.stringify(data, null, 4));
      return;
    }
    const { compileTemplate } = await import('@pkit/cli-common/go-template');
    this.log(compileTemplate(flags.format)(data));
  }
}
