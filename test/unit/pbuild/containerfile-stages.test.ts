// Real-world style Containerfiles end to end (parse, stage graph, a build engine's walk with
// ARG scoping and expansion), and the stage graph's errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  expandInstruction,
  parseContainerfile,
  runArgv,
  stageArgs,
  stageDependencies,
  stagesForTarget,
  type Containerfile,
  type Instruction,
} from '../../../packages/pbuild/src/containerfile/index.ts';
import { firstInstruction, parseErrorOf, strip } from './containerfile-helpers.ts';

const GO = `# syntax=docker/dockerfile:1.7
ARG GO_VERSION=1.22
ARG ALPINE_VERSION=3.19

FROM --platform=$BUILDPLATFORM golang:\${GO_VERSION}-alpine\${ALPINE_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
RUN --mount=type=cache,target=/go/pkg/mod \\
    --mount=type=bind,source=go.sum,target=go.sum \\
    --mount=type=bind,source=go.mod,target=go.mod \\
    go mod download -x
RUN --mount=type=cache,target=/go/pkg/mod \\
    --mount=type=cache,target=/root/.cache/go-build \\
    --mount=type=bind,target=. \\
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \\
    go build -trimpath -ldflags="-s -w" -o /bin/server ./cmd/server

FROM alpine:\${ALPINE_VERSION} AS final
RUN --mount=type=cache,target=/var/cache/apk \\
    apk --update add \\
        ca-certificates \\
        tzdata \\
        && \\
        update-ca-certificates
ARG UID=10001
RUN adduser \\
    --disabled-password \\
    --gecos "" \\
    --home "/nonexistent" \\
    --shell "/sbin/nologin" \\
    --no-create-home \\
    --uid "\${UID}" \\
    appuser
USER appuser
COPY --from=build /bin/server /bin/
EXPOSE 8080
ENTRYPOINT [ "/bin/server" ]
`;

const NODE = `FROM node:20-bookworm-slim AS base
ENV PNPM_HOME="/pnpm"
ENV PATH="$PNPM_HOME:$PATH"
RUN corepack enable
WORKDIR /app

FROM base AS deps
COPY package.json pnpm-lock.yaml ./
RUN --mount=type=cache,id=pnpm,target=/pnpm/store pnpm install --frozen-lockfile

FROM deps AS build
COPY . .
RUN pnpm run build && pnpm prune --prod

FROM base AS test
COPY --from=deps /app/node_modules ./node_modules
COPY . .
CMD ["pnpm", "test"]

FROM gcr.io/distroless/nodejs20-debian12 AS runtime
WORKDIR /app
COPY --from=build --chown=1000:1000 /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
ENV NODE_ENV=production
USER 1000
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=3s --retries=3 \\
  CMD ["/nodejs/bin/node", "dist/healthcheck.js"]
CMD ["dist/server.js"]
`;

const PYTHON = `# syntax=docker/dockerfile:1
ARG PYTHON_VERSION=3.12

FROM python:\${PYTHON_VERSION}-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH"
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip \\
    pip install -r requirements.txt

FROM python:\${PYTHON_VERSION}-slim
LABEL org.opencontainers.image.title="app" \\
      org.opencontainers.image.source="https://example.com/app" \\
      org.opencontainers.image.version=\${PYTHON_VERSION}
RUN groupadd --system app && useradd --system --gid app app
COPY --from=builder /opt/venv /opt/venv
ENV PATH="/opt/venv/bin:$PATH" \\
    PYTHONUNBUFFERED=1
WORKDIR /srv
COPY --chown=app:app . .
COPY <<EOF /srv/gunicorn.conf.py
bind = "0.0.0.0:\${PORT:-8000}"
workers = 2
EOF
RUN <<EOF
#!/usr/bin/env python3
print("compiled")
EOF
USER app
STOPSIGNAL SIGINT
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://localhost:8000/health')"
CMD ["gunicorn", "app.wsgi"]
`;

interface Walk {
  env: Map<string, string>;
  args: Map<string, string>;
  steps: string[];
  instructions: Instruction[];
}

/**
 * What the build engine does with a stage: start from the base image's (or stage's) env, bring
 * ARGs into scope, expand each instruction with ENV + ARG values, apply ENV.
 */
function walk(cf: Containerfile, index: number, baseEnv: Record<string, string>, buildArgs: Record<string, string> = {}, parent?: Walk): Walk {
  const env = new Map(parent ? parent.env : Object.entries(baseEnv));
  const scope = stageArgs(cf.globalValues, buildArgs);
  if (parent) for (const [k, v] of parent.args) scope.values.set(k, v);
  const steps: string[] = [];
  const instructions: Instruction[] = [];
  for (const instr of cf.stages[index]!.instructions) {
    const vars = new Map([...scope.values, ...env]);
    if (instr.kind === 'ARG') {
      scope.declare(instr, vars, cf.escape);
      continue;
    }
    const x = expandInstruction(instr, vars, { escape: cf.escape });
    instructions.push(x);
    if (x.kind === 'ENV') for (const { key, value } of x.env) env.set(key, value);
    steps.push(x.kind);
  }
  return { env, args: scope.values, steps, instructions };
}

test('Go: cross-compiling multi-stage build', () => {
  const cf = parseContainerfile(GO, { platform: { build: 'linux/amd64', target: 'linux/arm64' }, buildArgs: { GO_VERSION: '1.23' } });
  assert.is(cf.syntax, 'docker/dockerfile:1.7');
  assert.equal(
    cf.stages.map((s) => ({ name: s.name, base: s.baseImage, platform: s.platform, n: s.instructions.length })),
    [
      { name: 'build', base: 'golang:1.23-alpine3.19', platform: 'linux/amd64', n: 5 },
      { name: 'final', base: 'alpine:3.19', platform: undefined, n: 7 },
    ],
  );
  assert.equal(stagesForTarget(cf), [0, 1]);
  assert.equal(stagesForTarget(cf, 'build'), [0]);
  assert.equal(
    stageDependencies(cf, 1).map((d) => (d.kind === 'stage' ? `stage ${d.index} (${d.via})` : `image ${d.ref} (${d.via})`)),
    ['image alpine:3.19 (FROM)', 'stage 0 (COPY)'],
  );

  const build = walk(cf, 0, { PATH: '/usr/local/go/bin:/usr/bin' }, { GO_VERSION: '1.23' });
  assert.equal([...build.args], [
    ['TARGETOS', 'linux'],
    ['TARGETARCH', 'arm64'],
  ]);
  const run = build.instructions[2]!;
  assert.ok(run.kind === 'RUN');
  assert.equal(
    run.mounts.map((m) => `${m.type}:${m.source ?? ''}->${m.target}${m.readonly ? ':ro' : ''}`),
    ['cache:->/go/pkg/mod', 'cache:->/root/.cache/go-build', 'bind:->.:ro'],
  );
  assert.equal(run.command, {
    form: 'shell',
    text: 'CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH     go build -trimpath -ldflags="-s -w" -o /bin/server ./cmd/server',
  });

  const final = walk(cf, 1, { PATH: '/usr/bin' });
  assert.equal(final.steps, ['RUN', 'RUN', 'USER', 'COPY', 'EXPOSE', 'ENTRYPOINT']);
  assert.equal([...final.args], [['UID', '10001']]);
  assert.equal(strip(final.instructions[4]), { kind: 'EXPOSE', ports: ['8080/tcp'] });
  assert.equal(strip(final.instructions[5]), { kind: 'ENTRYPOINT', command: { form: 'exec', args: ['/bin/server'] } });
});

test('Node: stage chain, targets, inherited env', () => {
  const cf = parseContainerfile(NODE);
  assert.equal(
    cf.stages.map((s) => [s.name, s.base]),
    [
      ['base', { kind: 'image', ref: 'node:20-bookworm-slim' }],
      ['deps', { kind: 'stage', index: 0 }],
      ['build', { kind: 'stage', index: 1 }],
      ['test', { kind: 'stage', index: 0 }],
      ['runtime', { kind: 'image', ref: 'gcr.io/distroless/nodejs20-debian12' }],
    ],
  );
  assert.equal(stagesForTarget(cf), [0, 1, 2, 4]);
  assert.equal(stagesForTarget(cf, 'test'), [0, 1, 3]);
  assert.equal(stagesForTarget(cf, 'DEPS'), [0, 1]);

  const base = walk(cf, 0, { PATH: '/usr/local/bin:/usr/bin', NODE_VERSION: '20.11.0' });
  assert.is(base.env.get('PNPM_HOME'), '/pnpm');
  assert.is(base.env.get('PATH'), '/pnpm:/usr/local/bin:/usr/bin');
  const deps = walk(cf, 1, {}, {}, base);
  assert.is(deps.env.get('PATH'), '/pnpm:/usr/local/bin:/usr/bin');
  const runtime = walk(cf, 4, { PATH: '/usr/bin' });
  const hc = runtime.instructions.find((i) => i.kind === 'HEALTHCHECK');
  assert.equal(strip(hc), { kind: 'HEALTHCHECK', test: ['CMD', '/nodejs/bin/node', 'dist/healthcheck.js'], interval: 30e9, timeout: 3e9, retries: 3 });
  assert.equal(strip(runtime.instructions[1]), {
    kind: 'COPY',
    sources: [{ kind: 'path', path: '/app/dist' }],
    dest: './dist',
    from: 'build',
    chown: '1000:1000',
    link: false,
    parents: false,
    excludes: [],
  });
});

test('Python: venv builder, labels, heredoc file and script', () => {
  const cf = parseContainerfile(PYTHON, { buildArgs: { PYTHON_VERSION: '3.11' } });
  assert.equal(cf.stages.map((s) => s.baseImage), ['python:3.11-slim', 'python:3.11-slim']);
  assert.equal(stagesForTarget(cf), [0, 1]);
  const final = walk(cf, 1, { PATH: '/usr/local/bin:/usr/bin', PYTHON_VERSION: '3.11.9' });
  // the label sees the image's PYTHON_VERSION env, not the global ARG (not declared in the stage)
  assert.equal(strip(final.instructions[0]), {
    kind: 'LABEL',
    labels: [
      { key: 'org.opencontainers.image.title', value: 'app' },
      { key: 'org.opencontainers.image.source', value: 'https://example.com/app' },
      { key: 'org.opencontainers.image.version', value: '3.11.9' },
    ],
  });
  assert.is(final.env.get('PATH'), '/opt/venv/bin:/usr/local/bin:/usr/bin');
  assert.is(final.env.get('PYTHONUNBUFFERED'), '1');
  const conf = final.instructions.find((i) => i.kind === 'COPY' && i.sources[0]!.kind === 'heredoc');
  const body = conf?.kind === 'COPY' && conf.sources[0]?.kind === 'heredoc' ? conf.sources[0].heredoc.content : undefined;
  assert.is(body, 'bind = "0.0.0.0:8000"\nworkers = 2\n');
  const script = final.instructions.find((i) => i.kind === 'RUN' && i.heredocs.length > 0);
  assert.ok(script && script.kind === 'RUN');
  assert.equal(runArgv(script, ['/bin/sh', '-c']), {
    argv: ['/bin/sh', '-c', '/dev/pipes/EOF'],
    script: { path: '/dev/pipes/EOF', content: '#!/usr/bin/env python3\nprint("compiled")\n' },
  });
  assert.equal(strip(final.instructions.at(-2)), {
    kind: 'HEALTHCHECK',
    test: ['CMD-SHELL', `python -c "import urllib.request; urllib.request.urlopen('http://localhost:8000/health')"`],
  });
});

test('runArgv: exec form, shell form, heredoc forms', () => {
  const sh = ['/bin/sh', '-c'];
  const argv = (src: string) => {
    const i = firstInstruction(src);
    assert.ok(i.kind === 'RUN');
    return runArgv(i, sh);
  };
  assert.equal(argv('RUN ["make", "all"]'), { argv: ['make', 'all'] });
  assert.equal(argv('RUN make all'), { argv: ['/bin/sh', '-c', 'make all'] });
  assert.equal(argv('RUN <<EOF\nset -e\necho $HOME\nEOF'), { argv: ['/bin/sh', '-c', 'set -e\necho $HOME\n'] });
  assert.equal(argv('RUN <<-EOF\n\techo a\n\tEOF'), { argv: ['/bin/sh', '-c', 'echo a\n'] });
  assert.equal(argv('RUN <<EOT bash\nset -ex\nEOT'), { argv: ['/bin/sh', '-c', '<<EOT bash\nset -ex\nEOT'] });
  assert.equal(argv('RUN <<A cat >a && <<B cat >b\n1\nA\n2\nB'), { argv: ['/bin/sh', '-c', '<<A cat >a && <<B cat >b\n1\nA\n2\nB'] });
});

const GRAPH_ERRORS: Array<[string, string, string | undefined]> = [
  ['FROM a AS one\nCOPY --from=two /x /y\nFROM b AS two', 'Containerfile:2:1: cannot copy from stage "two": it must be defined before the current stage "one"', 'one'],
  ['FROM a AS one\nCOPY --from=one /x /y', 'Containerfile:2:1: cannot copy from stage "one": it must be defined before the current stage "one"', undefined],
  ['FROM a\nCOPY --from=1 /x /y\nFROM b', 'Containerfile:2:1: cannot copy from stage "1": it must be defined before the current stage', '0'],
  ['FROM a\nCOPY --from=7 /x /y', 'Containerfile:2:1: COPY --from=7: there is no stage 7', undefined],
  ['FROM a AS one\nRUN --mount=from=two,target=/t x\nFROM b AS two', 'Containerfile:2:1: cannot mount from stage "two": it must be defined before the current stage "one"', 'one'],
  ['FROM a AS build\nFROM b', 'Containerfile: target stage "buld" could not be found (did you mean build?); the stages are build', 'buld'],
  ['FROM a\nFROM b', 'Containerfile: target stage "x" could not be found; no stage has a name (FROM IMAGE AS NAME)', 'x'],
];

for (const [src, expected, target] of GRAPH_ERRORS) {
  test(`stage graph error: ${expected.slice(15, 70)}`, () => {
    const cf = parseContainerfile(src);
    const t = target === '0' ? 'one' : target;
    const fn = target === '0' ? () => stageDependencies(cf, 0) : () => stagesForTarget(cf, t);
    assert.is(parseErrorOf(fn).message, expected);
  });
}

test('stage graph: names are case-insensitive, COPY --from an index or an image, RUN --mount from a stage', () => {
  const cf = parseContainerfile(
    [
      'FROM alpine AS Base',
      'FROM BASE AS tools',
      'COPY --from=0 /etc/os-release /',
      'COPY --from=docker.io/library/busybox:latest /bin/busybox /bin/',
      'RUN --mount=type=bind,from=base,target=/b --mount=type=cache,target=/c ls /b',
      'FROM scratch AS out',
      'COPY --from=Tools / /',
      '',
    ].join('\n'),
  );
  assert.equal(cf.stages[1]!.base, { kind: 'stage', index: 0 });
  assert.equal(cf.stages[2]!.base, { kind: 'scratch' });
  assert.equal(
    stageDependencies(cf, 1).map((d) => [d.kind, d.kind === 'stage' ? d.index : d.ref, d.via, d.loc.line]),
    [
      ['stage', 0, 'FROM', 2],
      ['stage', 0, 'COPY', 3],
      ['image', 'docker.io/library/busybox:latest', 'COPY', 4],
      ['stage', 0, 'RUN', 5],
    ],
  );
  assert.equal(stagesForTarget(cf), [0, 1, 2]);
  assert.equal(stageDependencies(cf, 2), [{ kind: 'stage', index: 1, via: 'COPY', loc: cf.stages[2]!.instructions[0]!.loc }]);
});

test('a later stage with the same name wins for later references, with a warning', () => {
  const cf = parseContainerfile('FROM a AS x\nFROM b AS x\nFROM x\n');
  assert.equal(cf.stages[2]!.base, { kind: 'stage', index: 1 });
  assert.equal(cf.warnings.map((w) => `${w.line}: ${w.message}`), ['2: duplicate stage name "x" (also stage 0); later references use this one']);
  // FROM only sees stages before it: a stage named like a later one is still an image here
  const cf2 = parseContainerfile('FROM y AS x\nFROM z AS y\n');
  assert.equal(cf2.stages[0]!.base, { kind: 'image', ref: 'y' });
});

test('a stage that names an image it shares with a stage name uses the earlier stage', () => {
  const cf = parseContainerfile('FROM alpine AS alpine\nRUN x\nFROM alpine\n');
  assert.equal(cf.stages[1]!.base, { kind: 'stage', index: 0 });
  assert.equal(cf.stages[0]!.base, { kind: 'image', ref: 'alpine' });
});

test.run();
