/**
 * Entry point VS Code's extension host loads (`--extensionTestsPath`): runs every *.test.js beside
 * this file with mocha inside the real workbench. When KESTREL_TEST_RESULTS names a file, the counts
 * are written there so the test command can add them to its summary.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  for (const name of readdirSync(__dirname).filter((n) => n.endsWith('.test.js')).sort()) {
    mocha.addFile(join(__dirname, name));
  }
  return new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      const resultsFile = process.env['KESTREL_TEST_RESULTS'];
      const { passes = 0, failures: failed = 0 } = runner.stats ?? {};
      if (resultsFile) writeFileSync(resultsFile, JSON.stringify({ passed: passes, failed }));
      console.log(`kestrel integration: ${passes} passed, ${failed} failed`);
      if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
      else resolve();
    });
  });
}
