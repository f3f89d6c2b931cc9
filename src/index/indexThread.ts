/**
 * Entry of the index thread (bundled as dist/indexThread.js): a worker_threads thread of the Kestrel
 * worker that runs an IndexHost — walking, database writes and search, with chunking and embedding
 * in the builder thread it starts — so that none of it runs on the thread that answers completions.
 * Indexing pauses for completions through the PriorityGate's shared counter (ForegroundWatch) before
 * each file, embedding call and write.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { IndexHost } from './indexHost';
import { ForegroundWatch } from './priorityGate';
import type { HostEvent, HostMethods, IndexThreadData } from './threadProtocol';
import { serveThread } from './threadRpc';

function serve(port: MessagePort, data: IndexThreadData): void {
  const watch = new ForegroundWatch(data.gate);
  let emit: (event: HostEvent) => void = () => undefined;
  const host = new IndexHost({
    yieldToOthers: () => watch.whenClear(),
    embedBatch: data.embedBatch,
    builderFile: data.builderFile,
    lowerPriority: data.lowerPriority,
    emit: (event) => emit(event),
    // Without its builder the thread cannot index: it ends, and the main thread reports and restarts it.
    onBuilderExit: (reason) => setImmediate(() => { throw new Error(`the index builder thread stopped: ${reason}`); }),
  });
  ({ emit } = serveThread<HostMethods, HostEvent>(port, (method, args, signal) => host.handle(method, args, signal)));
}

if (parentPort) serve(parentPort, workerData as IndexThreadData);
