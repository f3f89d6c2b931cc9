// Fuzzing the worker's LSP surface over stdio: random and mutated params for every method a client
// sends (src/protocol.ts, plus inline completion and document sync), and now and then a mutated
// frame. Bounded in count and time, seeded so a failure replays. The worker must answer every
// request, keep answering kestrel/status after notifications, stay under a memory bound, and exit
// (not hang) exactly when a frame is broken; then the next worker is started, as a client would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { RequestType, RequestType0, StreamMessageReader, type Message } from 'vscode-languageserver-protocol/node';
import * as protocol from '../../src/protocol';

const SERVER = 'dist/server.js';
const SEED = Number(process.env['KESTREL_FUZZ_SEED'] ?? 18);
const MESSAGES = 400;
const TIME_LIMIT_MS = 90_000;
/** An answer slower than this is a hang. */
const ANSWER_MS = 15_000;
const RSS_LIMIT = 1024 * 2 ** 20;

/** Methods of src/protocol.ts that only the worker sends. */
const SERVER_TO_CLIENT = new Set<string>([protocol.ModelStateNotification.method, protocol.IndexProgressNotification.method, protocol.CompletionTimingNotification.method, protocol.ProjectCacheNotification.method]);
const CUSTOM = (Object.values(protocol) as unknown[])
  .filter((value): value is { method: string; type: object } => typeof value === 'object' && value !== null && typeof (value as { method?: unknown }).method === 'string')
  .filter((value) => !SERVER_TO_CLIENT.has(value.method))
  .map((value) => ({ method: value.method, request: value.type instanceof RequestType || value.type instanceof RequestType0 }));
const METHODS = [
  ...CUSTOM,
  { method: 'textDocument/inlineCompletion', request: true },
  { method: 'textDocument/didOpen', request: false },
  { method: 'textDocument/didChange', request: false },
  { method: 'textDocument/didClose', request: false },
];

/** A small seeded generator (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Params shaped like the real ones, with any field replaced by junk; or junk outright. */
function fuzzParams(rnd: () => number): unknown {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const junk = (depth: number): unknown => {
    const kind = Math.floor(rnd() * 9);
    if (kind === 0) return null;
    if (kind === 1) return pick([0, -1, 1.5, 1e308, -1e9, 2 ** 53, Number.MAX_SAFE_INTEGER]);
    if (kind === 2) return pick(['', 'x', 'file:///a.py', '/etc/passwd', '**/**/**/**/**/x', '\u0000\uffff', 'é'.repeat(300)]);
    if (kind === 3) return rnd() < 0.5;
    if (kind === 4 && depth < 3) return Array.from({ length: Math.floor(rnd() * 4) }, () => junk(depth + 1));
    if (kind === 5 && depth < 3) return Object.fromEntries(Array.from({ length: Math.floor(rnd() * 4) }, (_, i) => [pick(['uri', 'line', 'query', 'id', 'x', `k${i}`]), junk(depth + 1)]));
    if (kind === 6) return 'y'.repeat(Math.floor(rnd() * 50_000));
    return undefined;
  };
  const position = { line: Math.floor(rnd() * 50), character: Math.floor(rnd() * 80) };
  const realistic: Record<string, unknown> = {
    textDocument: { uri: 'file:///fuzz/a.py', languageId: 'python', version: Math.floor(rnd() * 100), text: 'import os\n\ndef f(x):\n    return x\n' },
    position,
    contentChanges: [{ text: 'def g():\n    pass\n' }],
    query: pick(['reorder point', '', 'path:**/** x', 'lang:py q']),
    code: 'def f():\n    return 1\n',
    changes: [{ path: '/tmp/nowhere/fuzz.py', kind: 'changed' }],
    id: pick(['', 'no-such-model']),
    limit: pick([1, 200, 0, -5]),
    pathGlob: pick(['**/**/**/**/a', '{a,b}/**', '[', '*']),
    device: pick(['auto', 'cpu', 12, null]),
    model: 'none-wanted',
    modelPaths: [],
    context: { triggerKind: 1 },
  };
  if (rnd() < 0.3) return junk(0);
  const params: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(realistic)) {
    if (rnd() < 0.6) params[key] = rnd() < 0.25 ? junk(1) : value;
  }
  return params;
}

/** Broken frames of every kind the base protocol can get wrong. */
function brokenFrame(rnd: () => number): string {
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'kestrel/status' });
  const frames = [
    `Content-Type: application/json\r\n\r\n${body}`,
    `Content-Length: abc\r\n\r\n${body}`,
    `Content-Length: -3\r\n\r\n${body}`,
    `Content-Length: ${body.length - 7}\r\n\r\n${body}Content-Length: 2\r\n\r\n{}`,
    `Content-Length: ${body.length}\r\n\r\n${body.replace('{', '[')}`,
    `garbage without headers\r\n\r\n`,
    `Content-Length: 99999999999\r\n\r\n`,
    `${'X'.repeat(9000)}`,
  ];
  return frames[Math.floor(rnd() * frames.length)] as string;
}

class Worker {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  private nextId = 1;
  private readonly waiting = new Map<number, (message: Message) => void>();

  constructor() {
    this.child = spawn(process.execPath, [SERVER, '--stdio'], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.exited = new Promise((resolve) => this.child.once('exit', resolve));
    new StreamMessageReader(this.child.stdout as Readable).listen((message) => {
      const id = (message as { id?: unknown }).id;
      if (typeof id === 'number' && (message as { method?: unknown }).method === undefined) this.waiting.get(id)?.(message);
    });
    this.child.stdin?.on('error', () => undefined); // writes after an exit
  }

  write(bytes: string): void {
    this.child.stdin?.write(bytes);
  }

  send(message: object): void {
    const body = JSON.stringify({ jsonrpc: '2.0', ...message });
    this.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  }

  /** The answer to a request, or a failure naming the hang. */
  request(method: string, params: unknown): Promise<Message> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${method} ${JSON.stringify(params)?.slice(0, 200)} within ${ANSWER_MS} ms`)), ANSWER_MS);
      this.waiting.set(id, (message) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(message);
      });
      this.exited.then((code) => reject(new Error(`the worker exited (${code}) on ${method} ${JSON.stringify(params)?.slice(0, 200)}`)));
      this.send({ id, method, ...(params === undefined ? {} : { params }) });
    });
  }

  async start(): Promise<void> {
    await this.request('initialize', { processId: process.pid, rootUri: null, capabilities: {}, initializationOptions: { device: 'cpu', model: 'none-wanted', modelPaths: [], indexEnable: false } });
    this.send({ method: 'initialized', params: {} });
  }
}

test('fuzzing every method of the protocol: the worker answers or exits, never hangs, stays under a memory bound', { timeout: TIME_LIMIT_MS + 60_000 }, async () => {
  const rnd = random(SEED);
  const started = performance.now();
  let worker = new Worker();
  await worker.start();
  let requests = 0;
  let notifications = 0;
  let brokenFrames = 0;
  let maxRss = 0;
  try {
    for (let i = 0; i < MESSAGES && performance.now() - started < TIME_LIMIT_MS; i++) {
      if (rnd() < 0.03) {
        worker.write(brokenFrame(rnd));
        brokenFrames++;
        const code = await Promise.race([worker.exited, new Promise((resolve) => setTimeout(() => resolve('hung'), ANSWER_MS))]);
        assert.equal(code, 1, `seed ${SEED}, message ${i}: a broken frame must make the worker exit with code 1`);
        worker = new Worker();
        await worker.start();
        continue;
      }
      const { method, request } = METHODS[Math.floor(rnd() * METHODS.length)] as { method: string; request: boolean };
      const params = fuzzParams(rnd);
      if (request) {
        const answer = await worker.request(method, params);
        assert.ok('result' in answer || 'error' in answer, `seed ${SEED}, message ${i}: ${method} answered with neither result nor error`);
        requests++;
      } else {
        worker.send({ method, ...(params === undefined ? {} : { params }) });
        notifications++;
      }
      if (i % 10 === 0 || !request) {
        const status = await worker.request('kestrel/status', undefined);
        const rss = (status as { result?: { memory?: { rssBytes?: number } } }).result?.memory?.rssBytes ?? 0;
        maxRss = Math.max(maxRss, rss);
        assert.ok(rss < RSS_LIMIT, `seed ${SEED}, message ${i}: worker RSS ${(rss / 2 ** 20).toFixed(0)} MB is over the bound`);
      }
    }
    console.log(`fuzz seed ${SEED}: ${requests} requests, ${notifications} notifications, ${brokenFrames} broken frames in ${((performance.now() - started) / 1000).toFixed(1)} s; worker RSS at most ${(maxRss / 2 ** 20).toFixed(0)} MB`);
    assert.ok(requests > 50 && notifications > 20, 'the run covered enough messages');
  } finally {
    worker.child.kill();
  }
});
