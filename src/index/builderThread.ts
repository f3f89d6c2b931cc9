/**
 * Entry of the builder thread (bundled as dist/builderThread.js), started by the index thread: it
 * chunks and embeds (IndexBuilder) at the lowest CPU priority the platform lets one thread have, so
 * that the worker's completions, and the index thread's search, get the cores first.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { BuilderMethods, BuilderThreadData, LogEvent } from './threadProtocol';
import { serveThread } from './threadRpc';

/** Lowest priority: the thread gets a core only when threads at nice 0 leave one idle. */
const BACKGROUND_NICE = 19;

/**
 * On Linux, setpriority() on "process 0" from a thread renices only that thread, and threads it
 * creates later inherit its nice value: ONNX Runtime's session must therefore be created after it.
 * On Windows and macOS the same call would lower the whole worker process, completions included, so
 * it is not made there; the index thread's pause before each step is all the priority indexing gives
 * up there. Returns a warning when the call failed.
 */
function lowerPriority(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    setPriority(0, BACKGROUND_NICE);
    return undefined;
  } catch (error) {
    return `could not lower the builder thread's priority (${error instanceof Error ? error.message : String(error)}): indexing only pauses for completions`;
  }
}

async function serve(port: MessagePort, data: BuilderThreadData): Promise<void> {
  const problem = data.lowerPriority ? lowerPriority() : undefined;
  // Loaded only now, so that nothing it starts (ONNX Runtime's threads) runs before the priority is lowered.
  const { IndexBuilder } = await import('./builder');
  const builder = new IndexBuilder();
  const { emit } = serveThread<BuilderMethods, LogEvent>(port, (method, args) => builder.handle(method, args));
  if (problem) emit({ type: 'log', level: 'warn', message: problem });
}

if (parentPort) {
  serve(parentPort, workerData as BuilderThreadData).catch((error: unknown) => {
    // Without a builder the thread is useless: end it with the error, which the index thread reports.
    setImmediate(() => { throw error; });
  });
}
