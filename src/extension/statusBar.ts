import * as vscode from 'vscode';
import type { IndexProgressParams, ModelState, ProjectCacheParams } from '../protocol';
import { COMMANDS } from './commandIds';
import type { WorkerState } from './workerClient';

/** Everything the status-bar item reflects; the item is a pure rendering of this. */
export interface StatusView {
  worker: WorkerState;
  model: ModelState;
  completionsEnabled: boolean;
  generating: boolean;
  /** Median latency of recent completions, when there are any. */
  medianLatencyMs: number | undefined;
  /** Error from the latest model switch, shown until the next successful load. */
  modelError: string | undefined;
  /** The workspace index's latest progress report, once the worker sent one. */
  index: IndexProgressParams | undefined;
  /** The project cache's latest report, once the worker sent one. */
  projectCache: ProjectCacheParams | undefined;
}

/** One line on the project cache for the tooltip: how many files completions learn from. */
export function projectCacheSummary(cache: ProjectCacheParams): string {
  if (!cache.enabled) return 'Project cache: off';
  const files = `${cache.files} file${cache.files === 1 ? '' : 's'} read`;
  const size = `${(cache.bytes / 2 ** 20).toFixed(1)} MB`;
  const dropped = cache.evictedFiles > 0 ? `, ${cache.evictedFiles} dropped for memory` : '';
  return `Project cache: ${cache.reading ? 'reading the workspace… ' : ''}${files} (${size}${dropped})`;
}

/** One line on the index for the tooltip: files done while a run goes, else what the index uses. */
export function indexSummary(index: IndexProgressParams): string {
  const p = index.progress;
  const search = index.embedder ? `embedder ${index.embedder}` : 'keywords (BM25) only';
  if (index.indexing) {
    return p.phase === 'walking'
      ? `Index: looking for files… (${p.filesSeen} found)`
      : `Index: indexing ${p.filesDone}/${p.filesTotal} files, ${p.chunksDone} chunks · ${search}`;
  }
  return `Index: up to date · ${search}`;
}

const PROVIDER_LABELS: Record<string, string> = {
  cpu: 'CPU', cuda: 'CUDA', webgpu: 'WebGPU', dml: 'DirectML', coreml: 'Core ML', tensorrt: 'TensorRT',
};

export function providerLabel(provider: string): string {
  return PROVIDER_LABELS[provider] ?? provider;
}

/** The status-bar item: one view union, rendered by a single switch. Click opens the model switcher. */
export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private view: StatusView = {
    worker: { kind: 'starting' }, model: { state: 'none' }, completionsEnabled: true,
    generating: false, medianLatencyMs: undefined, modelError: undefined, index: undefined, projectCache: undefined,
  };

  constructor() {
    this.item = vscode.window.createStatusBarItem('kestrel.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Kestrel';
    this.item.command = COMMANDS.switchModel;
    this.render();
    this.item.show();
  }

  get text(): string {
    return this.item.text;
  }

  get tooltipText(): string {
    const tooltip = this.item.tooltip;
    return typeof tooltip === 'string' ? tooltip : tooltip?.value ?? '';
  }

  update(change: Partial<StatusView>): void {
    this.view = { ...this.view, ...change };
    this.render();
  }

  private render(): void {
    const { worker } = this.view;
    const tooltip = new vscode.MarkdownString(undefined, true);
    let text: string;
    let background: string | undefined;
    switch (worker.kind) {
      case 'starting':
        text = '$(loading~spin) Kestrel';
        tooltip.appendMarkdown('**Kestrel** — starting the worker…');
        break;
      case 'restarting':
        text = '$(loading~spin) Kestrel: restarting';
        background = 'statusBarItem.warningBackground';
        tooltip.appendMarkdown(`**Kestrel** — restarting the worker (attempt ${worker.attempt}, in ${worker.delayMs} ms)\n\nWhy: ${worker.reason}`);
        break;
      case 'error':
        text = '$(error) Kestrel';
        background = 'statusBarItem.errorBackground';
        tooltip.appendMarkdown(`**Kestrel** — error\n\n${worker.reason}`);
        break;
      case 'stopped':
        text = '$(circle-slash) Kestrel';
        tooltip.appendMarkdown('**Kestrel** — worker stopped');
        break;
      case 'ready':
        ({ text, background } = this.renderModel(tooltip));
        if (this.view.projectCache) tooltip.appendMarkdown(`\n\n${projectCacheSummary(this.view.projectCache)}`);
        if (this.view.index) tooltip.appendMarkdown(`\n\n${indexSummary(this.view.index)}`);
        tooltip.appendMarkdown(`\n\n---\n\nKestrel ${worker.status.version} · worker pid ${worker.status.pid}, ${(worker.status.memory.rssBytes / 2 ** 20).toFixed(0)} MB`);
        break;
    }
    if (worker.kind === 'ready' || worker.kind === 'error') tooltip.appendMarkdown('\n\nClick to switch model or device, or turn completions off.');
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.backgroundColor = background ? new vscode.ThemeColor(background) : undefined;
    this.item.accessibilityInformation = { label: `Kestrel: ${text.replace(/\$\([^)]*\)\s*/g, '').replace(/^Kestrel:?\s*/, '')}`.trim() };
  }

  private renderModel(tooltip: vscode.MarkdownString): { text: string; background: string | undefined } {
    const { model, completionsEnabled, generating, medianLatencyMs, modelError } = this.view;
    if (modelError) tooltip.appendMarkdown(`$(warning) Last model change failed: ${modelError}\n\n`);
    switch (model.state) {
      case 'none':
        tooltip.appendMarkdown('**Kestrel** — no completion model loaded');
        return { text: '$(circuit-board) Kestrel', background: undefined };
      case 'loading':
        tooltip.appendMarkdown(`**Kestrel** — loading ${model.id}…`);
        return { text: `$(loading~spin) Kestrel: loading ${model.id}`, background: undefined };
      case 'error':
        tooltip.appendMarkdown(`**Kestrel** — the model could not load\n\n${model.message}`);
        return { text: '$(error) Kestrel: model error', background: 'statusBarItem.errorBackground' };
      case 'ready': {
        const m = model.model;
        const device = providerLabel(m.provider);
        // Running on the CPU after the GPU providers failed is news only when there was a GPU to run
        // on: under `auto` on a machine without one, the CPU is simply the device. A GPU named in
        // kestrel.device that cannot run fails the load instead, and shows as modelError.
        const gpuLeftIdle = m.provider === 'cpu' && m.providerFallbacks.length > 0 && (m.gpus === null || m.gpus.length > 0);
        const warn = gpuLeftIdle || modelError !== undefined;
        tooltip.appendMarkdown(`**${m.displayName}** (${m.id}) · ${m.variant}, ${(m.sizeBytes / 2 ** 20).toFixed(1)} MB\n\n`);
        tooltip.appendMarkdown(`- Device: ${device} (ONNX Runtime provider \`${m.provider}\`)\n`);
        for (const why of m.providerFallbacks) tooltip.appendMarkdown(`- Not used: ${why}\n`);
        if (m.gpus !== null) tooltip.appendMarkdown(`- GPUs on this machine: ${m.gpus.length > 0 ? m.gpus.join(', ') : 'none found'}\n`);
        tooltip.appendMarkdown(`- Completions: ${completionsEnabled ? 'on' : 'off'}\n`);
        tooltip.appendMarkdown(`- Median latency (recent): ${medianLatencyMs === undefined ? '—' : `${medianLatencyMs.toFixed(0)} ms`}`);
        const label = `${m.id} · ${device}${warn ? ' $(warning)' : ''}`;
        if (!completionsEnabled) return { text: `$(circle-slash) ${m.id} · off`, background: undefined };
        return { text: `${generating ? '$(sync~spin)' : '$(circuit-board)'} ${label}`, background: undefined };
      }
    }
  }

  dispose(): void {
    this.item.dispose();
  }
}
