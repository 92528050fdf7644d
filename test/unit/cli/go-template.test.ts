// The Go-template subset behind --format.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileTemplate, goString } from '../../../packages/cli-common/src/go-template.ts';

const data = {
  Id: 'abc',
  Names: ['web', 'alias'],
  State: { Status: 'running', Running: true, ExitCode: 0, Pid: 42 },
  Config: { Labels: { 'com.example/a': 'x' }, Env: ['A=1', 'B=2'] },
  Empty: [],
};
const t = (src: string) => compileTemplate(src)(data);

test('fields, nested fields, literal text and \\n', () => {
  assert.is(t('{{.Id}}'), 'abc');
  assert.is(t('id={{.Id}} status={{.State.Status}}\\n'), 'id=abc status=running\n');
  assert.is(t('{{.State.Pid}} {{.State.Running}}'), '42 true');
  assert.is(t('{{.Missing}}'), '<no value>');
});

test('json, index, len, join, upper, pipelines', () => {
  assert.is(t('{{json .State}}'), '{"Status":"running","Running":true,"ExitCode":0,"Pid":42}');
  assert.is(t('{{index .Config.Labels "com.example/a"}}'), 'x');
  assert.is(t('{{len .Names}}'), '2');
  assert.is(t('{{join .Names ","}}'), 'web,alias');
  assert.is(t('{{.State.Status | upper}}'), 'RUNNING');
  assert.is(t('{{.Names}}'), '[web alias]');
});

test('range, if/else, with, trim markers', () => {
  assert.is(t('{{range .Config.Env}}{{.}};{{end}}'), 'A=1;B=2;');
  assert.is(t('{{range .Empty}}x{{else}}none{{end}}'), 'none');
  assert.is(t('{{if .State.Running}}up{{else}}down{{end}}'), 'up');
  assert.is(t('{{if eq .State.Status "exited"}}gone{{else}}here{{end}}'), 'here');
  assert.is(t('{{with .State}}{{.Status}}{{end}}'), 'running');
  assert.is(t('a  {{- .Id -}}  b'), 'aabcb');
});

test('errors are one-line TemplateErrors', () => {
  assert.throws(() => t('{{nosuchfunc .Id}}'), /function "nosuchfunc" not defined/);
  assert.throws(() => compileTemplate('{{.Id'), /unclosed action/);
  assert.throws(() => compileTemplate('{{if .Id}}x'), /missing \{\{end\}\}/);
  assert.is(goString({ b: 1, a: [1, 2] }), 'map[a:[1 2] b:1]');
});

test.run();
