import { INestApplication } from '@nestjs/common';
import { DataSource, Repository } from 'typeorm';
import { CrmSynchronisation, SyncService } from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { buildApp } from './app';
import { CAPTURE_ENTITIES, CAPTURE_SERIALIZERS } from './capture.fixtures';
import { TestDatabase } from './databases';

export interface CaptureApp {
  app: INestApplication;
  crm: InMemoryCrmAdapter;
  sync: SyncService;
  ds: DataSource;
  states: Repository<CrmSynchronisation>;
  /** State row of one record, or null. */
  state(resourceType: string, id: number): Promise<CrmSynchronisation | null>;
}

/** An initialised app with inline capture (queue: false) on the capture fixtures. */
export async function startCaptureApp(db: TestDatabase): Promise<CaptureApp> {
  const crm = new InMemoryCrmAdapter();
  const app = await buildApp({
    db,
    entities: CAPTURE_ENTITIES,
    providers: CAPTURE_SERIALIZERS,
    etlify: {
      crms: [{ name: 'hubspot', adapter: crm }],
      capture: true,
      staleSweep: false,
    },
  });
  await app.init();
  const ds = app.get(DataSource);
  const states = ds.getRepository(CrmSynchronisation);
  return {
    app,
    crm,
    sync: app.get(SyncService),
    ds,
    states,
    state: (resourceType, id) =>
      states.findOneBy({
        crmName: 'hubspot',
        resourceType,
        resourceId: String(id),
      }),
  };
}
