/**
 * "Show Index Status" as Markdown: counts, embedder or BM25 only, last run, skipped paths with
 * reasons. vscode-free so unit tests can read it.
 */
import type { IndexStatusInfo } from '../protocol';

function mb(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MB`;
}

/** Backticks in a path would end its code span: show them as a lookalike. */
function code(text: string): string {
  return `\`${text.replace(/`/g, 'ˋ')}\``;
}

export function formatIndexStatus(info: IndexStatusInfo): string {
  const lines: string[] = ['# Kestrel index status', ''];
  if (!info.enabled) {
    lines.push('Indexing is **off** (`kestrel.index.enable`): nothing is indexed and search is not available.');
    return lines.join('\n') + '\n';
  }
  lines.push(`- Search: ${info.embedder ? `keywords (BM25) and vectors from the embedder \`${info.embedder}\`` : `keywords (BM25) only — ${info.embedderNote ?? 'no embedding model'}`}`);
  lines.push(`- State: ${info.indexing ? 'indexing' : 'idle'}`);
  if (info.folders.length === 0) lines.push('', 'No workspace folder is open: there is nothing to index.');
  for (const folder of info.folders) {
    lines.push('', `## ${folder.folder}`, '');
    lines.push(`- State: ${folder.state}${folder.error ? ` — ${folder.error}` : ''}`);
    lines.push(`- Indexed: ${folder.files} files, ${folder.chunks} chunks, ${folder.vectors} vectors (database ${mb(folder.databaseBytes)})`);
    lines.push(`- Index stored in: ${code(folder.storage)}`);
    if (folder.progress && folder.state === 'indexing') lines.push(`- Progress: ${folder.progress.phase}, ${folder.progress.filesDone}/${folder.progress.filesTotal} files`);
    if (folder.lastRun) {
      const r = folder.lastRun;
      lines.push(`- Last run (this session): ${r.filesSeen} files seen, ${r.filesIndexed} indexed, ${r.filesUnchanged} unchanged, ${r.filesRemoved} removed, ${r.chunksWritten} chunks written in ${(r.durationMs / 1000).toFixed(1)} s${r.cancelled ? ' (cancelled)' : ''}`);
    }
    lines.push(`- Last complete run: ${folder.lastCompleteRun ?? 'never'}`);
    if (folder.rebuiltBecause) lines.push(`- Rebuilt because: ${folder.rebuiltBecause}`);
    const counts = Object.entries(folder.skippedCounts);
    lines.push('', `### Skipped (${counts.reduce((n, [, c]) => n + c, 0)})`, '');
    if (counts.length > 0) lines.push(`By reason: ${counts.map(([reason, count]) => `${reason} ${count}`).join(', ')}`, '');
    if (folder.skipped.length === 0) lines.push('Nothing was skipped.');
    for (const s of folder.skipped) lines.push(`- ${code(s.rel + (s.isDirectory ? '/' : ''))} — ${s.reason}${s.detail ? ` (${s.detail})` : ''}`);
  }
  return lines.join('\n') + '\n';
}
