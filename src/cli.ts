#!/usr/bin/env node
/**
 * Kestrel without an editor: the same engine and index as the worker, from a terminal.
 * `kestrel --version`; `kestrel serve` runs the language server on stdio (as `node dist/server.js --stdio`).
 */
import { kestrelVersion } from './version';

const USAGE = `Usage: kestrel <command>

Commands:
  serve         run the Kestrel language server on stdin/stdout
  --version     print the version
  help          show this text`;

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case '--version':
    case 'version':
      console.log(kestrelVersion);
      return 0;
    case 'serve':
      process.argv.push('--stdio');
      await import('./server/main');
      return -1; // keep running: the server owns the process now
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return 0;
    default:
      console.error(`kestrel: unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => { if (code >= 0) process.exitCode = code; },
  (error: unknown) => {
    console.error(`kestrel: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
