import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { skipByContent, skipByName } from '../../src/index/fileFilters';
import { GitignoreFile, IgnoreStack } from '../../src/index/gitignore';
import { Glob, GlobSet } from '../../src/index/glob';
import { checkFile, walkWorkspace, type SkippedPath } from '../../src/index/walker';
import { NotReadableFileError, readRegularFile } from '../../src/shared/files/regularFile';

function workspace(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'kestrel-walk-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

function reasons(skipped: SkippedPath[]): Record<string, string> {
  return Object.fromEntries(skipped.map((s) => [s.rel, s.reason]));
}

test('globs: ** spans folders, * stays in one name, braces and classes, trailing /** covers the folder', () => {
  const matches = (glob: string, path: string): boolean => new Glob(glob).matches(path);
  assert.ok(matches('**/node_modules/**', 'node_modules'));
  assert.ok(matches('**/node_modules/**', 'a/node_modules/b/c.js'));
  assert.ok(!matches('**/node_modules/**', 'a/node_modules_x/c.js'));
  assert.ok(matches('*.log', 'x.log'));
  assert.ok(!matches('*.log', 'a/x.log'), 'anchored at the folder, like VS Code');
  assert.ok(matches('**/*.{js,ts}', 'src/a.ts'));
  assert.ok(!matches('**/*.{js,ts}', 'src/a.py'));
  assert.ok(matches('src/[ab]?.py', 'src/b1.py'));
  assert.ok(!matches('src/[!ab]?.py', 'src/b1.py'));
  assert.ok(matches('src/[a-c]x.py', 'src/bx.py'));
  assert.ok(matches('{build,dist}/**', 'dist'));
  assert.ok(matches('{build,dist/**}', 'dist/a/b'));
  assert.ok(!matches('{build,dist/**}', 'build/a'));
  assert.ok(matches('**', 'a/b/c'));
  assert.ok(matches('a/**/b', 'a/b') && matches('a/**/b', 'a/x/y/b') && !matches('a/**/b', 'a/xb'));
  assert.ok(matches('a/**', 'a/') && !matches('a/**', 'ab'));
  assert.ok(matches('a*b*c', 'aXbYc') && !matches('a*b*c', 'aX/bYc'));
  assert.ok(matches('{unclosed', '{unclosed') && matches('[unclosed', '[unclosed'));
  assert.ok(new GlobSet(['', '**/.git']).matches('sub/.git'));
});

test('a pathological glob over a deep path is answered at once (no backtracking)', { timeout: 10_000 }, () => {
  // A backtracking regular expression tries every way of splitting 40 folders among the repeated
  // `**/` segments (and `*` runs within one long name): hours for these, though each is one pass here.
  const deep = Array.from({ length: 40 }, (_, i) => `d${i}`).join('/') + '/file.py';
  const repeated = Array.from({ length: 8 }, () => '**').join('/') + '/nomatch.py';
  assert.equal(new Glob(repeated).matches(deep), false);
  assert.equal(new Glob(Array.from({ length: 8 }, () => '**').join('/') + '/file.py').matches(deep), true);
  const longName = 'a'.repeat(5000);
  assert.equal(new Glob('*a*a*a*a*a*a*a*a*a*a*b').matches(longName), false);
  assert.equal(new Glob('{**/,**/**/}{**/,**/**/}{**/,**/**/}x').matches(deep), false);
  // .gitignore lines (workspace content) go through the same matcher.
  const hostile = GitignoreFile.parse('', `${repeated}\n*a*a*a*a*a*a*a*a*a*a*b\n`);
  assert.equal(new IgnoreStack().with(hostile).ignores(deep, false), false);
  assert.equal(new IgnoreStack().with(hostile).ignores(longName, false), false);
});

test('gitignore rules: unanchored names match at any depth, / anchors, ! re-includes, deeper files win', () => {
  const root = GitignoreFile.parse('', '# comment\n*.log\n/build\ncache/\n!important.log\n');
  const sub = GitignoreFile.parse('pkg', 'important.log\n!*.tmp\n');
  const stack = new IgnoreStack().with(root).with(sub);
  assert.ok(stack.ignores('a/b/x.log', false));
  assert.ok(!stack.ignores('important.log', false), 're-included at the root');
  assert.ok(stack.ignores('pkg/important.log', false), 'ignored again by the deeper file');
  assert.ok(stack.ignores('build', true));
  assert.ok(!stack.ignores('src/build', true), '/build is anchored to its folder');
  assert.ok(stack.ignores('x/cache', true));
  assert.ok(!stack.ignores('x/cache', false), 'a trailing slash matches folders only');
});

test('secrets, binaries, minified and generated files are recognised by name or first bytes', () => {
  for (const secret of ['.env', '.env.local', 'id_rsa', 'id_ed25519.pub', 'server.pem', 'tls.key', 'cert.p12', '.npmrc']) {
    assert.equal(skipByName(secret), 'secret', secret);
  }
  assert.equal(skipByName('.env.example'), undefined, 'templates hold no values');
  assert.equal(skipByName('logo.png'), 'binary');
  assert.equal(skipByName('app.min.js'), 'minified');
  assert.equal(skipByName('package-lock.json'), 'generated');
  assert.equal(skipByName('api_pb2.py'), 'generated');
  assert.equal(skipByContent(Buffer.from('abc\0def')), 'binary');
  assert.equal(skipByContent(Buffer.from([0xc3, 0x28, 0x41, 0x0a])), 'binary', 'invalid UTF-8');
  assert.equal(skipByContent(Buffer.from('é'.repeat(10)).subarray(0, 19)), undefined, 'a character cut at the end of the head is fine');
  assert.equal(skipByContent(Buffer.from('var a=' + 'x'.repeat(5000) + ';\n')), 'minified');
  assert.equal(skipByContent(Buffer.from('// Code generated by protoc-gen-go. DO NOT EDIT.\npackage api\n')), 'generated');
  assert.equal(skipByContent(Buffer.from('"""Assigns auto-generated ids."""\nimport os\n')), undefined, 'only comments are markers');
});

test('the walk honours nested .gitignore files, excludes, size, secrets, binaries and symlink loops', async () => {
  const root = workspace({
    '.gitignore': '*.log\nbuild/\n',
    'app.py': 'print(1)\n',
    'debug.log': 'x\n',
    'build/out.py': 'x = 1\n',
    'pkg/.gitignore': '!keep.log\nlocal.py\n',
    'pkg/keep.log': 'kept\n',
    'pkg/local.py': 'x = 2\n',
    'pkg/mod.py': 'def f():\n    pass\n',
    'vendor/lib.py': 'x = 3\n',
    '.env': 'SECRET=1\n',
    '.env.example': 'SECRET=\n',
    'keys/server.pem': '-----BEGIN PRIVATE KEY-----\n',
    'image.png': Buffer.from([0x89, 0x50, 0x4e, 0x47]),
    'data.bin2': Buffer.from([1, 2, 0, 3]),
    'big.py': 'x = 1\n'.repeat(400),
    'bundle.js': 'var a=' + 'y'.repeat(1005) + ';\n',
    'gen.go': '// Code generated by stringer. DO NOT EDIT.\npackage x\n',
    '.git/config': '[core]\n',
  });
  symlinkSync(root, join(root, 'pkg', 'loop'));
  symlinkSync(join(root, 'pkg'), join(root, 'pkg-link'));
  try {
    const { files, skipped } = await walkWorkspace({ roots: [root], exclude: ['**/vendor/**'], maxFileBytes: 2048 });
    assert.deepEqual(files.map((f) => f.rel).sort(), ['.env.example', '.gitignore', 'app.py', 'pkg/.gitignore', 'pkg/keep.log', 'pkg/mod.py']);
    const byRel = reasons(skipped);
    assert.equal(byRel['debug.log'], 'gitignore');
    assert.equal(byRel['build'], 'gitignore', 'an ignored folder is recorded once, not walked');
    assert.equal(byRel['pkg/local.py'], 'gitignore', 'nested .gitignore');
    assert.equal(byRel['vendor'], 'excluded');
    assert.equal(byRel['.env'], 'secret');
    assert.equal(byRel['keys/server.pem'], 'secret');
    assert.equal(byRel['image.png'], 'binary');
    assert.equal(byRel['data.bin2'], 'binary', 'found by content');
    assert.equal(byRel['big.py'], 'too-large');
    assert.equal(byRel['bundle.js'], 'minified');
    assert.equal(byRel['gen.go'], 'generated');
    assert.equal(byRel['pkg/loop'], 'symlink-loop');
    assert.equal(byRel['pkg-link'], 'duplicate-symlink');
    assert.ok(!Object.keys(byRel).some((rel) => rel.startsWith('.git/') || rel === '.git'), 'version control folders are not reported');
    const mod = files.find((f) => f.rel === 'pkg/mod.py');
    assert.equal(mod?.language, 'python');
    assert.equal(mod?.root, root);

    const secrets = await walkWorkspace({ roots: [root], includeSecrets: true, maxFileBytes: 2048 });
    assert.ok(secrets.files.some((f) => f.rel === '.env'), 'secrets only when asked for');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('checkFile applies the same rules to one file without walking', async () => {
  const root = workspace({ '.gitignore': 'out/\n', 'src/a.py': 'x = 1\n', 'out/b.py': 'y = 2\n', 'src/.gitignore': 'tmp_*.py\n', 'src/tmp_1.py': 'z\n', '.env': 'A=1\n' });
  try {
    const options = { roots: [root] };
    assert.equal((await checkFile(join(root, 'src/a.py'), options) as { rel: string }).rel, 'src/a.py');
    assert.equal((await checkFile(join(root, 'out/b.py'), options) as SkippedPath).reason, 'gitignore');
    assert.equal((await checkFile(join(root, 'src/tmp_1.py'), options) as SkippedPath).reason, 'gitignore');
    assert.equal((await checkFile(join(root, '.env'), options) as SkippedPath).reason, 'secret');
    assert.equal((await checkFile(join(root, 'src/missing.py'), options) as SkippedPath).reason, 'unreadable');
    assert.equal(await checkFile(join(tmpdir(), 'elsewhere.py'), options), undefined);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('links to devices and FIFOs (and FIFOs themselves) are skipped with their reason, never opened or read', { timeout: 20_000 }, async () => {
  // Any repository can commit `zero.py -> /dev/zero` (reading never ends) or a link to a FIFO
  // (opening blocks until a writer comes, holding a file-system thread for good).
  const root = workspace({ 'app.py': 'print(1)\n', 'pkg/mod.py': 'x = 1\n' });
  execFileSync('mkfifo', [join(root, 'pkg', 'queue.py')]);
  symlinkSync('/dev/zero', join(root, 'zero.py'));
  symlinkSync('/dev/null', join(root, 'null.py'));
  symlinkSync(join(root, 'pkg', 'queue.py'), join(root, 'pipe.py'));
  try {
    const { files, skipped } = await walkWorkspace({ roots: [root], maxFileBytes: 2048 });
    assert.deepEqual(files.map((f) => f.rel).sort(), ['app.py', 'pkg/mod.py']);
    const byRel = Object.fromEntries(skipped.map((s) => [s.rel, `${s.reason}: ${s.detail ?? ''}`]));
    assert.equal(byRel['zero.py'], 'special-file: link to a character device');
    assert.equal(byRel['null.py'], 'special-file: link to a character device');
    assert.equal(byRel['pipe.py'], 'special-file: link to a FIFO (named pipe)');
    assert.equal(byRel['pkg/queue.py'], 'special-file: FIFO (named pipe)', 'a FIFO is listed among the skipped, not silently left out');

    // The watcher's path (one file at a time) applies the same rule.
    for (const rel of ['zero.py', 'pipe.py', 'pkg/queue.py']) {
      assert.equal((await checkFile(join(root, rel), { roots: [root] }) as SkippedPath).reason, 'special-file', rel);
    }
    // A file replaced by a link to a device after the walk is refused by the reader itself.
    await assert.rejects(readRegularFile(join(root, 'zero.py'), 1 << 20), (e: unknown) => e instanceof NotReadableFileError && e.reason === 'special-file');
    await assert.rejects(readRegularFile(join(root, 'pipe.py'), 1 << 20), (e: unknown) => e instanceof NotReadableFileError && e.reason === 'special-file');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the reader refuses a file over the size limit', async () => {
  const root = workspace({ 'small.py': 'x = 1\n', 'big.py': 'y = 2\n'.repeat(1000) });
  try {
    assert.equal((await readRegularFile(join(root, 'small.py'), 100)).toString(), 'x = 1\n');
    await assert.rejects(readRegularFile(join(root, 'big.py'), 100), (e: unknown) => e instanceof NotReadableFileError && e.reason === 'too-large');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a file name that is not valid UTF-8 is walked and read like any other', async () => {
  const root = workspace({ 'app.py': 'print(1)\n' });
  // 'café.py' in Latin-1: the byte 0xE9 alone is not UTF-8, so readdir reports the name with U+FFFD.
  const name = Buffer.concat([Buffer.from(root + '/caf'), Buffer.from([0xe9]), Buffer.from('.py')]);
  writeFileSync(name, 'def latin():\n    return 1\n');
  try {
    const { files, skipped } = await walkWorkspace({ roots: [root] });
    const latin = files.find((f) => f.rel.startsWith('caf'));
    assert.ok(latin, `the file is walked (skipped: ${JSON.stringify(skipped)})`);
    assert.equal(latin.rel, 'caf\uFFFD.py');
    assert.equal((await readRegularFile(latin.path, 1024)).toString(), 'def latin():\n    return 1\n');
    const checked = await checkFile(latin.path, { roots: [root] });
    assert.equal((checked as { rel: string }).rel, 'caf\uFFFD.py', 'the watcher path finds it too');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
