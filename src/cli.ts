#!/usr/bin/env node
/**
 * Kestrel without an editor: the same engine and index as the worker, from a terminal.
 * `kestrel --version`; `kestrel serve` runs the language server on stdio (as `node dist/server.js --stdio`).
 */
import { join } from 'node:path';
import { COMPLETE_USAGE, completeCommand } from './engine/cli/complete';
import { EVAL_USAGE, evalCompletionCommand } from './engine/cli/evalCompletion';
import { BENCH_USAGE, benchCompletionCommand } from './engine/cli/benchCompletion';
import { EVAL_SEARCH_USAGE, INDEX_USAGE, SEARCH_USAGE, evalSearchCommand, indexCommand, searchCommand } from './index/cli';
import { UsageError } from './shared/cli/args';
import { kestrelVersion } from './version';

/** Shipped models sit beside the bundle's folder: dist/cli.js -> ../models. */
const SHIPPED_MODELS = join(__dirname, '..', 'models');

const USAGE = `Usage: kestrel <command>

Commands:
  serve         run the Kestrel language server on stdin/stdout
  complete      complete code at FILE:LINE:COL with the local model (see below)
  eval-completion   line-level exact match and edit similarity on a folder of Python files
  bench-completion  completion latency: first token by prompt length, decode speed, typing replay
  index         build or update the semantic search index of a folder
  search        search a folder's index: identifiers, words or a description of the code
  eval-search   search quality (MRR, recall@k) of BM25, vectors and hybrid on {query, code} pairs
  --version     print the version
  help          show this text

${COMPLETE_USAGE}

${EVAL_USAGE}

${INDEX_USAGE}

${SEARCH_USAGE}

${EVAL_SEARCH_USAGE}

${BENCH_USAGE}`;

/** Each command's usage, printed with the error when its command line is wrong. */
const COMMAND_USAGE: Record<string, string> = {
  complete: COMPLETE_USAGE,
  'eval-completion': EVAL_USAGE,
  'bench-completion': BENCH_USAGE,
  index: INDEX_USAGE,
  search: SEARCH_USAGE,
  'eval-search': EVAL_SEARCH_USAGE,
};

async function main(argv: string[]): Promise<number> {
  try {
    return await run(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`kestrel ${argv[0]}: ${error.message}\n\n${COMMAND_USAGE[argv[0] as string] ?? USAGE}`);
    return 2;
  }
}

async function run(argv: string[]): Promise<number> {
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
    case 'complete':
      return completeCommand(argv.slice(1), SHIPPED_MODELS);
    case 'eval-completion':
      return evalCompletionCommand(argv.slice(1), SHIPPED_MODELS);
    case 'bench-completion':
      return benchCompletionCommand(argv.slice(1), SHIPPED_MODELS);
    case 'index':
      return indexCommand(argv.slice(1), SHIPPED_MODELS);
    case 'search':
      return searchCommand(argv.slice(1), SHIPPED_MODELS);
    case 'eval-search':
      return evalSearchCommand(argv.slice(1), SHIPPED_MODELS);
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
