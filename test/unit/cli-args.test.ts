// The CLI refuses options it does not know, with the command's usage: a typo must not silently
// measure something else (`eval-completion --in-projet` used to run as if the flag were absent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parseArgs, UsageError } from '../../src/shared/cli/args';

test('parseArgs: known values and flags are read, an unknown option is a UsageError', () => {
  const args = parseArgs(['--n', '5', '--with-suffix', 'dir', '--seed=3'], ['n', 'seed'], ['with-suffix']);
  assert.deepEqual(args.positional, ['dir']);
  assert.deepEqual(args.options.get('n'), ['5']);
  assert.deepEqual(args.options.get('seed'), ['3']);
  assert.ok(args.flags.has('with-suffix'));
  assert.throws(() => parseArgs(['--in-projet'], [], ['in-project']), (e: unknown) => e instanceof UsageError && e.message === 'unknown option --in-projet');
  assert.throws(() => parseArgs(['--with-suffix=yes'], [], ['with-suffix']), UsageError);
  assert.throws(() => parseArgs(['--n'], ['n'], []), /--n needs a value/);
});

test('every command answers an unknown option with exit code 2, the error and its usage', () => {
  for (const [command, usage] of [
    ['eval-completion', /kestrel eval-completion --files DIR/],
    ['bench-completion', /kestrel bench-completion/],
    ['complete', /kestrel complete/],
    ['index', /kestrel index DIR/],
    ['search', /kestrel search "QUERY"/],
    ['eval-search', /kestrel eval-search --pairs FILE/],
  ] as const) {
    const run = spawnSync(process.execPath, ['dist/cli.js', command, '--no-such-option'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(run.status, 2, `${command}: ${run.stderr}`);
    assert.match(run.stderr, new RegExp(`kestrel ${command}: unknown option --no-such-option`));
    assert.match(run.stderr, usage);
  }
});
