import type { Connection } from 'vscode-languageserver/node';

/**
 * One capability of the worker (status, completion, index, ...). The server wires features through
 * their constructors and gives each the connection once; features never reach into one another's state.
 */
export interface Feature {
  /** Register handlers; called before the connection starts listening. */
  register(connection: Connection): void;
  /** Release native resources (ONNX sessions, database handles) before the process exits. */
  shutdown?(): Promise<void>;
}
