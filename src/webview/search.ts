/**
 * Script of the "Search" view. Runs in the webview (browser); talks to the extension only through
 * postMessage with the typed messages of ./messages. All text reaches the page through textContent,
 * never innerHTML, so workspace text can never become markup.
 */
import type { FromWebview, ToWebview } from './messages';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) throw new Error(`search view: missing #${id}`);
  return found as T;
}

const workerLine = element<HTMLParagraphElement>('worker');
const notice = element<HTMLParagraphElement>('notice');
element<HTMLButtonElement>('show-log').addEventListener('click', () => vscode.postMessage({ type: 'showLog' }));

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  switch (message.type) {
    case 'worker':
      workerLine.textContent = message.detail;
      workerLine.dataset['state'] = message.state;
      break;
    case 'unavailable':
      notice.textContent = `Kestrel: ${message.feature} is not available in this version yet.`;
      break;
  }
});

vscode.postMessage({ type: 'ready' });
