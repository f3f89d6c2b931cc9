import * as vscode from 'vscode';
import { DEVICE_SETTINGS, type DeviceSetting } from '../shared/devices/deviceSetting';
import type { ModelInfo, ModelState } from '../protocol';
import type { Ctx } from './ctx';
import { errorMessage } from './errorMessage';

type SwitcherItem = vscode.QuickPickItem & (
  | { action: 'model'; model: ModelInfo }
  | { action: 'device'; device: DeviceSetting }
  | { action: 'toggleCompletions' }
  | { action: 'none' }
);

const DEVICE_DESCRIPTIONS: Record<DeviceSetting, string> = {
  auto: 'GPU when one works, else CPU',
  cpu: 'always the CPU',
  cuda: 'NVIDIA GPU (CUDA)',
  webgpu: 'GPU through WebGPU',
  dml: 'DirectML (Windows)',
  coreml: 'Core ML (macOS)',
};

/**
 * The status bar's switcher: models (name, size, kind, languages, providers, problems), the device,
 * and completions on/off. Choices are saved in settings; the worker hot-swaps the model live.
 */
export async function showModelSwitcher(ctx: Ctx): Promise<void> {
  const pick = vscode.window.createQuickPick<SwitcherItem>();
  pick.title = 'Kestrel: Switch Model';
  pick.placeholder = 'Choose a completion model, the device, or turn completions off';
  pick.matchOnDescription = true;
  pick.matchOnDetail = true;
  pick.busy = true;
  pick.show();
  let models: ModelInfo[] = [];
  try {
    models = await (await ctx.worker()).listModels({ timeoutMs: 5_000 });
  } catch (error) {
    ctx.output.warn(`Could not list models: ${errorMessage(error)}`);
  }
  pick.items = switcherItems(ctx, models);
  pick.busy = false;
  const chosen = await new Promise<SwitcherItem | undefined>((resolve) => {
    pick.onDidAccept(() => resolve(pick.selectedItems[0]));
    pick.onDidHide(() => resolve(undefined));
  });
  pick.dispose();
  if (chosen) await apply(ctx, chosen);
}

function switcherItems(ctx: Ctx, models: ModelInfo[]): SwitcherItem[] {
  const device = ctx.config.get('device');
  const enabled = ctx.config.get('completions.enable');
  const items: SwitcherItem[] = [{ label: 'Completion models', kind: vscode.QuickPickItemKind.Separator, action: 'none' }];
  if (models.length === 0) items.push({ label: '$(warning) No models found', detail: 'The worker is not running or found no model folders. See "Kestrel: Show Log".', action: 'none' });
  for (const model of [...models].sort((a, b) => Number(b.kind === 'completion') - Number(a.kind === 'completion'))) {
    const size = Math.max(0, ...model.variants.map((v) => v.sizeBytes));
    const providers = [...new Set(model.variants.flatMap((v) => v.providers))];
    items.push({
      action: 'model',
      model,
      label: `${model.loaded ? '$(check) ' : model.problems.length ? '$(error) ' : ''}${model.displayName}`,
      description: `${model.id} · ${(size / 2 ** 20).toFixed(1)} MB · ${model.kind}`,
      detail: model.problems.length
        ? `Cannot load: ${model.problems.join('; ')}`
        : `${model.languages.join(', ') || 'any language'} · variants ${model.variants.map((v) => v.name).join(', ')} · runs on ${providers.join(', ') || 'cpu'}`,
    });
  }
  items.push({ label: 'Device', kind: vscode.QuickPickItemKind.Separator, action: 'none' });
  for (const option of DEVICE_SETTINGS) {
    items.push({ action: 'device', device: option, label: `${option === device ? '$(check) ' : ''}Device: ${option}`, description: DEVICE_DESCRIPTIONS[option] });
  }
  items.push({ label: 'Completions', kind: vscode.QuickPickItemKind.Separator, action: 'none' });
  items.push({ action: 'toggleCompletions', label: enabled ? '$(circle-slash) Turn inline completions off' : '$(check) Turn inline completions on' });
  return items;
}

async function apply(ctx: Ctx, item: SwitcherItem): Promise<void> {
  switch (item.action) {
    case 'model': {
      const { model } = item;
      if (model.problems.length) {
        void vscode.window.showErrorMessage(`Kestrel: ${model.displayName} cannot load: ${model.problems.join('; ')}`);
        return;
      }
      if (model.kind !== 'completion') {
        void vscode.window.showInformationMessage(`Kestrel: ${model.displayName} is a ${model.kind} model; it is not used for completions.`);
        return;
      }
      if (model.loaded) return;
      await ctx.config.set('model', model.id);
      await waitForModel(ctx, model.id, `Kestrel: loading ${model.displayName}…`);
      return;
    }
    case 'device':
      if (item.device === ctx.config.get('device')) return;
      await ctx.config.set('device', item.device);
      await waitForModel(ctx, undefined, `Kestrel: moving the model to ${item.device}…`);
      return;
    case 'toggleCompletions':
      await ctx.config.set('completions.enable', !ctx.config.get('completions.enable'));
      return;
    case 'none':
      return;
  }
}

/** Shows progress until the worker reports the model ready (or failing), with the reason on failure. */
function waitForModel(ctx: Ctx, id: string | undefined, title: string): Thenable<void> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title }, () => new Promise<void>((resolve) => {
    const timer = setTimeout(finish, 60_000);
    const listener = ctx.onDidChangeModelState((state: ModelState) => {
      if (state.state === 'ready' && (id === undefined || state.model.id === id)) finish();
      if (state.state === 'error') {
        void vscode.window.showErrorMessage(`Kestrel: ${state.message}`);
        finish();
      }
    });
    function finish(): void {
      clearTimeout(timer);
      listener.dispose();
      resolve();
    }
  }));
}
