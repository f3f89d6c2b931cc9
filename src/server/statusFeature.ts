import type { Connection } from 'vscode-languageserver/node';
import { StatusRequest, type LoadedModel, type WorkerStatus } from '../protocol';
import { kestrelVersion } from '../version';
import type { Feature } from './feature';
import { noParams } from './paramsSchema';
import type { SettingsStore } from './settings';
import { onRequest } from './validatedHandlers';

/** Answers `kestrel/status`: what a user or a test needs to know the worker is alive and what it runs. */
export class StatusFeature implements Feature {
  private readonly startedAt = Date.now();

  constructor(
    private readonly settings: SettingsStore,
    private readonly loadedModels: () => LoadedModel[],
  ) {}

  register(connection: Connection): void {
    onRequest(connection, StatusRequest, noParams, () => this.status());
  }

  status(): WorkerStatus {
    const memory = process.memoryUsage();
    const models = this.loadedModels();
    return {
      version: kestrelVersion,
      pid: process.pid,
      uptimeMs: Date.now() - this.startedAt,
      memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
      models,
      device: { requested: this.settings.value.device, active: models[0]?.provider ?? null },
    };
  }
}
