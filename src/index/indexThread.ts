/**
 * Entry of the index thread (bundled as dist/indexThread.js): a worker_threads thread of the Kestrel
 * worker that runs an IndexHost — walking, chunking, embedding, database writes and search — so
 * that none of it runs on the thread that answers completions. It pauses for completions through
 * the PriorityGate's shared counter (ForegroundWatch) before each file, embedding call and write.
 */
import { setPriority } from 'node:os';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ForegroundWatch } from './priorityGate';
import type { ErrorMessage, FromThread, HostEvent, IndexThreadData, ResultMessage, ToThread } from './threadProtocol';

/** Lowest priority: the thread gets a core only when completions (nice 0) leave it idle. */
const BACKGROUND_NICE = 19;

/**
 * On Linux, setpriority() on "process 0" from a thread renices only that thread, and threads it
 * creates later inherit its nice value: ONNX Runtime's session must therefore be created after it.
 * On Windows and macOS the same call would lower the whole worker process, completions included, so
 * it is not made there; the pause before each step is all the priority indexing gives up there.
 */
function lowerPriority(emit: (event: HostEvent) => void): void {
  if (process.platform !== 'linux') return;
  try {
    setPriority(0, BACKGROUND_NICE);
  } catch (error) {
    emit({ type: 'log', level: 'warn', message: `could not lower the index thread's priority (${error instanceof Error ? error.message : String(error)}): indexing only pauses for completions` });
  }
}

async function serve(port: MessagePort, data: IndexThreadData): Promise<void> {
  const post = (message: FromThread): void => port.postMessage(message);
  if (data.lowerPriority) lowerPriority(post);
  // Loaded only now, so that nothing it starts (ONNX Runtime) runs before the priority is lowered.
  const { IndexHost } = await import('./indexHost');
  const watch = new ForegroundWatch(data.gate);
  const host = new IndexHost({ yieldToOthers: () => watch.whenClear(), embedBatch: data.embedBatch, emit: post });
  const running = new Map<number, AbortController>();
  port.on('message', (message: ToThread) => {
    if (message.type === 'cancel') {
      running.get(message.id)?.abort();
      return;
    }
    const { id } = message;
    const controller = new AbortController();
    running.set(id, controller);
    host.handle(message.method, message.args, controller.signal).then(
      (value) => post({ type: 'result', id, value } satisfies ResultMessage),
      (error: unknown) => post({
        type: 'error', id,
        name: error instanceof Error ? error.name : 'Error',
        message: error instanceof Error ? error.message : String(error),
      } satisfies ErrorMessage),
    ).finally(() => running.delete(id));
  });
}

if (parentPort) {
  serve(parentPort, workerData as IndexThreadData).catch((error: unknown) => {
    // Without a host the thread is useless: end it with the error, which the main thread reports.
    setImmediate(() => { throw error; });
  });
}
