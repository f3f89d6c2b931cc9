/**
 * Reads LSP's base protocol from a byte stream (stdio, a socket): `Content-Length: N`, optional
 * `Content-Type`, an empty line, then N bytes of JSON. Strict on purpose. A frame without a valid
 * Content-Length, with a body that is not JSON, or with headers that never end leaves the stream out
 * of step for good: nothing after it can be trusted to start where a frame starts. So the reader
 * says why (onError) and stops reading; the server then exits, and the client (VS Code's, or any
 * editor's) starts a fresh worker. vscode-jsonrpc's own reader reports such errors but keeps
 * "reading" the same bad bytes, which left the worker alive and deaf.
 */
import { AbstractMessageReader, Disposable, type DataCallback, type Message, type MessageReader } from 'vscode-languageserver/node';

/** The largest frame accepted: a 100 MB document opened in the editor fits, an absurd length does not. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;
/** Headers are a line or two; this many bytes without the empty line that ends them is not LSP. */
const MAX_HEADER_BYTES = 8 * 1024;
const HEADER_END = Buffer.from('\r\n\r\n');

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

export class FrameReader extends AbstractMessageReader implements MessageReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Body length of the frame whose headers were read, or -1 while reading headers. */
  private bodyLength = -1;
  private broken = false;

  constructor(
    private readonly input: NodeJS.ReadableStream,
    /** A well-framed message that JSON-RPC cannot dispatch: it is dropped, and this says why. */
    private readonly onInvalid: (reason: string) => void = () => {},
  ) {
    super();
  }

  listen(callback: DataCallback): Disposable {
    const onData = (data: Buffer | string): void => this.onData(typeof data === 'string' ? Buffer.from(data) : data, callback);
    const onEnd = (): void => this.fireClose();
    const onError = (error: Error): void => this.fireError(error);
    this.input.on('data', onData);
    this.input.on('end', onEnd);
    this.input.on('error', onError);
    return Disposable.create(() => {
      this.input.off('data', onData);
      this.input.off('end', onEnd);
      this.input.off('error', onError);
    });
  }

  private onData(data: Buffer, callback: DataCallback): void {
    if (this.broken) return;
    this.chunks.push(data);
    this.buffered += data.length;
    try {
      for (;;) {
        if (this.bodyLength === -1) {
          const headers = this.takeHeaders();
          if (headers === undefined) return;
          this.bodyLength = contentLength(headers);
        }
        if (this.buffered < this.bodyLength) return;
        const body = this.take(this.bodyLength);
        this.bodyLength = -1;
        const message = parseBody(body);
        const invalid = envelopeProblem(message);
        if (invalid) this.onInvalid(invalid);
        else callback(message);
      }
    } catch (error) {
      this.broken = true;
      this.chunks = [];
      this.buffered = 0;
      this.fireError(error);
    }
  }

  /** The header block (without its ending empty line) once it is all buffered, and removes it. */
  private takeHeaders(): string | undefined {
    const head = this.peek(Math.min(this.buffered, MAX_HEADER_BYTES + HEADER_END.length));
    const end = head.indexOf(HEADER_END);
    if (end === -1) {
      if (head.length > MAX_HEADER_BYTES) throw new FrameError(`no end of headers in the first ${MAX_HEADER_BYTES} bytes of a frame (${JSON.stringify(head.subarray(0, 60).toString('latin1'))}...)`);
      return undefined;
    }
    this.take(end + HEADER_END.length);
    return head.subarray(0, end).toString('ascii');
  }

  /** The first `bytes` buffered bytes, without removing them. */
  private peek(bytes: number): Buffer {
    if (this.chunks.length === 0) return Buffer.alloc(0);
    if ((this.chunks[0] as Buffer).length < bytes) this.chunks = [Buffer.concat(this.chunks)];
    return (this.chunks[0] as Buffer).subarray(0, bytes);
  }

  /** Removes and returns the first `bytes` buffered bytes (all there: the caller checked). */
  private take(bytes: number): Buffer {
    const taken = this.peek(bytes);
    const first = this.chunks[0];
    if (first === undefined) return taken;
    if (first.length === bytes) this.chunks.shift();
    else this.chunks[0] = first.subarray(bytes);
    this.buffered -= bytes;
    return taken;
  }
}

/** Content-Length from a header block, checked: present once, digits only, within MAX_FRAME_BYTES. */
function contentLength(block: string): number {
  let length: number | undefined;
  for (const line of block.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new FrameError(`a header line is not "Name: value": ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'content-length') {
      if (length !== undefined) throw new FrameError('a frame has two Content-Length headers');
      if (!/^\d{1,10}$/.test(value)) throw new FrameError(`Content-Length must be a byte count, not ${JSON.stringify(value.slice(0, 40))}`);
      length = Number(value);
      if (length > MAX_FRAME_BYTES) throw new FrameError(`Content-Length ${length} is over the ${MAX_FRAME_BYTES}-byte limit of one frame`);
    } else if (name === 'content-type') {
      const charset = /charset=([^;]+)/i.exec(value)?.[1]?.trim().toLowerCase();
      if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') throw new FrameError(`only UTF-8 bodies are read, not ${charset}`);
    }
  }
  if (length === undefined) throw new FrameError(`a frame has no Content-Length header (headers: ${JSON.stringify(block.slice(0, 80))})`);
  return length;
}

/**
 * What keeps a message from being dispatched safely, if anything. vscode-jsonrpc reads
 * `params.id` of a `$/cancelRequest` before any handler could check it, and would throw inside the
 * connection on a null there: such a notification is dropped. `"params": null`, which some clients
 * send for "no params", is read as absent. Everything else goes on to the handlers, which check
 * their own params (validatedHandlers.ts) and answer requests with an error.
 */
function envelopeProblem(message: Message): string | undefined {
  const record = message as unknown as Record<string, unknown>;
  if (record['params'] === null) delete record['params'];
  if (record['method'] === '$/cancelRequest') {
    const params = record['params'];
    const id = typeof params === 'object' && params !== null ? (params as Record<string, unknown>)['id'] : undefined;
    if (typeof id !== 'number' && typeof id !== 'string') return '$/cancelRequest without a request id';
  }
  return undefined;
}

function parseBody(body: Buffer): Message {
  let message: unknown;
  try {
    message = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new FrameError(`a frame's body is not JSON (${error instanceof Error ? error.message : String(error)}): its Content-Length may be wrong`);
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    throw new FrameError('a frame\'s body is not a JSON-RPC message object');
  }
  return message as Message;
}
