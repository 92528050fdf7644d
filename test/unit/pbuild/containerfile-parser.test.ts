// The parser, as a table: one instruction (after `FROM base`) -> its parsed form, and whole
// files -> the exact error message with file:line:col.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseContainerfile } from '../../../packages/pbuild/src/containerfile/index.ts';
import { errorMessage, instructionsOf } from './containerfile-helpers.ts';

const shell = (text: string) => ({ form: 'shell', text });
const exec = (...args: string[]) => ({ form: 'exec', args });
const run = (command: unknown, extra: Record<string, unknown> = {}) => ({ kind: 'RUN', command, heredocs: [], mounts: [], mountSpecs: [], ...extra });
const path = (p: string) => ({ kind: 'path', path: p });
const copy = (sources: unknown[], dest: string, extra: Record<string, unknown> = {}) => ({
  kind: 'COPY',
  sources,
  dest,
  link: false,
  parents: false,
  excludes: [],
  ...extra,
});
const add = (sources: unknown[], dest: string, extra: Record<string, unknown> = {}) => ({ kind: 'ADD', sources, dest, link: false, excludes: [], ...extra });
const heredoc = (name: string, content: string, extra: Record<string, unknown> = {}) => ({ name, expand: true, chomp: false, content, ...extra });

const CASES: Array<[string, unknown]> = [
  // RUN
  ['RUN echo hi', run(shell('echo hi'))],
  ['run   echo   hi  ', run(shell('echo   hi'))],
  ['RUN ["echo", "hi"]', run(exec('echo', 'hi'))],
  ['RUN [ -f /etc/os-release ] && echo yes', run(shell('[ -f /etc/os-release ] && echo yes'))],
  ['RUN echo $HOME "${USER}"', run(shell('echo $HOME "${USER}"'))],
  ['RUN echo "some # of cool things"', run(shell('echo "some # of cool things"'))],
  ['RUN --network=none make', run(shell('make'), { network: 'none' })],
  ['RUN --network=host --security=insecure make', run(shell('make'), { network: 'host', security: 'insecure' })],
  ['RUN -- --help', run(shell('--help'))],
  ['RUN --device=nvidia.com/gpu=all nvidia-smi', run(shell('nvidia-smi'), { devices: ['nvidia.com/gpu=all'] })],
  [
    'RUN --mount=type=bind,source=.,target=/src,rw make',
    run(shell('make'), { mounts: [{ type: 'bind', readonly: false, source: '.', target: '/src' }], mountSpecs: ['type=bind,source=.,target=/src,rw'] }),
  ],
  [
    'RUN --mount=target=. make',
    run(shell('make'), { mounts: [{ type: 'bind', readonly: true, target: '.' }], mountSpecs: ['target=.'] }),
  ],
  [
    'RUN --mount=type=cache,target=/var/cache/apt,sharing=locked,id=apt --mount=type=tmpfs,dst=/tmp,size=64m x',
    run(shell('x'), {
      mounts: [
        { type: 'cache', readonly: false, target: '/var/cache/apt', sharing: 'locked', id: 'apt' },
        { type: 'tmpfs', readonly: false, target: '/tmp', size: 64 * 1024 * 1024 },
      ],
      mountSpecs: ['type=cache,target=/var/cache/apt,sharing=locked,id=apt', 'type=tmpfs,dst=/tmp,size=64m'],
    }),
  ],
  [
    'RUN --mount=type=cache,target=/c,mode=0700,uid=1000,gid=1000,ro x',
    run(shell('x'), { mounts: [{ type: 'cache', readonly: true, target: '/c', mode: 0o700, uid: 1000, gid: 1000 }], mountSpecs: ['type=cache,target=/c,mode=0700,uid=1000,gid=1000,ro'] }),
  ],
  [
    'RUN --mount=type=secret,id=aws,target=/root/.aws/credentials,required=true,mode=0400 aws s3 ls',
    run(shell('aws s3 ls'), {
      mounts: [{ type: 'secret', readonly: true, id: 'aws', target: '/root/.aws/credentials', required: true, mode: 0o400 }],
      mountSpecs: ['type=secret,id=aws,target=/root/.aws/credentials,required=true,mode=0400'],
    }),
  ],
  [
    'RUN --mount=type=secret,id=API_KEY,env=API_KEY,required some-command',
    run(shell('some-command'), { mounts: [{ type: 'secret', readonly: true, id: 'API_KEY', env: 'API_KEY', required: true }], mountSpecs: ['type=secret,id=API_KEY,env=API_KEY,required'] }),
  ],
  ['RUN --mount=type=ssh git clone x', run(shell('git clone x'), { mounts: [{ type: 'ssh', readonly: true }], mountSpecs: ['type=ssh'] })],
  [
    'RUN --mount=from=builder,source=/out,target=/in cp -r /in /x',
    run(shell('cp -r /in /x'), { mounts: [{ type: 'bind', readonly: true, from: 'builder', source: '/out', target: '/in' }], mountSpecs: ['from=builder,source=/out,target=/in'] }),
  ],
  [
    'RUN --mount=type=cache,id=go-$TARGETARCH,target=/go/pkg go build',
    run(shell('go build'), { mounts: [{ type: 'cache', readonly: false, id: 'go-$TARGETARCH', target: '/go/pkg' }], mountSpecs: ['type=cache,id=go-$TARGETARCH,target=/go/pkg'] }),
  ],
  // a value with a variable is checked once expanded: here mode is left for later
  [
    'RUN --mount=type=cache,target=/c,mode=$MODE x',
    run(shell('x'), { mounts: [{ type: 'cache', readonly: false, target: '/c' }], mountSpecs: ['type=cache,target=/c,mode=$MODE'] }),
  ],
  [
    'RUN --mount="type=bind,source=a b,target=/x" ls',
    run(shell('ls'), { mounts: [{ type: 'bind', readonly: true, source: 'a b', target: '/x' }], mountSpecs: ['type=bind,source=a b,target=/x'] }),
  ],
  [
    'RUN --mount=type=bind,\\"source=a,b\\",target=/x ls',
    run(shell('ls'), { mounts: [{ type: 'bind', readonly: true, source: 'a,b', target: '/x' }], mountSpecs: ['type=bind,"source=a,b",target=/x'] }),
  ],

  // CMD, ENTRYPOINT
  ['CMD ["nginx", "-g", "daemon off;"]', { kind: 'CMD', command: exec('nginx', '-g', 'daemon off;') }],
  ['CMD echo $HOME', { kind: 'CMD', command: shell('echo $HOME') }],
  ['CMD []', { kind: 'CMD', command: exec() }],
  ['CMD ["c:\\\\windows\\\\tasklist.exe"]', { kind: 'CMD', command: exec('c:\\windows\\tasklist.exe') }],
  ['ENTRYPOINT ["/docker-entrypoint.sh"]', { kind: 'ENTRYPOINT', command: exec('/docker-entrypoint.sh') }],
  ['ENTRYPOINT exec top -b', { kind: 'ENTRYPOINT', command: shell('exec top -b') }],
  ['ENTRYPOINT []', { kind: 'ENTRYPOINT', command: exec() }],

  // LABEL: values keep their quotes until expansion
  ['LABEL "com.example.vendor"="ACME Incorporated"', { kind: 'LABEL', labels: [{ key: '"com.example.vendor"', value: '"ACME Incorporated"' }] }],
  [
    'LABEL a=1 b="two words" c=three\\ words d=\'$single\'',
    {
      kind: 'LABEL',
      labels: [
        { key: 'a', value: '1' },
        { key: 'b', value: '"two words"' },
        { key: 'c', value: 'three\\ words' },
        { key: 'd', value: "'$single'" },
      ],
    },
  ],
  [
    'LABEL description="This text illustrates \\\nthat label-values can span multiple lines."',
    { kind: 'LABEL', labels: [{ key: 'description', value: '"This text illustrates that label-values can span multiple lines."' }] },
  ],
  [
    'LABEL multi.label1="value1" \\\n      multi.label2="value2" \\\n      other="value3"',
    {
      kind: 'LABEL',
      labels: [
        { key: 'multi.label1', value: '"value1"' },
        { key: 'multi.label2', value: '"value2"' },
        { key: 'other', value: '"value3"' },
      ],
    },
  ],
  ['LABEL version 1.0 beta', { kind: 'LABEL', labels: [{ key: 'version', value: '1.0 beta' }] }],

  ['MAINTAINER Jane Doe <jane@example.com>', { kind: 'MAINTAINER', maintainer: 'Jane Doe <jane@example.com>' }],

  // EXPOSE keeps the words; expansion turns them into port/proto entries
  ['EXPOSE 80/tcp 443 53/udp 8000-8010', { kind: 'EXPOSE', ports: ['80/tcp', '443', '53/udp', '8000-8010'] }],
  ['EXPOSE $PORT', { kind: 'EXPOSE', ports: ['$PORT'] }],

  // ENV, both forms
  ['ENV MY_NAME="John Doe"', { kind: 'ENV', env: [{ key: 'MY_NAME', value: '"John Doe"' }] }],
  ['ENV MY_DOG=Rex\\ The\\ Dog', { kind: 'ENV', env: [{ key: 'MY_DOG', value: 'Rex\\ The\\ Dog' }] }],
  [
    'ENV MY_NAME="John Doe" MY_DOG=Rex\\ The\\ Dog \\\n    MY_CAT=fluffy',
    {
      kind: 'ENV',
      env: [
        { key: 'MY_NAME', value: '"John Doe"' },
        { key: 'MY_DOG', value: 'Rex\\ The\\ Dog' },
        { key: 'MY_CAT', value: 'fluffy' },
      ],
    },
  ],
  ['ENV MY_VAR my-value', { kind: 'ENV', env: [{ key: 'MY_VAR', value: 'my-value' }] }],
  ['ENV ONE TWO= THREE=world', { kind: 'ENV', env: [{ key: 'ONE', value: 'TWO= THREE=world' }] }],
  ['ENV PATH=/usr/local/bin:$PATH EMPTY=', { kind: 'ENV', env: [{ key: 'PATH', value: '/usr/local/bin:$PATH' }, { key: 'EMPTY', value: '' }] }],
  ['ENV A="a \\" b" B=\'x \\ y\'', { kind: 'ENV', env: [{ key: 'A', value: '"a \\" b"' }, { key: 'B', value: "'x \\ y'" }] }],

  // ARG
  ['ARG VERSION', { kind: 'ARG', args: [{ name: 'VERSION' }] }],
  ['ARG VERSION=1.0 USER=app EMPTY=', { kind: 'ARG', args: [{ name: 'VERSION', default: '1.0' }, { name: 'USER', default: 'app' }, { name: 'EMPTY', default: '' }] }],
  ['ARG MSG="hello world" N', { kind: 'ARG', args: [{ name: 'MSG', default: '"hello world"' }, { name: 'N' }] }],

  // ADD
  ['ADD https://example.com/a.tar.gz /tmp/', add([path('https://example.com/a.tar.gz')], '/tmp/')],
  ['ADD --chown=55:mygroup --chmod=644 files* /somedir/', add([path('files*')], '/somedir/', { chown: '55:mygroup', chmod: '644' })],
  [
    'ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://mirrors.edge.kernel.org/linux-0.01.tar.gz /',
    add([path('https://mirrors.edge.kernel.org/linux-0.01.tar.gz')], '/', { checksum: 'sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d' }),
  ],
  [
    'ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.10.1 /buildkit',
    add([path('https://github.com/moby/buildkit.git#v0.10.1')], '/buildkit', { keepGitDir: true }),
  ],
  ['ADD --link --unpack=false a.tar b.tar /x/', add([path('a.tar'), path('b.tar')], '/x/', { link: true, unpack: false })],
  ['ADD ["a b.txt", "/dest dir/"]', add([path('a b.txt')], '/dest dir/')],
  ['ADD --exclude=*.md --exclude=docs/ . /app/', add([path('.')], '/app/', { excludes: ['*.md', 'docs/'] })],

  // COPY
  ['COPY --from=build /out/app /usr/local/bin/app', copy([path('/out/app')], '/usr/local/bin/app', { from: 'build' })],
  ['COPY --from=0 /a /b', copy([path('/a')], '/b', { from: '0' })],
  ['COPY --from=nginx:latest /etc/nginx/nginx.conf /nginx.conf', copy([path('/etc/nginx/nginx.conf')], '/nginx.conf', { from: 'nginx:latest' })],
  ['COPY --chown=1000:1000 --chmod=0755 --link . /app', copy([path('.')], '/app', { chown: '1000:1000', chmod: '0755', link: true })],
  ['COPY --chown=$UID:$GID a b', copy([path('a')], 'b', { chown: '$UID:$GID' })],
  ['COPY --parents ./x/a.txt ./y/a.txt /parents/', copy([path('./x/a.txt'), path('./y/a.txt')], '/parents/', { parents: true })],
  ['COPY --exclude=*.txt --exclude=tmp/ hom* /mydir/', copy([path('hom*')], '/mydir/', { excludes: ['*.txt', 'tmp/'] })],
  ['COPY ["src", "dest/"]', copy([path('src')], 'dest/')],
  ['COPY --link=false a b', copy([path('a')], 'b')],
  // a quoted word is no flag (the quotes go when the path is expanded)
  ['COPY "--from=x" a b', copy([path('"--from=x"'), path('a')], 'b')],
  ['COPY $SRC ${DEST}/', copy([path('$SRC')], '${DEST}/')],

  // VOLUME, USER, WORKDIR, STOPSIGNAL
  ['VOLUME /data', { kind: 'VOLUME', volumes: ['/data'] }],
  ['VOLUME /a /b', { kind: 'VOLUME', volumes: ['/a', '/b'] }],
  ['VOLUME ["/var/log", " /var/db "]', { kind: 'VOLUME', volumes: ['/var/log', '/var/db'] }],
  ['USER app:app', { kind: 'USER', user: 'app:app' }],
  ['USER $UID', { kind: 'USER', user: '$UID' }],
  ['WORKDIR /app', { kind: 'WORKDIR', path: '/app' }],
  ['WORKDIR "/my dir"', { kind: 'WORKDIR', path: '"/my dir"' }],
  ['STOPSIGNAL SIGQUIT', { kind: 'STOPSIGNAL', signal: 'SIGQUIT' }],
  ['STOPSIGNAL 9', { kind: 'STOPSIGNAL', signal: '9' }],
  ['STOPSIGNAL sigrtmin+3', { kind: 'STOPSIGNAL', signal: 'sigrtmin+3' }],
  ['STOPSIGNAL $SIG', { kind: 'STOPSIGNAL', signal: '$SIG' }],

  // HEALTHCHECK (durations in nanoseconds)
  ['HEALTHCHECK NONE', { kind: 'HEALTHCHECK', test: ['NONE'] }],
  [
    'HEALTHCHECK --interval=5m --timeout=3s \\\n  CMD curl -f http://localhost/ || exit 1',
    { kind: 'HEALTHCHECK', test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'], interval: 300e9, timeout: 3e9 },
  ],
  [
    'HEALTHCHECK --start-period=1m30s --start-interval=500ms --retries=5 CMD ["pg_isready", "-U", "postgres"]',
    { kind: 'HEALTHCHECK', test: ['CMD', 'pg_isready', '-U', 'postgres'], startPeriod: 90e9, startInterval: 500e6, retries: 5 },
  ],
  ['healthcheck cmd true', { kind: 'HEALTHCHECK', test: ['CMD-SHELL', 'true'] }],
  ['HEALTHCHECK --interval=0s --retries=0 CMD x', { kind: 'HEALTHCHECK', test: ['CMD-SHELL', 'x'] }],
  ['HEALTHCHECK --interval=1.5h CMD x', { kind: 'HEALTHCHECK', test: ['CMD-SHELL', 'x'], interval: 5400e9 }],
  ['HEALTHCHECK CMD --interval=5s', { kind: 'HEALTHCHECK', test: ['CMD-SHELL', '--interval=5s'] }],

  // SHELL
  ['SHELL ["/bin/bash", "-o", "pipefail", "-c"]', { kind: 'SHELL', shell: ['/bin/bash', '-o', 'pipefail', '-c'] }],
  ['SHELL ["powershell", "-command"]', { kind: 'SHELL', shell: ['powershell', '-command'] }],

  // ONBUILD: the wrapped instruction is parsed
  ['ONBUILD ADD . /app/src', { kind: 'ONBUILD', trigger: add([path('.')], '/app/src'), expression: 'ADD . /app/src' }],
  [
    'ONBUILD RUN --mount=type=cache,target=/root/.cache make',
    {
      kind: 'ONBUILD',
      trigger: run(shell('make'), { mounts: [{ type: 'cache', readonly: false, target: '/root/.cache' }], mountSpecs: ['type=cache,target=/root/.cache'] }),
      expression: 'RUN --mount=type=cache,target=/root/.cache make',
    },
  ],
  [
    'onbuild   COPY <<EOF /x\nhello $NAME\nEOF',
    { kind: 'ONBUILD', trigger: copy([{ kind: 'heredoc', heredoc: heredoc('EOF', 'hello $NAME\n') }], '/x'), expression: 'COPY <<EOF /x\nhello $NAME\nEOF' },
  ],
  ['ONBUILD ENV A=$B', { kind: 'ONBUILD', trigger: { kind: 'ENV', env: [{ key: 'A', value: '$B' }] }, expression: 'ENV A=$B' }],

  // heredocs
  ['RUN <<EOF\necho a\necho b\nEOF', run(shell('<<EOF'), { heredocs: [heredoc('EOF', 'echo a\necho b\n')] })],
  ['RUN <<-EOF\n\techo a\n\t\techo b\n\tEOF', run(shell('<<-EOF'), { heredocs: [heredoc('EOF', 'echo a\necho b\n', { chomp: true })] })],
  ["RUN <<'EOF'\necho $HOME\nEOF", run(shell("<<'EOF'"), { heredocs: [heredoc('EOF', 'echo $HOME\n', { expand: false })] })],
  ['RUN <<"EOF"\necho $HOME\nEOF', run(shell('<<"EOF"'), { heredocs: [heredoc('EOF', 'echo $HOME\n', { expand: false })] })],
  [
    'RUN <<FILE1 cat > file1 && <<FILE2 cat > file2\nI am\nfirst\nFILE1\nI am\nsecond\nFILE2',
    run(shell('<<FILE1 cat > file1 && <<FILE2 cat > file2'), { heredocs: [heredoc('FILE1', 'I am\nfirst\n'), heredoc('FILE2', 'I am\nsecond\n')] }),
  ],
  ['RUN <<EOT bash\n  set -ex\n  apt-get update\nEOT', run(shell('<<EOT bash'), { heredocs: [heredoc('EOT', '  set -ex\n  apt-get update\n')] })],
  ['RUN 3<<EOF cat /proc/self/fd/3\nx\nEOF', run(shell('3<<EOF cat /proc/self/fd/3'), { heredocs: [heredoc('EOF', 'x\n', { fd: 3 })] })],
  ['RUN python3 <<EOF\nprint(1)\nEOF', run(shell('python3 <<EOF'), { heredocs: [heredoc('EOF', 'print(1)\n')] })],
  ['RUN <<EOF\nEOF', run(shell('<<EOF'), { heredocs: [heredoc('EOF', '')] })],
  ['RUN <<  EOF  > foo\nEOF', run(shell('<<  EOF  > foo'), { heredocs: [heredoc('EOF', '')] })],
  ["RUN <<eo'f'\necho foo\neof", run(shell("<<eo'f'"), { heredocs: [heredoc('eof', 'echo foo\n', { expand: false })] })],
  ["RUN <<'one two'\necho bar\none two", run(shell("<<'one two'"), { heredocs: [heredoc('one two', 'echo bar\n', { expand: false })] })],
  ['RUN <<$EOF\n$EOF', run(shell('<<$EOF'), { heredocs: [heredoc('$EOF', '')] })],
  ['RUN <<EOF\n# not a comment \\\necho a \\\n\nEOF', run(shell('<<EOF'), { heredocs: [heredoc('EOF', '# not a comment \\\necho a \\\n\n')] })],
  ['RUN <<EOF\r\necho a\r\nEOF\r\n', run(shell('<<EOF'), { heredocs: [heredoc('EOF', 'echo a\r\n')] })],
  [
    'RUN --mount=type=cache,target=/foo <<MOUNT\necho hello\nMOUNT',
    run(shell('<<MOUNT'), { heredocs: [heredoc('MOUNT', 'echo hello\n')], mounts: [{ type: 'cache', readonly: false, target: '/foo' }], mountSpecs: ['type=cache,target=/foo'] }),
  ],
  ['RUN "<<NOHEREDOC"', run(shell('"<<NOHEREDOC"'))],
  ['RUN echo "<<EOF"', run(shell('echo "<<EOF"'))],
  ['RUN ["<<EOF"]', run(exec('<<EOF'))],
  ['RUN cat<<EOF', run(shell('cat<<EOF'))],
  ['COPY <<EOF /quotes\n"foo"\n\'bar\'\nEOF', copy([{ kind: 'heredoc', heredoc: heredoc('EOF', '"foo"\n\'bar\'\n') }], '/quotes')],
  [
    'COPY <<X <<Y /dest\nY\nX\nX\nY',
    copy([{ kind: 'heredoc', heredoc: heredoc('X', 'Y\n') }, { kind: 'heredoc', heredoc: heredoc('Y', 'X\n') }], '/dest'),
  ],
  [
    'COPY --chmod=755 <<-"EOT" a.txt /script.sh\n\techo "hello ${FOO}"\n\tEOT',
    copy([{ kind: 'heredoc', heredoc: heredoc('EOT', 'echo "hello ${FOO}"\n', { expand: false, chomp: true }) }, path('a.txt')], '/script.sh', { chmod: '755' }),
  ],
  ['COPY << EOF /x\nhi\nEOF', copy([{ kind: 'heredoc', heredoc: heredoc('EOF', 'hi\n') }], '/x')],
  ['ADD <<file.txt /dest\nhello world\nfile.txt', add([{ kind: 'heredoc', heredoc: heredoc('file.txt', 'hello world\n') }], '/dest')],
  // USER is no heredoc instruction: the next line is an instruction of its own
  ['USER <<INVALID\nUSER x', { kind: 'USER', user: '<<INVALID' }],

  // continuation lines: comments and blank lines inside are dropped, whitespace is kept
  ['RUN echo hello \\\n# comment\nworld', run(shell('echo hello world'))],
  ['RUN echo a \\\n\n  b', run(shell('echo a   b'))],
  ['RUN echo "\\\n     hello\\\n     world"', run(shell('echo "     hello     world"'))],
  ['RUN apt-get update && \\\n    apt-get install -y \\\n  # the compiler\n      gcc \\\n      make', run(shell('apt-get update &&     apt-get install -y       gcc       make'))],
  ['RUN echo a \\  \t\n  b', run(shell('echo a   b'))],
  ['RUN echo a\\\\\nRUN b', run(shell('echo a\\\\'))],
  ['RUN echo end \\', run(shell('echo end'))],
  ['    RUN indented', run(shell('indented'))],
  // a line with only the continuation character keeps the blank before it (as buildkit)
  ['RUN a \\\n  \\\n  b', run(shell('a     b'))],
];

for (const [input, expected] of CASES) {
  test(`parses ${JSON.stringify(input).slice(0, 90)}`, () => {
    const got = instructionsOf(input);
    assert.equal(got[0], expected);
  });
}

test('FROM forms', () => {
  const cf = parseContainerfile('FROM alpine\nfrom --platform=linux/arm64 alpine:3.19 as Build\nFROM build AS next\n');
  assert.equal(
    cf.stages.map((s) => ({ name: s.name, image: s.from.image, platform: s.from.platform })),
    [
      { name: undefined, image: 'alpine', platform: undefined },
      { name: 'build', image: 'alpine:3.19', platform: 'linux/arm64' },
      { name: 'next', image: 'build', platform: undefined },
    ],
  );
  assert.equal(cf.stages[2]!.base, { kind: 'stage', index: 1 });
  assert.equal(cf.stages[1]!.platform, 'linux/arm64');
});

test('source and location of each instruction', () => {
  const cf = parseContainerfile('FROM a\n  RUN echo a \\\n  b\nCOPY <<EOF /x\nbody\nEOF\nUSER me\n', { file: 'Dockerfile.dev' });
  const [r, c, u] = cf.stages[0]!.instructions;
  assert.equal(r!.loc, { file: 'Dockerfile.dev', line: 2, col: 3, endLine: 3 });
  assert.is(r!.source, 'RUN echo a   b');
  assert.equal(c!.loc, { file: 'Dockerfile.dev', line: 4, col: 1, endLine: 6 });
  assert.is(c!.source, 'COPY <<EOF /x');
  assert.equal(u!.loc, { file: 'Dockerfile.dev', line: 7, col: 1, endLine: 7 });
});

test('warnings: JSON-looking shell form, legacy ENV, empty continuation, MAINTAINER', () => {
  const cf = parseContainerfile('FROM a\nRUN ["echo", \'hi\']\nENV A b\nRUN a \\\n\n b\nMAINTAINER me\n');
  assert.equal(
    cf.warnings.map((w) => `${w.line}:${w.col} ${w.message}`),
    [
      '5:1 empty continuation line (blank line inside a continued instruction)',
      '2:5 RUN looks like the exec form (a JSON array) but is not valid JSON: it runs as a shell command',
      '3:1 "ENV name value" is the legacy form; use ENV name=value',
      '7:1 MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=...',
    ],
  );
});

const ERRORS: Array<[string, string]> = [
  ['', 'Containerfile:1:1: the file has no instructions (expected FROM IMAGE)'],
  ['# only a comment\n\n   \n', 'Containerfile:1:1: the file has no instructions (expected FROM IMAGE)'],
  ['ARG A=1\nARG B\n', 'Containerfile:1:1: no FROM instruction: a Containerfile needs at least one stage (FROM IMAGE)'],
  ['RUN x\nFROM a', 'Containerfile:1:1: RUN before the first FROM: only ARG may come before FROM'],
  ['FROM alpine\nRUNN echo', 'Containerfile:2:1: unknown instruction "RUNN" (did you mean RUN?)'],
  ['FROM alpine\n  cpy a b', 'Containerfile:2:3: unknown instruction "cpy" (did you mean COPY?)'],
  ['FROM alpine\nFOOBAR x', 'Containerfile:2:1: unknown instruction "FOOBAR"'],
  // flags
  ['FROM alpine\nCOPY --bogus=bar a b', 'Containerfile:2:6: unknown flag --bogus for COPY (expected --from, --chown, --chmod, --link, --parents, --exclude)'],
  ['FROM alpine\nCOPY --frm=x a b', 'Containerfile:2:6: unknown flag --frm for COPY (did you mean --from?)'],
  ['FROM alpine\nWORKDIR --x /a', 'Containerfile:2:9: unknown flag --x for WORKDIR (WORKDIR takes no flags)'],
  ['FROM alpine\nCOPY --from=a --from=b x y', 'Containerfile:2:15: duplicate flag --from for COPY'],
  ['FROM alpine\nCOPY --from x y', 'Containerfile:2:6: missing a value on flag --from (use --from=VALUE)'],
  ['FROM alpine\nCOPY --link=maybe a b', 'Containerfile:2:6: expecting a boolean value for flag --link, not: maybe'],
  ['FROM alpine\nCOPY --link= a b', 'Containerfile:2:6: missing a value on flag --link= (use --link or --link=true|false)'],
  ['FROM --platfrom=linux/amd64 alpine', 'Containerfile:1:6: unknown flag --platfrom for FROM (did you mean --platform?)'],
  ['FROM alpine\nRUN --mount=type=cache,target=/x \\\n    --netwrk=none make', 'Containerfile:3:5: unknown flag --netwrk for RUN (did you mean --network?)'],
  ['FROM alpine\nRUN --mount=type=cache,target=/x \\\n    --network=bridge make', 'Containerfile:3:5: invalid network mode "bridge" for RUN --network (expected default, none or host)'],
  ['FROM alpine\nRUN --security=root x', 'Containerfile:2:5: invalid security mode "root" for RUN --security (expected sandbox or insecure)'],
  ['FROM alpine\nCMD --help', 'Containerfile:2:5: unknown flag --help for CMD (CMD takes no flags)'],
  // mounts
  ['FROM a\nRUN --mount=type=foo x', 'Containerfile:2:5: invalid --mount=type=foo: unsupported mount type "foo" (expected bind, cache, tmpfs, secret, ssh)'],
  ['FROM a\nRUN --mount=type=bind,mode=0755 x', 'Containerfile:2:5: invalid --mount=type=bind,mode=0755: mode not allowed for "bind" type mounts'],
  ['FROM a\nRUN --mount=type=secret,from=x,id=a x', 'Containerfile:2:5: invalid --mount=type=secret,from=x,id=a: secret mount should not have a from'],
  ['FROM a\nRUN --mount=type=secret x', 'Containerfile:2:5: invalid --mount=type=secret: invalid secret mount: one of id, source or target is required'],
  ['FROM a\nRUN --mount=type=bind,sharing=locked x', 'Containerfile:2:5: invalid --mount=type=bind,sharing=locked: invalid cache sharing set for bind mount'],
  ['FROM a\nRUN --mount=type=cache,sharing=always x', 'Containerfile:2:5: invalid --mount=type=cache,sharing=always: unsupported sharing value "always" (expected shared, private or locked)'],
  ['FROM a\nRUN --mount=type=cache,targt=/x x', "Containerfile:2:5: invalid --mount=type=cache,targt=/x: unexpected key 'targt' in 'targt=/x' (did you mean target?)"],
  ['FROM a\nRUN --mount=type=bind,required x', "Containerfile:2:5: invalid --mount=type=bind,required: unexpected key 'required' for mount type 'bind'"],
  ['FROM a\nRUN --mount=type=bind,nosuid x', "Containerfile:2:5: invalid --mount=type=bind,nosuid: invalid field 'nosuid' must be a key=value pair"],
  ['FROM a\nRUN --mount=type=tmpfs,size=big x', 'Containerfile:2:5: invalid --mount=type=tmpfs,size=big: invalid size "big" (expected e.g. 64m, 1g, 512k)'],
  ['FROM a\nRUN --mount=type=cache,uid=-1 x', 'Containerfile:2:5: invalid --mount=type=cache,uid=-1: invalid value -1 for uid'],
  ['FROM a\nRUN --mount=type=cache,mode=0999 x', 'Containerfile:2:5: invalid --mount=type=cache,mode=0999: invalid value 0999 for mode'],
  ['FROM a\nRUN --mount=type=bind,ro=maybe x', 'Containerfile:2:5: invalid --mount=type=bind,ro=maybe: invalid value for ro: maybe'],
  ['FROM a\nRUN --mount=type=bind,from=$X x', "Containerfile:2:5: invalid --mount=type=bind,from=$X: 'from' doesn't support variable expansion, define an alias stage instead"],
  ['FROM a\nRUN --mount=target=/x --mount=type=bind,\\"a x', 'Containerfile:2:23: invalid --mount=type=bind,"a: unterminated quote in "type=bind,"a"'],
  // commands and JSON
  ['FROM a\nRUN', 'Containerfile:2:1: RUN requires a command'],
  ['FROM a\nRUN []', 'Containerfile:2:1: RUN requires a command'],
  ['FROM a\nRUN --network=none', 'Containerfile:2:1: RUN requires a command'],
  ['FROM a\nRUN ["a", 1]', 'Containerfile:2:5: RUN: the exec form (a JSON array) may contain only strings'],
  ['FROM a\nCMD ["a", null]', 'Containerfile:2:5: CMD: the exec form (a JSON array) may contain only strings'],
  ['FROM a\nENTRYPOINT [["nested"]]', 'Containerfile:2:12: ENTRYPOINT: the exec form (a JSON array) may contain only strings'],
  ['FROM a\nSHELL /bin/sh -c', 'Containerfile:2:7: SHELL requires the exec form (a JSON array), e.g. SHELL ["/bin/bash", "-c"]'],
  ['FROM a\nSHELL ["/bin/sh", "-c"', 'Containerfile:2:7: SHELL requires the exec form (a JSON array), e.g. SHELL ["/bin/bash", "-c"]'],
  ['FROM a\nSHELL []', 'Containerfile:2:7: SHELL requires at least one argument'],
  ['FROM a\nSHELL', 'Containerfile:2:1: SHELL requires at least one argument'],
  ['FROM a\nCMD', 'Containerfile:2:1: CMD requires at least one argument'],
  ['FROM a\nENTRYPOINT   ', 'Containerfile:2:1: ENTRYPOINT requires at least one argument'],
  // key=value instructions
  ['FROM a\nENV', 'Containerfile:2:1: ENV requires at least one argument: ENV NAME=VALUE ...'],
  ['FROM a\nENV A=1 B', 'Containerfile:2:9: ENV: expected NAME=VALUE, found "B" (quote or escape values with spaces)'],
  ['FROM a\nLABEL a=1 two words', 'Containerfile:2:11: LABEL: expected NAME=VALUE, found "two" (quote or escape values with spaces)'],
  ['FROM a\nENV A', 'Containerfile:2:5: ENV A: expected NAME=VALUE (or the legacy form ENV NAME VALUE)'],
  ['FROM a\nENV =x', 'Containerfile:2:5: ENV names can not be blank: "=x"'],
  ['FROM a\nLABEL a=1 ="x"', 'Containerfile:2:11: LABEL names can not be blank: "="x""'],
  ['FROM a\nARG', 'Containerfile:2:1: ARG requires at least one argument: ARG NAME[=DEFAULT] ...'],
  ['FROM a\nARG A =x', 'Containerfile:2:7: ARG names can not be blank: "=x"'],
  // single-value instructions
  ['FROM a\nWORKDIR', 'Containerfile:2:1: WORKDIR requires exactly one argument'],
  ['FROM a\nUSER', 'Containerfile:2:1: USER requires exactly one argument'],
  ['FROM a\nMAINTAINER', 'Containerfile:2:1: MAINTAINER requires exactly one argument'],
  ['FROM a\nSTOPSIGNAL', 'Containerfile:2:1: STOPSIGNAL requires exactly one argument'],
  ['FROM a\nSTOPSIGNAL SIGFOO', 'Containerfile:2:12: STOPSIGNAL: invalid signal "SIGFOO" (expected a name like SIGTERM or a number)'],
  ['FROM a\nSTOPSIGNAL 0', 'Containerfile:2:12: STOPSIGNAL: invalid signal "0" (expected a name like SIGTERM or a number)'],
  // EXPOSE
  ['FROM a\nEXPOSE', 'Containerfile:2:1: EXPOSE requires at least one argument'],
  ['FROM a\nEXPOSE 80 80/xyz', 'Containerfile:2:11: EXPOSE: invalid port "80/xyz": unknown protocol "xyz" (expected tcp, udp or sctp)'],
  ['FROM a\nEXPOSE abc', 'Containerfile:2:8: EXPOSE: invalid port "abc": invalid start port "abc": not a number'],
  ['FROM a\nEXPOSE 90-80', 'Containerfile:2:8: EXPOSE: invalid port "90-80": invalid port range 90-80: the end is below the start'],
  ['FROM a\nEXPOSE 70000/udp', 'Containerfile:2:8: EXPOSE: invalid port "70000/udp": invalid start port "70000": out of range (0-65535)'],
  ['FROM a\nEXPOSE /tcp', 'Containerfile:2:8: EXPOSE: invalid port "/tcp": no port given'],
  // ADD, COPY
  ['FROM a\nCOPY a', 'Containerfile:2:1: COPY requires at least two arguments: COPY [FLAGS] SOURCE... DEST'],
  ['FROM a\nADD --chown=1 a', 'Containerfile:2:1: ADD requires at least two arguments: ADD [FLAGS] SOURCE... DEST'],
  ['FROM a\nCOPY ["a"]', 'Containerfile:2:1: COPY requires at least two arguments: COPY [FLAGS] SOURCE... DEST'],
  ['FROM a\nCOPY a <<EOF\nx\nEOF', 'Containerfile:2:8: COPY cannot accept a heredoc as its destination'],
  ['FROM a\nCOPY --from=$STAGE a b', 'Containerfile:2:6: COPY --from does not expand variables: define a stage with FROM (which sees the global ARGs) and copy from it'],
  ['FROM a\nCOPY --from= a b', 'Containerfile:2:6: COPY --from needs a stage name, a stage index or an image'],
  ["FROM a\nCOPY <<'EOF /x", "Containerfile:2:6: unterminated single quote in heredoc delimiter <<'EOF"],
  // VOLUME
  ['FROM a\nVOLUME', 'Containerfile:2:1: VOLUME requires at least one argument'],
  ['FROM a\nVOLUME [""]', 'Containerfile:2:8: VOLUME paths can not be empty'],
  ['FROM a\nVOLUME []', 'Containerfile:2:8: VOLUME requires at least one path'],
  // ONBUILD
  ['FROM a\nONBUILD', 'Containerfile:2:1: ONBUILD requires an instruction to run in a later build, e.g. ONBUILD RUN make'],
  ['FROM a\nONBUILD ONBUILD RUN x', "Containerfile:2:9: chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"],
  ['FROM a\nONBUILD from x', "Containerfile:2:9: FROM isn't allowed as an ONBUILD trigger"],
  ['FROM a\nONBUILD MAINTAINER me', "Containerfile:2:9: MAINTAINER isn't allowed as an ONBUILD trigger"],
  ['FROM a\nONBUILD RUNN x', 'Containerfile:2:9: unknown instruction "RUNN" (did you mean RUN?)'],
  ['FROM a\nONBUILD COPY a', 'Containerfile:2:9: COPY requires at least two arguments: COPY [FLAGS] SOURCE... DEST'],
  ['FROM a\nONBUILD --x RUN y', 'Containerfile:2:9: unknown flag --x for ONBUILD (ONBUILD takes no flags)'],
  // HEALTHCHECK
  ['FROM a\nHEALTHCHECK', 'Containerfile:2:1: HEALTHCHECK requires at least one argument: HEALTHCHECK NONE or HEALTHCHECK [OPTIONS] CMD command'],
  ['FROM a\nHEALTHCHECK NONE x', 'Containerfile:2:18: HEALTHCHECK NONE takes no arguments'],
  ['FROM a\nHEALTHCHECK --interval=5s NONE', 'Containerfile:2:13: HEALTHCHECK NONE takes no flags'],
  ['FROM a\nHEALTHCHECK FOO x', 'Containerfile:2:13: unknown type "FOO" in HEALTHCHECK (expected CMD or NONE)'],
  ['FROM a\nHEALTHCHECK CMD', 'Containerfile:2:13: HEALTHCHECK CMD needs a command'],
  ['FROM a\nHEALTHCHECK CMD []', 'Containerfile:2:13: HEALTHCHECK CMD needs a command'],
  ['FROM a\nHEALTHCHECK --interval=5 CMD x', 'Containerfile:2:13: HEALTHCHECK --interval: invalid duration "5": missing unit (one of ns, us, ms, s, m, h)'],
  ['FROM a\nHEALTHCHECK --timeout=1d CMD x', 'Containerfile:2:13: HEALTHCHECK --timeout: invalid duration "1d": unknown unit "d" (one of ns, us, ms, s, m, h)'],
  ['FROM a\nHEALTHCHECK --timeout=abc CMD x', 'Containerfile:2:13: HEALTHCHECK --timeout: invalid duration "abc" (expected a number with a unit, e.g. 30s, 1m30s, 500ms)'],
  ['FROM a\nHEALTHCHECK --start-period=10us CMD x', 'Containerfile:2:13: HEALTHCHECK --start-period cannot be less than 1ms'],
  ['FROM a\nHEALTHCHECK --interval=-1s CMD x', 'Containerfile:2:13: HEALTHCHECK --interval cannot be less than 1ms'],
  ['FROM a\nHEALTHCHECK --retries=-1 CMD x', 'Containerfile:2:13: HEALTHCHECK --retries cannot be negative (-1)'],
  ['FROM a\nHEALTHCHECK --retries=three CMD x', 'Containerfile:2:13: HEALTHCHECK --retries must be a whole number, not "three"'],
  ['FROM a\nHEALTHCHECK --intervall=3s CMD x', 'Containerfile:2:13: unknown flag --intervall for HEALTHCHECK (did you mean --interval?)'],
  [
    'FROM a\nHEALTHCHECK --retry=3 CMD x',
    'Containerfile:2:13: unknown flag --retry for HEALTHCHECK (expected --interval, --timeout, --start-period, --start-interval, --retries)',
  ],
  // FROM
  ['FROM', 'Containerfile:1:1: FROM requires either one or three arguments: FROM [--platform=PLATFORM] IMAGE [AS NAME]'],
  ['FROM a b', 'Containerfile:1:1: FROM requires either one or three arguments: FROM [--platform=PLATFORM] IMAGE [AS NAME]'],
  ['FROM a AS', 'Containerfile:1:1: FROM requires either one or three arguments: FROM [--platform=PLATFORM] IMAGE [AS NAME]'],
  ['FROM a FROM b', 'Containerfile:1:1: FROM requires either one or three arguments: FROM [--platform=PLATFORM] IMAGE [AS NAME]'],
  ['FROM a AS 1st', 'Containerfile:1:11: invalid stage name "1st": it must start with a letter and contain only letters, digits, "-", "_" and "."'],
  ['FROM a AS my/stage', 'Containerfile:1:11: invalid stage name "my/stage": it must start with a letter and contain only letters, digits, "-", "_" and "."'],
  ['ARG IMG\nFROM $IMG', 'Containerfile:2:1: the image of "FROM $IMG" is empty after expanding the global ARGs'],
  ['FROM ${X:?must_be_set}', 'Containerfile:1:1: cannot expand "${X:?must_be_set}": X: must_be_set'],
  // FROM's arguments are split at blanks before expansion, whatever the quotes
  ['FROM "a b"', 'Containerfile:1:1: FROM requires either one or three arguments: FROM [--platform=PLATFORM] IMAGE [AS NAME]'],
  ['FROM alpine:${TAG', 'Containerfile:1:1: cannot expand "alpine:${TAG": syntax error: missing \'}\''],
  ['FROM --platform=linux/amd64/v2/x a', 'Containerfile:1:1: invalid platform "linux/amd64/v2/x": expected OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm/v7'],
  ['ARG P\nFROM --platform=$P a', 'Containerfile:2:1: the platform of FROM (--platform=$P) is empty after expanding the global ARGs'],
  ['ARG A=${B\nFROM x', 'Containerfile:1:1: cannot expand "${B": syntax error: missing \'}\''],
  // heredocs
  ['FROM a\nRUN <<EOF\necho', 'Containerfile:3:5: unterminated heredoc <<EOF (started at 2:5): expected a line "EOF" before the end of the file'],
  ['FROM a\nRUN cat <<EOF\necho\n  EOF\n', 'Containerfile:5:1: unterminated heredoc <<EOF (started at 2:9): expected a line "EOF" before the end of the file'],
  ['FROM a\nRUN <<A <<B\na\nA\nb\n', 'Containerfile:6:1: unterminated heredoc <<B (started at 2:9): expected a line "B" before the end of the file'],
  ['FROM a\nRUN <<EOF\n\tEOF', 'Containerfile:3:5: unterminated heredoc <<EOF (started at 2:5): expected a line "EOF" before the end of the file'],
  // parser directives
  ['# escape=\\\n# escape=`\nFROM a', 'Containerfile:2:1: only one escape parser directive can be used'],
  ['# syntax=a\n#SYNTAX = b\nFROM a', 'Containerfile:2:1: only one syntax parser directive can be used'],
  ['# escape=x\nFROM a', "Containerfile:1:1: invalid escape character 'x': expected ` or \\"],
];

for (const [input, expected] of ERRORS) {
  test(`error for ${JSON.stringify(input).slice(0, 80)}`, () => {
    assert.is(errorMessage(input), expected);
  });
}

test('a continuation swallows the next line, whatever it is', () => {
  assert.equal(instructionsOf('RUN a \\\n  && b \\\nENTRYPOINT x'), [run(shell('a   && b ENTRYPOINT x'))]);
});

test('the file name is used in messages', () => {
  assert.is(errorMessage('FROM a\nRUNN x', { file: 'app/Dockerfile' }), 'app/Dockerfile:2:1: unknown instruction "RUNN" (did you mean RUN?)');
});

test('columns count from the first character of each physical line', () => {
  // the bad flag is on the third physical line of the instruction
  assert.is(
    errorMessage('FROM a\nRUN --mount=type=cache,target=/a \\\n    # comment \\\n  \\\n      --mount=type=nope x'),
    'Containerfile:5:7: invalid --mount=type=nope: unsupported mount type "nope" (expected bind, cache, tmpfs, secret, ssh)',
  );
});

test.run();
