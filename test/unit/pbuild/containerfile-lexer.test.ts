// The lexer: parser directives, comments, continuation lines, heredoc bodies, encodings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lex, parseContainerfile, parseInstructions } from '../../../packages/pbuild/src/containerfile/index.ts';
import { errorMessage, strip } from './containerfile-helpers.ts';

const texts = (src: string): string[] => lex(src).lines.map((l) => l.text);

test('directives at the top are read, with any case and blanks', () => {
  const l = lex('# syntax=docker/dockerfile:1.7\n#ESCAPE = `\n#\tcheck= skip=JSONArgsRecommended \n\nFROM a\n');
  assert.equal(l.directives, [
    { name: 'syntax', value: 'docker/dockerfile:1.7', line: 1 },
    { name: 'escape', value: '`', line: 2 },
    { name: 'check', value: 'skip=JSONArgsRecommended', line: 3 },
  ]);
  assert.is(l.escape, '`');
  assert.equal(parseContainerfile('# syntax=docker/dockerfile:1\nFROM a').syntax, 'docker/dockerfile:1');
});

test('directives end at the first comment, blank line or instruction', () => {
  for (const src of [
    '# About my dockerfile\n# escape=`\nFROM a\nRUN x \\\ny',
    '\n# escape=`\nFROM a\nRUN x \\\ny',
    'FROM a\n# escape=`\nRUN x \\\ny',
    '# unknowndirective=value\n# escape=`\nFROM a\nRUN x \\\ny',
    '# direc \\\n# escape=`\nFROM a\nRUN x \\\ny',
  ]) {
    const l = lex(src);
    assert.is(l.escape, '\\', src);
    assert.equal(texts(src).slice(-1), ['RUN x y'], src);
  }
  // an unknown directive is a comment, and ends the directives
  assert.equal(lex('# foo=bar\n# syntax=x\nFROM a').directives, []);
  // the same directive twice is an error, even if the second one is later a comment
  assert.is(errorMessage('# escape=`\n# escape=`\n'), 'Containerfile:2:1: only one escape parser directive can be used');
});

test('escape=` : backtick continues lines and escapes; backslash is literal', () => {
  const src = '# escape=`\n\nFROM mcr.microsoft.com/windows/servercore\nCOPY testfile.txt c:\\\nRUN dir c:\\\nRUN echo a `\n  b\nENV A=x` y';
  const cf = parseContainerfile(src);
  assert.equal(strip(cf.stages[0]!.instructions), [
    { kind: 'COPY', sources: [{ kind: 'path', path: 'testfile.txt' }], dest: 'c:\\', link: false, parents: false, excludes: [] },
    { kind: 'RUN', command: { form: 'shell', text: 'dir c:\\' }, heredocs: [], mounts: [], mountSpecs: [] },
    { kind: 'RUN', command: { form: 'shell', text: 'echo a   b' }, heredocs: [], mounts: [], mountSpecs: [] },
    { kind: 'ENV', env: [{ key: 'A', value: 'x` y' }] },
  ]);
});

test('comments: whole lines only, also indented; # elsewhere is an argument', () => {
  assert.equal(texts('# c\n  # indented\nFROM a # not a comment\nRUN echo # x\n'), ['FROM a # not a comment', 'RUN echo # x']);
  // a comment line does not continue, even when it ends with the escape character
  assert.equal(texts('FROM a\n# comment \\\nRUN x'), ['FROM a', 'RUN x']);
});

test('continuations: comment lines and blank lines inside are skipped', () => {
  assert.equal(texts('RUN a \\\n# c1\n   # c2 \\\n\n   \t\n  b \\\n  c'), ['RUN a   b   c']);
  const l = lex('FROM x\nRUN a \\\n\n  b');
  assert.equal(
    l.warnings.map((w) => [w.line, w.message]),
    [[3, 'empty continuation line (blank line inside a continued instruction)']],
  );
  assert.is(l.lines[1]!.startLine, 2);
  assert.is(l.lines[1]!.endLine, 4);
});

test('an escaped escape at the end does not continue; blanks after the escape still continue', () => {
  assert.equal(texts('RUN echo \\\\\nRUN b'), ['RUN echo \\\\', 'RUN b']);
  assert.equal(texts('RUN echo \\ \t \nb'), ['RUN echo b']);
  assert.equal(texts('RUN echo\\\nb'), ['RUN echob']);
});

test('a lone continuation character at the end of the file is nothing', () => {
  assert.equal(texts('FROM a\n\\\n'), ['FROM a']);
  assert.equal(texts('FROM a\n\\\n# only a comment'), ['FROM a']);
});

test('line endings: CRLF, a final line without newline, a BOM', () => {
  assert.equal(texts('\uFEFFFROM a\r\nRUN b \\\r\n  c\r\n'), ['FROM a', 'RUN b   c']);
  assert.equal(texts('FROM a\nRUN b'), ['FROM a', 'RUN b']);
  assert.equal(lex('\uFEFF# escape=`\nFROM a').escape, '`');
});

test('bytes: UTF-8 is decoded, invalid sequences become U+FFFD', () => {
  const cf = parseContainerfile(Buffer.from('FROM a\nLABEL name="caf\u00e9"\nENV X=\xff\n', 'latin1'));
  const [label, env] = strip(cf.stages[0]!.instructions) as Array<{ labels?: unknown; env?: unknown }>;
  assert.equal(label!.labels, [{ key: 'name', value: '"caf\uFFFD"' }]);
  assert.equal(env!.env, [{ key: 'X', value: '\uFFFD' }]);
  assert.equal(strip(parseContainerfile(Buffer.from('FROM a\nLABEL name="café"\n')).stages[0]!.instructions[0]), {
    kind: 'LABEL',
    labels: [{ key: 'name', value: '"café"' }],
  });
});

test('heredoc bodies: raw lines up to the delimiter, then the next instruction', () => {
  const l = lex('FROM a\nRUN <<EOF\n  # kept\nRUN not an instruction \\\n\nEOF\nRUN next\n');
  assert.equal(texts('FROM a\nRUN <<EOF\n  # kept\nRUN not an instruction \\\n\nEOF\nRUN next\n'), ['FROM a', 'RUN <<EOF', 'RUN next']);
  assert.is(l.lines[1]!.heredocs[0]!.content, '  # kept\nRUN not an instruction \\\n\n');
  assert.equal(l.lines[1]!.heredocs[0]!.at, { line: 2, col: 5 });
  assert.is(l.lines[1]!.endLine, 6);
  assert.is(l.lines[2]!.startLine, 7);
});

test('heredocs after a continued line; the delimiter must be alone on its line', () => {
  const l = lex('FROM a\nRUN --mount=type=cache,target=/c \\\n    <<EOF bash\nEOF x\nEOF\n');
  assert.is(l.lines[1]!.heredocs[0]!.content, 'EOF x\n');
  assert.equal(l.lines[1]!.heredocs[0]!.at, { line: 3, col: 5 });
});

test('<<- strips leading tabs (not spaces) from the body and the delimiter', () => {
  const l = lex('FROM a\nCOPY <<-EOT /x\n\t\tone\n  two\n\t three\n\t\tEOT\n');
  assert.is(l.lines[1]!.heredocs[0]!.content, 'one\n  two\n three\n');
});

test('heredocs in JSON forms and in other instructions are not read', () => {
  assert.equal(texts('FROM a\nRUN ["cat", "<<EOF"]\nEOF\n'), ['FROM a', 'RUN ["cat", "<<EOF"]', 'EOF']);
  assert.equal(texts('FROM a\nENV A=<<EOF\nRUN x\n'), ['FROM a', 'ENV A=<<EOF', 'RUN x']);
  // an unterminated quote in the line: buildkit finds no heredoc there
  assert.equal(texts('FROM a\nRUN echo "unclosed <<EOF\nRUN x\n'), ['FROM a', 'RUN echo "unclosed <<EOF', 'RUN x']);
});

test('parseInstructions gives the instructions without stages', () => {
  const p = parseInstructions('RUN a\nCOPY b c\n', { file: 'snippet' });
  assert.equal(
    p.instructions.map((i) => i.kind),
    ['RUN', 'COPY'],
  );
  assert.is(p.instructions[1]!.loc.file, 'snippet');
});

test.run();
