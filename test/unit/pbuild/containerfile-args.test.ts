// ARG scoping: platform ARGs, global ARGs in FROM, stage ARGs, --build-arg, proxy ARGs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  parseContainerfile,
  parsePlatform,
  platformArgs,
  resolveGlobalArgs,
  stageArgs,
  unusedBuildArgs,
  type ArgInstruction,
  type Containerfile,
} from '../../../packages/pbuild/src/containerfile/index.ts';
import { errorMessage, parseErrorOf } from './containerfile-helpers.ts';

const PLATFORMS = { build: 'linux/amd64', target: 'linux/arm/v7' };

test('platforms are parsed and normalized', () => {
  const cases: Array<[string, unknown]> = [
    ['linux/amd64', { os: 'linux', architecture: 'amd64' }],
    ['linux/x86_64', { os: 'linux', architecture: 'amd64' }],
    ['linux/arm', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/arm/6', { os: 'linux', architecture: 'arm', variant: 'v6' }],
    ['linux/armhf', { os: 'linux', architecture: 'arm', variant: 'v7' }],
    ['linux/arm64/v8', { os: 'linux', architecture: 'arm64' }],
    ['linux/aarch64', { os: 'linux', architecture: 'arm64' }],
    ['Linux/i386', { os: 'linux', architecture: '386' }],
    ['arm64', { os: 'linux', architecture: 'arm64' }],
    ['windows/amd64', { os: 'windows', architecture: 'amd64' }],
    ['linux/riscv64', { os: 'linux', architecture: 'riscv64' }],
  ];
  for (const [spec, expected] of cases) assert.equal(parsePlatform(spec), expected, spec);
  assert.is(parseErrorOf(() => parsePlatform('a/b/c/d')).message, '--platform: invalid platform "a/b/c/d": expected OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm/v7');
  assert.is(parseErrorOf(() => parsePlatform('')).reason, 'invalid platform "": expected OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm/v7');
  assert.is(parseErrorOf(() => parsePlatform('linux//amd64')).reason, 'invalid platform "linux//amd64": expected OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm/v7');
});

test('the automatic platform ARGs', () => {
  assert.equal(Object.fromEntries(platformArgs(PLATFORMS)), {
    TARGETPLATFORM: 'linux/arm/v7',
    TARGETOS: 'linux',
    TARGETARCH: 'arm',
    TARGETVARIANT: 'v7',
    BUILDPLATFORM: 'linux/amd64',
    BUILDOS: 'linux',
    BUILDARCH: 'amd64',
    BUILDVARIANT: '',
  });
  // the target defaults to the build platform, the build platform to this machine
  const host = platformArgs();
  assert.is(host.get('TARGETPLATFORM'), host.get('BUILDPLATFORM'));
  assert.ok(/^linux\/[a-z0-9]+/.test(host.get('BUILDPLATFORM')!));
});

test('FROM sees global ARGs (defaults, --build-arg) and the platform ARGs', () => {
  const src = [
    'ARG REGISTRY=docker.io',
    'ARG TAG=3.19',
    'ARG IMAGE=${REGISTRY}/library/alpine:${TAG}',
    'FROM $IMAGE AS one',
    'FROM --platform=$BUILDPLATFORM golang:1.22 AS build',
    'FROM --platform=${TARGETPLATFORM} ${IMAGE%:*}:edge',
    'FROM busybox:${NOT_GLOBAL:-latest}',
    '',
  ].join('\n');
  const cf = parseContainerfile(src, { platform: PLATFORMS });
  assert.equal(
    cf.stages.map((s) => [s.baseImage, s.platform]),
    [
      ['docker.io/library/alpine:3.19', undefined],
      ['golang:1.22', 'linux/amd64'],
      ['docker.io/library/alpine:edge', 'linux/arm/v7'],
      ['busybox:latest', undefined],
    ],
  );
  // --build-arg overrides a default, and later defaults see the new value; a --build-arg that
  // no global ARG declares is not visible to FROM
  const cf2 = parseContainerfile(src, { platform: PLATFORMS, buildArgs: { TAG: 'edge', NOT_GLOBAL: 'x', TARGETPLATFORM: 'linux/s390x' } });
  assert.equal(
    cf2.stages.map((s) => [s.baseImage, s.platform]),
    [
      ['docker.io/library/alpine:edge', undefined],
      ['golang:1.22', 'linux/amd64'],
      ['docker.io/library/alpine:edge', 'linux/s390x'],
      ['busybox:latest', undefined],
    ],
  );
  assert.is(cf2.globalValues.get('IMAGE'), 'docker.io/library/alpine:edge');
  assert.is(cf2.globalValues.get('NOT_GLOBAL'), undefined);
});

test('a global ARG without a default and without --build-arg is unset', () => {
  const cf = parseContainerfile('ARG V\nFROM alpine${V:+:}${V}\n');
  assert.is(cf.stages[0]!.baseImage, 'alpine');
  assert.is(parseContainerfile('ARG V\nFROM alpine${V:+:}${V}\n', { buildArgs: { V: '3' } }).stages[0]!.baseImage, 'alpine:3');
  assert.is(errorMessage('ARG V\nFROM alpine:${V:?required}\n'), 'Containerfile:2:1: cannot expand "alpine:${V:?required}": V: required');
});

test('resolveGlobalArgs can be called with ready platform values', () => {
  const cf = parseContainerfile('ARG A=$TARGETARCH-x\nFROM a\n');
  const v = resolveGlobalArgs(cf.globalArgs, { B: 'unused' }, new Map([['TARGETARCH', 'ppc64le']]));
  assert.equal(Object.fromEntries(v), { TARGETARCH: 'ppc64le', A: 'ppc64le-x' });
});

// Walks a stage like the build engine does: each ARG through StageArgs, each ENV into env.
function stageEnv(cf: Containerfile, index: number, buildArgs: Record<string, string> = {}, env = new Map<string, string>()) {
  const scope = stageArgs(cf.globalValues, buildArgs);
  const values: Array<[string, string | undefined]> = [];
  for (const instr of cf.stages[index]!.instructions) {
    if (instr.kind !== 'ARG') continue;
    for (const { name, value } of scope.declare(instr, env)) {
      values.push([name, value]);
      if (value !== undefined) env.set(name, value);
    }
  }
  return { scope, values };
}

test('a stage re-declares a global ARG to use it (the reference example)', () => {
  const cf = parseContainerfile('ARG VERSION=latest\nFROM busybox:$VERSION\nARG VERSION\nRUN echo $VERSION > image_version\n');
  assert.equal(stageEnv(cf, 0).values, [['VERSION', 'latest']]);
  const cf2 = parseContainerfile('ARG VERSION=latest\nFROM busybox:$VERSION\nARG VERSION\n', { buildArgs: { VERSION: '1.36' } });
  assert.is(cf2.stages[0]!.baseImage, 'busybox:1.36');
  assert.equal(stageEnv(cf2, 0, { VERSION: '1.36' }).values, [['VERSION', '1.36']]);
});

test('stage ARGs: --build-arg wins over the default; no default and no value is unset', () => {
  const cf = parseContainerfile('FROM busybox\nARG user1=someuser\nARG buildno\nARG username\n');
  assert.equal(stageEnv(cf, 0).values, [
    ['user1', 'someuser'],
    ['buildno', undefined],
    ['username', undefined],
  ]);
  assert.equal(stageEnv(cf, 0, { username: 'what_user', user1: 'other' }).values, [
    ['user1', 'other'],
    ['buildno', undefined],
    ['username', 'what_user'],
  ]);
});

test('stage ARG defaults are expanded with the stage env and earlier ARGs of the same line', () => {
  const cf = parseContainerfile('FROM x\nARG A=1 B=$A-b C="${PATH}:/opt/bin" D=\'$A\'\n');
  const { values } = stageEnv(cf, 0, {}, new Map([['PATH', '/usr/bin']]));
  assert.equal(values, [
    ['A', '1'],
    ['B', '1-b'],
    ['C', '/usr/bin:/opt/bin'],
    ['D', '$A'],
  ]);
  // a --build-arg value is taken as is, not expanded
  assert.equal(stageEnv(cf, 0, { A: '$HOME' }).values[0], ['A', '$HOME']);
});

test('platform ARGs reach a stage only when declared there', () => {
  const cf = parseContainerfile('FROM alpine\nARG TARGETPLATFORM\nARG TARGETARCH BUILDOS\n', { platform: PLATFORMS });
  assert.equal(stageEnv(cf, 0).values, [
    ['TARGETPLATFORM', 'linux/arm/v7'],
    ['TARGETARCH', 'arm'],
    ['BUILDOS', 'linux'],
  ]);
  const { scope } = stageEnv(parseContainerfile('FROM alpine\nRUN x\n', { platform: PLATFORMS }), 0);
  assert.equal([...scope.values], []);
});

test('a stage based on another stage inherits its ARGs', () => {
  const cf = parseContainerfile('FROM alpine AS base\nARG A=1\nFROM base\nRUN echo $A\n');
  const parent = stageArgs(cf.globalValues, {});
  parent.declare(cf.stages[0]!.instructions[0] as ArgInstruction, new Map());
  const child = stageArgs(cf.globalValues, {}, parent);
  assert.equal([...child.values], [['A', '1']]);
  assert.ok(child.declared.has('A'));
});

test('proxy ARGs: passed to RUN from --build-arg without being declared, unless declared', () => {
  const cf = parseContainerfile('FROM ubuntu\nRUN echo hi\nARG HTTP_PROXY\n');
  const scope = stageArgs(cf.globalValues, { HTTP_PROXY: 'http://p:3128', no_proxy: 'localhost', OTHER: 'x' });
  assert.equal(Object.fromEntries(scope.proxyEnv()), { HTTP_PROXY: 'http://p:3128', no_proxy: 'localhost' });
  assert.equal([...scope.values], []);
  scope.declare(cf.stages[0]!.instructions[1] as ArgInstruction, new Map());
  // declared: now it is an ordinary ARG (in the history and the cache key)
  assert.equal(Object.fromEntries(scope.proxyEnv()), { no_proxy: 'localhost' });
  assert.equal([...scope.values], [['HTTP_PROXY', 'http://p:3128']]);
});

test('an ARG re-declared without a value keeps its earlier value in the stage', () => {
  const cf = parseContainerfile('FROM x\nARG A=1\nARG A\nARG A=2\n');
  assert.equal(stageEnv(cf, 0).values, [
    ['A', '1'],
    ['A', undefined],
    ['A', '2'],
  ]);
});

test('stage ARG default errors carry the place of the ARG', () => {
  const cf = parseContainerfile('FROM x\nRUN a\n  ARG A="${B:?needs B}"\n');
  const err = parseErrorOf(() => stageEnv(cf, 0));
  assert.is(err.message, 'Containerfile:3:3: cannot expand "\\"${B:?needs B}\\"": B: needs B');
});

test('unused --build-arg names', () => {
  const cf = parseContainerfile('ARG G\nFROM x\nARG S\nFROM y AS other\nARG O\n');
  const used = [...cf.globalArgs, ...cf.stages[0]!.instructions.filter((i): i is ArgInstruction => i.kind === 'ARG')];
  assert.equal(unusedBuildArgs({ G: '1', S: '2', O: '3', X: '4', HTTPS_PROXY: 'p', TARGETARCH: 'arm64' }, used), ['O', 'X']);
});

test.run();
