/**
 * Registers request and notification handlers behind their params' schemas (protocolParams.ts).
 * A request whose params do not fit is answered with InvalidParams and the reason; a notification
 * whose params do not fit is dropped with a warning in the log. A notification handler's failure,
 * synchronous or not, is logged: none can become an unhandled rejection, which would end the worker.
 *
 * vscode-jsonrpc calls a handler with the params object, with an array's items spread, or with
 * nothing, followed by the cancellation token for requests; the handlers here get what was sent.
 */
import { ErrorCodes, ResponseError, type CancellationToken, type Connection } from 'vscode-languageserver/node';
import { errorMessage } from '../shared/errors/errors';
import type { Logger } from './logger';
import type { Schema } from './paramsSchema';

interface MethodType {
  readonly method: string;
}

/** The params as sent, from the arguments vscode-jsonrpc passes (the token, for requests, excluded). */
function sentParams(args: readonly unknown[]): unknown {
  if (args.length === 0) return undefined;
  return args.length === 1 ? args[0] : [...args];
}

export function onRequest<P, R>(
  connection: Connection,
  type: MethodType,
  schema: Schema<P>,
  handler: (params: P, token: CancellationToken) => R | Promise<R>,
): void {
  connection.onRequest(type.method, async (...args: unknown[]): Promise<R> => {
    const token = args.pop() as CancellationToken;
    const params = sentParams(args);
    const problem = schema(params, 'params');
    if (problem) throw new ResponseError(ErrorCodes.InvalidParams, `${type.method}: ${problem}`);
    return handler(params as P, token);
  });
}

export function onNotification<P>(
  connection: Connection,
  type: MethodType,
  schema: Schema<P>,
  handler: (params: P) => void | Promise<void>,
  log: Logger,
): void {
  connection.onNotification(type.method, (...args: unknown[]) => {
    const params = sentParams(args);
    const problem = schema(params, 'params');
    if (problem) {
      log.warn(`ignored ${type.method}: ${problem}`);
      return;
    }
    const failed = (error: unknown): void => log.error(`${type.method} failed: ${errorMessage(error)}`);
    try {
      void Promise.resolve(handler(params as P)).catch(failed);
    } catch (error) {
      failed(error);
    }
  });
}
