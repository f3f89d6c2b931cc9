import type { Connection } from 'vscode-languageserver/node';

export interface Logger {
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

/**
 * Logs through LSP `window/logMessage`, so the client shows them with their levels in the
 * "Kestrel" output channel. Each component gets a tagged child so a log line says who wrote it.
 */
export function connectionLogger(connection: Connection, tag = 'worker'): Logger {
  const prefix = `[${tag}] `;
  return {
    error: (message) => connection.console.error(prefix + message),
    warn: (message) => connection.console.warn(prefix + message),
    info: (message) => connection.console.info(prefix + message),
    debug: (message) => connection.console.debug(prefix + message),
  };
}
