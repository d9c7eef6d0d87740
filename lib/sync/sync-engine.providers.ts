import type { Provider } from '@nestjs/common';
import { CrmPusher } from './crm-pusher.service';
import { DependencyGate } from './dependency-gate.service';
import { EntityLoader } from './entity-loader.service';
import { PayloadPreparer } from './payload-preparer.service';
import { SyncEngine } from './sync-engine.service';
import { SyncRunner } from './sync-runner.service';
import { SyncDeleteService } from './sync-delete.service';
import { SyncPreview } from './sync-preview.service';
import { SyncStateStore } from './sync-state.store';

/** The sync engine and its parts: state store, loader, dependency gate, preparer, pusher, and the runner that schedules follow-ups. */
export const SYNC_ENGINE_PROVIDERS: Provider[] = [
  SyncStateStore,
  EntityLoader,
  DependencyGate,
  PayloadPreparer,
  CrmPusher,
  SyncEngine,
  SyncRunner,
  SyncDeleteService,
  SyncPreview,
];
