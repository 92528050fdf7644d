// pbuild config's flags as image config changes, where buildah's parsing is particular:
// --healthcheck and its timings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { configFlagChanges, parseHealthcheck } from '../../../packages/pbuild/src/actions/config.ts';

test('--healthcheck: CMD words are split, CMD [json] is exec form, CMD-SHELL keeps its text; buildah\'s default timings', () => {
  assert.equal(parseHealthcheck('CMD curl -f x'), { Test: ['CMD', 'curl', '-f', 'x'], Interval: 30e9, Timeout: 30e9, Retries: 3 });
  assert.equal(parseHealthcheck('CMD ["a", "b c"]')!.Test, ['CMD', 'a', 'b c']);
  assert.equal(parseHealthcheck('CMD-SHELL echo hi && true')!.Test, ['CMD-SHELL', 'echo hi && true']);
  assert.equal(parseHealthcheck('none'), { Test: ['NONE'] });
  assert.is(parseHealthcheck(''), null);
});

test('--healthcheck-interval/-timeout/-start-period/-retries', () => {
  const [change] = configFlagChanges({ healthcheck: 'CMD true', 'healthcheck-interval': '5s', 'healthcheck-timeout': '1m', 'healthcheck-start-period': '500ms', 'healthcheck-retries': 2 });
  assert.equal(change, { kind: 'healthcheck', value: { Test: ['CMD', 'true'], Interval: 5e9, Timeout: 60e9, StartPeriod: 500e6, Retries: 2 } });
  assert.throws(() => configFlagChanges({ healthcheck: 'CMD true', 'healthcheck-interval': '5' }), /--healthcheck-interval invalid duration "5"/);
});

test.run();
