import { randomBytes } from 'node:crypto';
import type * as vscode from 'vscode';

/** A fresh, unguessable nonce per render: only scripts carrying it may run in the webview. */
export function makeNonce(): string {
  return randomBytes(18).toString('base64url');
}

/** HTML-escapes text placed into markup built on the extension side. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

export interface WebviewPage {
  title: string;
  /** Static markup of the page body; must not contain workspace text (send that by message). */
  body: string;
  scripts: vscode.Uri[];
  styles: vscode.Uri[];
}

/**
 * A page with a strict Content-Security-Policy: nothing by default, styles and images only from the
 * extension, scripts only with this render's nonce. No remote resource can load.
 */
export function renderWebviewHtml(webview: vscode.Webview, page: WebviewPage): string {
  const nonce = makeNonce();
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `font-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
  const styles = page.styles.map((uri) => `<link rel="stylesheet" href="${webview.asWebviewUri(uri).toString()}">`).join('\n');
  const scripts = page.scripts.map((uri) => `<script nonce="${nonce}" src="${webview.asWebviewUri(uri).toString()}"></script>`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
<title>${escapeHtml(page.title)}</title>
</head>
<body>
${page.body}
${scripts}
</body>
</html>`;
}
