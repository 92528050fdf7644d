// Fuzz: whatever the input, the module fails only with a ParseError. Random bytes, random
// "Dockerfile-ish" token soup and random mutations of valid files go through the parser, and
// every parsed file through the stage graph, ARG scoping, expansion and runArgv. The seed is
// fixed, so a failure is reproducible; the failing input is in the message.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  expandInstruction,
  ParseError,
  parseContainerfile,
  parseTrigger,
  runArgv,
  stageArgs,
  stageDependencies,
  stagesForTarget,
  type Containerfile,
} from '../../../packages/pbuild/src/containerfile/index.ts';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = mulberry32(0x5eed_c0de);
const int = (n: number): number => Math.floor(rand() * n);
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

const CORPUS = [
  '# syntax=docker/dockerfile:1\n# escape=`\nARG A=1\nFROM --platform=$BUILDPLATFORM img:${A} AS b\nRUN a `\n  b\nCOPY --from=b x y\n',
  'ARG V=3\nFROM alpine:$V AS base\nENV A="x y" B=${A:-z}\nLABEL "k"="v" k2=v2\nEXPOSE 80 443/udp 8000-8002\nUSER 1000:1000\nWORKDIR /app\nSTOPSIGNAL SIGTERM\nVOLUME ["/data"]\nFROM base\nARG V\nONBUILD RUN echo $V\n',
  'FROM a AS build\nRUN --mount=type=cache,target=/c,id=x-$A --mount=type=secret,id=s,required --network=none <<EOF bash\necho $HOME\nEOF\nCOPY <<X <<-"Y" /d/\nx $A\nX\n\ty\n\tY\nFROM scratch\nCOPY --from=build --chown=1:1 --chmod=0755 --link --exclude=*.md /a /b\nADD --checksum=sha256:abc --keep-git-dir https://x/y.git /src\n',
  'FROM a\nHEALTHCHECK --interval=5s --timeout=1m --start-period=1s --start-interval=2s --retries=3 CMD ["curl", "-f", "x"]\nSHELL ["/bin/bash", "-c"]\nCMD ["a"]\nENTRYPOINT exec b\nMAINTAINER me\nENV X y z\n',
  'FROM a\nRUN echo a \\\n# c\n\n  b\nRUN ["echo", "$HOME"]\nRUN <<-EOF\n\t#!/bin/sh\n\techo\n\tEOF\nCOPY ["a b", "c"]\nONBUILD COPY <<EOF /x\nhi\nEOF\n',
  'ARG IMG=busybox\nARG TAG\nFROM ${IMG}:${TAG:-latest}\nARG X=${TARGETARCH#a} Y=${IMG/bus/box} Z=${IMG%%b*}\nENV P=${X:+set}\nRUN --mount=from=0,target=/t true\n',
];

const TOKENS = [
  'FROM', 'RUN', 'CMD', 'ENTRYPOINT', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ARG', 'ADD', 'COPY', 'VOLUME', 'USER',
  'WORKDIR', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL', 'AS', 'NONE', 'scratch', 'alpine', '--from=', '--mount=',
  'type=cache', 'type=secret', 'type=bind', 'target=/x', '--platform=', '--chown=', '--link', '--network=', '--interval=',
  '<<EOF', '<<-EOF', "<<'EOF'", 'EOF', '\n', '\n', '\n', ' ', ' ', '\t', '\\', '\\\n', '`', '"', "'", '$', '${', '}', '${A:-',
  '${A#', '${A/', '[', ']', '["a"]', ',', '=', '#', '# escape=`\n', '# syntax=x\n', '0', '80/tcp', '1-2', 'A=1', 'x', '/',
  '\r\n', '\uFEFF', '\u00a0', 'é', '\u{1F600}', '\ud800',
];

const INTERESTING = ['\\', '"', "'", '$', '{', '}', '<', '\n', '#', '[', ']', '-', '=', ',', ' ', '\t', '`', ':', '*', '%', '/', '?', '\r', '\u0000'];

function mutate(src: string): string {
  let s = src;
  const n = 1 + int(3);
  for (let k = 0; k < n; k++) {
    const at = int(s.length + 1);
    switch (int(7)) {
      case 0:
        s = s.slice(0, at) + pick(INTERESTING) + s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + 1 + int(8));
        break;
      case 2:
        s = s.slice(0, at) + pick(TOKENS) + s.slice(at);
        break;
      case 3: {
        const lines = s.split('\n');
        const i = int(lines.length);
        lines.splice(int(lines.length), 0, lines[i]!);
        s = lines.join('\n');
        break;
      }
      case 4: {
        const lines = s.split('\n');
        const i = int(lines.length);
        const j = int(lines.length);
        [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        s = lines.join('\n');
        break;
      }
      case 5:
        s = s.slice(0, at);
        break;
      default:
        s = s.slice(0, at) + String.fromCharCode(int(0x3000)) + s.slice(at);
    }
  }
  return s;
}

function soup(): string {
  let s = rand() < 0.5 ? 'FROM x\n' : '';
  const n = int(40);
  for (let i = 0; i < n; i++) s += pick(TOKENS) + (rand() < 0.5 ? ' ' : '');
  return s;
}

function randomBytes(): Uint8Array {
  const b = new Uint8Array(int(200));
  for (let i = 0; i < b.length; i++) b[i] = rand() < 0.7 ? 32 + int(95) : int(256);
  return b;
}

let parsed = 0;
let rejected = 0;

/** Runs fn; a ParseError is fine, anything else fails the test with the input shown. */
function only(input: string | Uint8Array, fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof ParseError && err.code === 'PKIT_CONTAINERFILE' && !err.message.includes('\n')) return false;
    const shown = typeof input === 'string' ? JSON.stringify(input) : `bytes ${Buffer.from(input).toString('hex')}`;
    assert.unreachable(`non-ParseError for input ${shown}: ${(err as Error)?.stack ?? String(err)}`);
    return false;
  }
}

function exercise(input: string | Uint8Array): void {
  let cf: Containerfile | undefined;
  const ok = only(input, () => {
    cf = parseContainerfile(input, { buildArgs: { A: 'a b', TAG: '1', HTTP_PROXY: 'p' }, platform: { build: 'linux/amd64', target: 'linux/arm64' } });
  });
  if (!ok || cf === undefined) {
    rejected++;
    return;
  }
  parsed++;
  const file = cf;
  for (const stage of file.stages) {
    only(input, () => stageDependencies(file, stage.index));
    if (stage.name) only(input, () => stagesForTarget(file, stage.name));
    const scope = stageArgs(file.globalValues, { A: '1' });
    const env = new Map([
      ['A', 'x y'],
      ['PATH', '/bin'],
      ['MODE', '0755'],
    ]);
    for (const instr of stage.instructions) {
      only(input, () => {
        const x = expandInstruction(instr, new Map([...scope.values, ...env]), { escape: file.escape });
        if (x.kind === 'ENV') for (const kv of x.env) env.set(kv.key, kv.value);
        if (x.kind === 'RUN') runArgv(x, ['/bin/sh', '-c']);
      });
      if (instr.kind === 'ARG') only(input, () => scope.declare(instr, env, file.escape));
      if (instr.kind === 'ONBUILD') only(input, () => expandInstruction(parseTrigger(instr.expression), env));
    }
  }
  only(input, () => stagesForTarget(file));
  only(input, () => stagesForTarget(file, 'nope'));
}

test('random bytes', () => {
  for (let i = 0; i < 1000; i++) {
    const b = randomBytes();
    exercise(rand() < 0.5 ? b : Buffer.concat([Buffer.from('FROM a\n'), b]));
  }
});

test('token soup', () => {
  for (let i = 0; i < 1000; i++) exercise(soup());
});

test('mutations of valid files', () => {
  for (const src of CORPUS) exercise(src);
  for (let i = 0; i < 3000; i++) exercise(mutate(pick(CORPUS)));
});

test('the fuzz reaches the parser and beyond (not only rejections)', () => {
  // with a fixed seed these numbers are stable; the point is that both outcomes happen often
  assert.ok(parsed > 500, `parsed ${parsed}`);
  assert.ok(rejected > 500, `rejected ${rejected}`);
});

test('the corpus files are valid', () => {
  for (const src of CORPUS) parseContainerfile(src);
});

test.run();
