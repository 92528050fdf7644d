// Variable substitution (expand.ts) and which instructions expand what (expand-instruction.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  expand,
  expandInstruction,
  expandWord,
  expandWords,
  parseContainerfile,
  parseTrigger,
} from '../../../packages/pbuild/src/containerfile/index.ts';
import { firstInstruction, parseErrorOf, strip } from './containerfile-helpers.ts';

const ENV = new Map([
  ['A', 'a'],
  ['EMPTY', ''],
  ['SPACE', 'x  y'],
  ['STR', 'foobarbaz'],
  ['PATH', '/usr/bin:/bin'],
  ['FILE', 'archive.tar.gz'],
  ['STAR', 'a*b'],
  ['NL', 'a\nb'],
  ['UNI', 'é\u{1F600}b'],
]);

const WORDS: Array<[string, string]> = [
  ['$A', 'a'],
  ['${A}', 'a'],
  ['${A}_b', 'a_b'],
  ['$A_b', ''],
  ['$A-b', 'a-b'],
  ['pre$A.post', 'prea.post'],
  ['$UNSET', ''],
  ['x${UNSET}y', 'xy'],
  ['$', '$'],
  ['a$', 'a$'],
  ['$ a', '$ a'],
  ['$$', ''],
  ['$1', ''],
  ['${1}', ''],
  ['$@x', 'x'],
  // defaults and alternatives
  ['${UNSET:-def}', 'def'],
  ['${EMPTY:-def}', 'def'],
  ['${A:-def}', 'a'],
  ['${UNSET-def}', 'def'],
  ['${EMPTY-def}', ''],
  ['${A:+alt}', 'alt'],
  ['${EMPTY:+alt}', ''],
  ['${UNSET:+alt}', ''],
  ['${EMPTY+alt}', 'alt'],
  ['${UNSET+alt}', ''],
  ['${UNSET:-${A}x}', 'ax'],
  ['${UNSET:-${ALSO:-deep}}', 'deep'],
  ['${UNSET:-a b}', 'a b'],
  ['${UNSET:-"q }"}', 'q }'],
  ['${UNSET:-$A}', 'a'],
  ['${A:?}', 'a'],
  ['${EMPTY?msg}', ''],
  // pattern removal and replacement
  ['${STR#f*b}', 'arbaz'],
  ['${STR##f*b}', 'az'],
  ['${STR%b*}', 'foobar'],
  ['${STR%%b*}', 'foo'],
  ['${STR#x}', 'foobarbaz'],
  ['${FILE%.*}', 'archive.tar'],
  ['${FILE%%.*}', 'archive'],
  ['${FILE#*.}', 'tar.gz'],
  ['${FILE##*.}', 'gz'],
  ['${STR#fo?}', 'barbaz'],
  ['${STAR#a\\*}', 'b'],
  ['${UNSET#x}', ''],
  ['${STR/ba/fo}', 'fooforbaz'],
  ['${STR//ba/fo}', 'fooforfoz'],
  ['${STR//a/$A$A}', 'foobaarbaaz'],
  ['${STR/o*/X}', 'fX'],
  ['${STR/*/X}', 'X'],
  ['${STR//?/x}', 'xxxxxxxxx'],
  ['${STR//a*/X}', 'foobX'],
  ['${STR//o?/_}', 'f_barbaz'],
  ['${STR/z/}', 'foobarba'],
  ['${NL#*}', 'a\nb'],
  ['${NL##*}', '\nb'],
  ['${NL%%*}', 'a\n'],
  ['${UNI#?}', '\u{1F600}b'],
  // quotes and escapes
  ["'$A'", '$A'],
  ['"$A"', 'a'],
  ['"${A} b"', 'a b'],
  ['"\\$A"', '$A'],
  ['"a\\"b"', 'a"b'],
  ['"a\\b"', 'a\\b'],
  ['"a\\\\b"', 'a\\b'],
  ["\"it's\"", "it's"],
  ['\'say "hi"\'', 'say "hi"'],
  ['\\$A', '$A'],
  ['\\${A}', '${A}'],
  ['a\\ b', 'a b'],
  ['a\\\\b', 'a\\b'],
  ['\\"a\\"', '"a"'],
  ['end\\', 'end'],
  ['"a"\'b\'c', 'abc'],
  ['Rex\\ The\\ Dog', 'Rex The Dog'],
];

for (const [word, expected] of WORDS) {
  test(`expands ${word}`, () => {
    assert.is(expandWord(word, ENV), expected);
  });
}

const FAILURES: Array<[string, string]> = [
  ['${A', "cannot expand \"${A\": syntax error: missing '}'"],
  ['${', "cannot expand \"${\": syntax error: missing '}'"],
  ['${}', 'cannot expand "${}": syntax error: bad substitution'],
  ['${:a}', 'cannot expand "${:a}": syntax error: bad substitution'],
  ['${{A}}', 'cannot expand "${{A}}": syntax error: bad substitution'],
  ['${A:-x', "cannot expand \"${A:-x\": syntax error: missing '}'"],
  ['${A:#x}', 'cannot expand "${A:#x}": unsupported modifier (:#) in substitution'],
  ['${A!}', 'cannot expand "${A!}": unsupported modifier (!) in substitution'],
  ['${A x}', 'cannot expand "${A x}": unsupported modifier ( ) in substitution'],
  ['${UNSET:?}', 'cannot expand "${UNSET:?}": UNSET: is not allowed to be unset'],
  ['${UNSET?}', 'cannot expand "${UNSET?}": UNSET: is not allowed to be unset'],
  ['${EMPTY:?}', 'cannot expand "${EMPTY:?}": EMPTY: is not allowed to be empty'],
  ['${EMPTY:?set it with --build-arg}', 'cannot expand "${EMPTY:?set it with --build-arg}": EMPTY: set it with --build-arg'],
  ["'abc", 'cannot expand "\'abc": unexpected end of text while looking for matching single-quote'],
  ['"abc', 'cannot expand "\\"abc": unexpected end of text while looking for matching double-quote'],
  ['${STR/x', "cannot expand \"${STR/x\": syntax error: missing '/' in ${}"],
  // unlike bash, the replacement part is required (as in buildkit)
  ['${STR//o}', "cannot expand \"${STR//o}\": syntax error: missing '/' in ${}"],
  ['${STR#\\a}', "cannot expand \"${STR#\\\\a}\": invalid pattern (\\a) in substitution: invalid escape '\\a'"],
  [`${'${A:-'.repeat(100)}x${'}'.repeat(100)}`, `cannot expand "${'${A:-'.repeat(100)}x${'}'.repeat(100)}": substitutions nested more than 64 deep`],
];

for (const [word, expected] of FAILURES) {
  test(`fails to expand ${word.slice(0, 40)}`, () => {
    const err = parseErrorOf(() => expandWord(word, ENV, { where: { file: 'Containerfile', line: 7, col: 3 } }));
    assert.is(err.message, `Containerfile:7:3: ${expected}`);
    assert.is(err.reason, expected);
  });
}

test('patterns with many wildcards do not backtrack exponentially', () => {
  const env = { LONG: 'a'.repeat(300) };
  assert.is(expandWord(`\${LONG#${'*a'.repeat(40)}b}`, env), env.LONG);
  assert.is(expandWord(`\${LONG//${'*a'.repeat(40)}b/x}`, env), env.LONG);
  assert.is(expandWord(`\${LONG%%${'a*'.repeat(40)}}`, env), '');
});

test('words: split at unquoted, unescaped whitespace after substitution', () => {
  assert.equal(expandWords('$SPACE "q r" s\\ t \'u v\'', ENV), ['x', 'y', 'q r', 's t', 'u v']);
  assert.equal(expandWords('  80  $UNSET 443/udp ', ENV), ['80', '443/udp']);
  assert.equal(expandWords('"" a', ENV), ['a']);
  assert.equal(expandWords('${UNSET:-8080 9090}', ENV), ['8080', '9090']);
});

test('the escape character can be a backtick', () => {
  assert.is(expandWord('`$A', ENV, { escape: '`' }), '$A');
  assert.is(expandWord('\\$A', ENV, { escape: '`' }), '\\a');
  assert.is(expandWord('"a`"b"', ENV, { escape: '`' }), 'a"b');
});

test('keepQuotes (heredoc bodies): quotes stay and do not protect from substitution', () => {
  assert.is(expandWord('"$A" \'$A\' \\$A \\\\ \\\n', ENV, { keepQuotes: true }), '"a" \'a\' $A \\ \n');
});

test('used and unset variables are reported', () => {
  const r = expand('$A ${UNSET} ${B:-x} "$EMPTY"', ENV);
  assert.equal([...r.used].sort(), ['A', 'EMPTY']);
  assert.equal([...r.unset].sort(), ['B', 'UNSET']);
});

test('variables from an object (own properties only) or a function', () => {
  assert.is(expandWord('$constructor${toString}x', {}), 'x');
  assert.is(expandWord('$A-$B', { A: '1', B: '2' }), '1-2');
  assert.is(expandWord('$A-$B', (n) => (n === 'A' ? 'fn' : undefined)), 'fn-');
});

// ---- which instructions expand what ------------------------------------------------------

const STAGE_ENV = new Map([
  ['APP', '/srv/app'],
  ['USER', 'app'],
  ['PORT', '8080'],
  ['PORTS', '80 443/udp'],
  ['SIG', 'SIGINT'],
  ['NAME', 'demo'],
  ['UID', '1000'],
  ['ARCH', 'arm64'],
]);

const EXPANDED: Array<[string, unknown]> = [
  ['WORKDIR $APP/src', { kind: 'WORKDIR', path: '/srv/app/src' }],
  ['WORKDIR "/my dir"', { kind: 'WORKDIR', path: '/my dir' }],
  ['USER ${USER}:${GROUP:-${USER}}', { kind: 'USER', user: 'app:app' }],
  ['STOPSIGNAL $SIG', { kind: 'STOPSIGNAL', signal: 'SIGINT' }],
  ['EXPOSE $PORT $PORTS 9000-9001', { kind: 'EXPOSE', ports: ['8080/tcp', '80/tcp', '443/udp', '9000/tcp', '9001/tcp'] }],
  ['EXPOSE 53/UDP', { kind: 'EXPOSE', ports: ['53/udp'] }],
  ['VOLUME $APP/data ["not", "json"]', { kind: 'VOLUME', volumes: ['/srv/app/data', '[not,', 'json]'] }],
  ['VOLUME ["$APP/logs"]', { kind: 'VOLUME', volumes: ['/srv/app/logs'] }],
  [
    'ENV APP=/opt/app OLD=$APP NAME="$NAME two" \'$Q\'=x',
    {
      kind: 'ENV',
      env: [
        { key: 'APP', value: '/opt/app' },
        { key: 'OLD', value: '/srv/app' },
        { key: 'NAME', value: 'demo two' },
        { key: '$Q', value: 'x' },
      ],
    },
  ],
  ['ENV LEGACY "quoted $NAME" and more', { kind: 'ENV', env: [{ key: 'LEGACY', value: 'quoted demo and more' }] }],
  ['LABEL "org.example.name"="$NAME" single=\'$NAME\'', { kind: 'LABEL', labels: [{ key: 'org.example.name', value: 'demo' }, { key: 'single', value: '$NAME' }] }],
  [
    'ADD --checksum=sha256:$NAME --chown=$USER https://example.com/$NAME.tgz /opt/$NAME/',
    {
      kind: 'ADD',
      sources: [{ kind: 'path', path: 'https://example.com/demo.tgz' }],
      dest: '/opt/demo/',
      link: false,
      excludes: [],
      chown: 'app',
      checksum: 'sha256:demo',
    },
  ],
  [
    'RUN --mount=type=cache,id=go-$ARCH,target=$APP/.cache,uid=$UID echo $APP',
    {
      kind: 'RUN',
      command: { form: 'shell', text: 'echo $APP' },
      heredocs: [],
      mounts: [{ type: 'cache', readonly: false, id: 'go-arm64', target: '/srv/app/.cache', uid: 1000 }],
      mountSpecs: ['type=cache,id=go-$ARCH,target=$APP/.cache,uid=$UID'],
    },
  ],
  // not expanded: the shell (or nothing) handles these
  ['RUN echo $APP', { kind: 'RUN', command: { form: 'shell', text: 'echo $APP' }, heredocs: [], mounts: [], mountSpecs: [] }],
  ['CMD ["echo", "$APP"]', { kind: 'CMD', command: { form: 'exec', args: ['echo', '$APP'] } }],
  ['ENTRYPOINT $APP/run', { kind: 'ENTRYPOINT', command: { form: 'shell', text: '$APP/run' } }],
  ['SHELL ["$APP"]', { kind: 'SHELL', shell: ['$APP'] }],
  ['HEALTHCHECK CMD curl localhost:$PORT', { kind: 'HEALTHCHECK', test: ['CMD-SHELL', 'curl localhost:$PORT'] }],
  ['ONBUILD WORKDIR $APP', { kind: 'ONBUILD', trigger: { kind: 'WORKDIR', path: '$APP' }, expression: 'WORKDIR $APP' }],
  ['MAINTAINER $NAME', { kind: 'MAINTAINER', maintainer: '$NAME' }],
  ['ARG X=$APP', { kind: 'ARG', args: [{ name: 'X', default: '$APP' }] }],
];

for (const [input, expected] of EXPANDED) {
  test(`expandInstruction: ${input}`, () => {
    assert.equal(strip(expandInstruction(firstInstruction(input), STAGE_ENV)), expected);
  });
}

test('COPY: sources are split at blanks before expansion; quotes go with expansion', () => {
  const got = strip(expandInstruction(firstInstruction('COPY --chown=$UID:$UID --chmod=0644 $APP/a "b" ${APP}/'), STAGE_ENV));
  assert.equal(got, {
    kind: 'COPY',
    sources: [
      { kind: 'path', path: '/srv/app/a' },
      { kind: 'path', path: 'b' },
    ],
    dest: '/srv/app/',
    link: false,
    parents: false,
    excludes: [],
    chown: '1000:1000',
    chmod: '0644',
  });
  // fields are split at blanks whatever the quotes (paths with blanks need the JSON form), so
  // an unbalanced quote is an error at expansion
  const err = parseErrorOf(() => expandInstruction(firstInstruction('COPY "b c" /x'), STAGE_ENV));
  assert.is(err.message, 'Containerfile:2:1: cannot expand "\\"b": unexpected end of text while looking for matching double-quote');
});

test('ENV sees the variables as they were before the instruction', () => {
  const env = new Map([['abc', 'hello']]);
  const i1 = expandInstruction(firstInstruction('ENV abc=bye def=$abc'), env);
  assert.equal(strip(i1), { kind: 'ENV', env: [{ key: 'abc', value: 'bye' }, { key: 'def', value: 'hello' }] });
});

test('COPY heredoc bodies: expanded unless the delimiter was quoted; quotes stay', () => {
  const env = new Map([['FOO', 'bar']]);
  const src = 'COPY <<EOF <<"RAW" /x/\n"$FOO" \'$FOO\' \\$FOO \\\\\nEOF\n"$FOO" \\$FOO\nRAW';
  const got = expandInstruction(firstInstruction(src), env);
  assert.equal(
    got.kind === 'COPY' && got.sources.map((s) => (s.kind === 'heredoc' ? s.heredoc.content : s.path)),
    ['"bar" \'bar\' $FOO \\\n', '"$FOO" \\$FOO\n'],
  );
});

test('RUN heredoc bodies are left to the shell', () => {
  const i = firstInstruction('RUN <<EOF\necho $FOO\nEOF');
  assert.equal(expandInstruction(i, new Map([['FOO', 'x']])), i);
});

test('values checked after expansion', () => {
  const env = new Map([
    ['SIG', 'SIGNOPE'],
    ['PORT', 'http'],
    ['MODE', '999'],
    ['V', ''],
  ]);
  assert.is(parseErrorOf(() => expandInstruction(firstInstruction('STOPSIGNAL $SIG'), env)).message, 'Containerfile:2:1: STOPSIGNAL: invalid signal "SIGNOPE" (expected a name like SIGTERM or a number)');
  assert.is(parseErrorOf(() => expandInstruction(firstInstruction('EXPOSE $PORT'), env)).message, 'Containerfile:2:1: EXPOSE: invalid port "http": invalid start port "http": not a number');
  assert.is(
    parseErrorOf(() => expandInstruction(firstInstruction('RUN --mount=type=cache,target=/c,mode=$MODE x'), env)).message,
    'Containerfile:2:1: invalid --mount=type=cache,target=/c,mode=$MODE: invalid value 999 for mode',
  );
  assert.is(parseErrorOf(() => expandInstruction(firstInstruction('VOLUME $V'), env)).message, 'Containerfile:2:1: VOLUME paths can not be empty');
  assert.is(parseErrorOf(() => expandInstruction(firstInstruction('WORKDIR ${V:?is required}'), env)).message, 'Containerfile:2:1: cannot expand "${V:?is required}": V: is required');
});

test('ONBUILD triggers from a base image are parsed, then expanded downstream', () => {
  const t = parseTrigger('COPY --chown=$U . $DIR');
  const got = strip(expandInstruction(t, { U: 'app', DIR: '/src' }));
  assert.equal(got, { kind: 'COPY', sources: [{ kind: 'path', path: '.' }], dest: '/src', link: false, parents: false, excludes: [], chown: 'app' });
  const withBody = parseTrigger('RUN <<EOF\necho hi\nEOF');
  assert.equal(strip(withBody), {
    kind: 'RUN',
    command: { form: 'shell', text: '<<EOF' },
    heredocs: [{ name: 'EOF', expand: true, chomp: false, content: 'echo hi\n' }],
    mounts: [],
    mountSpecs: [],
  });
  // the expression an ONBUILD stores parses back to the same trigger
  const cf = parseContainerfile('FROM a\nONBUILD COPY <<-EOF /x\n\thi\n\tEOF\n');
  const ob = cf.stages[0]!.instructions[0]!;
  assert.ok(ob.kind === 'ONBUILD');
  assert.equal(strip(parseTrigger(ob.expression)), strip(ob.trigger));
  assert.is(parseErrorOf(() => parseTrigger('FROM x')).message, "ONBUILD:1:1: FROM isn't allowed as an ONBUILD trigger");
  assert.is(parseErrorOf(() => parseTrigger('RUN a\nRUN b')).message, 'ONBUILD:1:1: an ONBUILD trigger must be one instruction: "RUN a\\nRUN b"');
  assert.is(parseErrorOf(() => parseTrigger('')).message, 'ONBUILD:1:1: an ONBUILD trigger must be one instruction: ""');
});

test.run();
