/**
 * The worker's message stream, chosen from the command line as vscode-languageserver does:
 * `--node-ipc` (the extension), `--stdio` (any LSP editor), `--socket=PORT` or `--pipe=NAME`.
 * Byte streams are read by FrameReader, which stops at the first frame it cannot trust; the server
 * exits on that (see main.ts) instead of staying alive and deaf.
 */
import { createConnection as connectSocket } from 'node:net';
import { IPCMessageReader, IPCMessageWriter, StreamMessageWriter, type MessageReader, type MessageWriter } from 'vscode-languageserver/node';
import { FrameReader } from './frameReader';

export interface Transport {
  reader: MessageReader;
  writer: MessageWriter;
  /** stdout carries the messages: nothing else may be written to it. */
  stdio: boolean;
}

/** `onInvalid` hears of well-framed messages that were dropped (see FrameReader). */
export function transportFromArgv(argv: readonly string[], onInvalid: (reason: string) => void): Transport {
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = (argv[i] as string).split('=', 2) as [string, string | undefined];
    if (flag === '--node-ipc') return { reader: new IPCMessageReader(process), writer: new IPCMessageWriter(process), stdio: false };
    if (flag === '--stdio') return { reader: new FrameReader(process.stdin, onInvalid), writer: new StreamMessageWriter(process.stdout), stdio: true };
    if (flag === '--socket' || flag === '--pipe') {
      const target = inline ?? argv[i + 1];
      if (target === undefined) break;
      const socket = flag === '--socket' ? connectSocket(Number(target), '127.0.0.1') : connectSocket(target);
      return { reader: new FrameReader(socket, onInvalid), writer: new StreamMessageWriter(socket), stdio: false };
    }
  }
  throw new Error('Start the Kestrel worker with --stdio, --node-ipc, --socket=PORT or --pipe=NAME');
}
