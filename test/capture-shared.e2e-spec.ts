import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CrmSynchronisation, EtlifyModule, SyncService } from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { CaptureService } from '../lib/capture/capture.service';
import { EtlifyEntitySubscriber } from '../lib/capture/etlify-entity.subscriber';
import {
  CAPTURE_ENTITIES,
  CAPTURE_SERIALIZERS,
  CapCompany,
} from './support/capture.fixtures';
import { createTestDatabase, TestDatabase } from './support/databases';

/** Two applications on one DataSource instance (e.g. an API and a worker module in one process). */
describe('capture on a DataSource shared by two applications (postgres)', () => {
  let db: TestDatabase;
  let ds: DataSource;
  const apps: INestApplication[] = [];

  beforeEach(async () => {
    db = await createTestDatabase('postgres');
    ds = new DataSource({
      ...(db.options as any),
      entities: [...CAPTURE_ENTITIES, CrmSynchronisation],
      synchronize: true,
    });
    await ds.initialize();
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    if (ds.isInitialized) await ds.destroy();
    await db.drop();
  });

  async function start(crm: InMemoryCrmAdapter): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...(db.options as any) }),
          // The app adopts the DataSource that is already open.
          dataSourceFactory: async () => ds,
        }),
        EtlifyModule.forRoot({
          crms: [{ name: 'hubspot', adapter: crm }],
          capture: true,
          staleSweep: false,
        }),
      ],
      providers: CAPTURE_SERIALIZERS,
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    apps.push(app);
    return app;
  }

  const subscribers = () =>
    ds.subscribers.filter((s) => s instanceof EtlifyEntitySubscriber);

  it('registers one subscriber and syncs each change once', async () => {
    const first = new InMemoryCrmAdapter();
    const second = new InMemoryCrmAdapter();
    const a = await start(first);
    const b = await start(second);
    expect(subscribers()).toHaveLength(1);

    await ds.getRepository(CapCompany).save({ name: 'Acme' });
    await a.get(SyncService).idle();
    await b.get(SyncService).idle();
    expect(first.callCount() + second.callCount()).toBe(1);
    expect(await ds.getRepository(CrmSynchronisation).count()).toBe(1);
  });

  it('hands the subscriber over when the first application closes', async () => {
    const first = new InMemoryCrmAdapter();
    const second = new InMemoryCrmAdapter();
    const a = await start(first);
    const b = await start(second);
    // Only a's capture steps down (app.close() would also destroy the shared DataSource).
    await a.get(CaptureService).beforeApplicationShutdown();
    expect(subscribers()).toHaveLength(1);
    await ds.getRepository(CapCompany).save({ name: 'Acme' });
    await b.get(SyncService).idle();
    expect(first.callCount()).toBe(0);
    expect(second.records('companies')).toHaveLength(1);
  });
});
