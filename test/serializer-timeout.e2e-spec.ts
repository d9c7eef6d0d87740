import { INestApplication, Injectable } from '@nestjs/common';
import {
  Column,
  DataSource,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmPayload,
  CrmSynchronisation,
  EtlifiedEntity,
  EtlifySerializer,
  SerializerTimeoutError,
  SyncService,
} from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { buildApp } from './support/app';
import {
  createTestDatabase,
  DIALECTS,
  TestDatabase,
} from './support/databases';

/** Serializers of records named `hang` wait until the test opens the gate. */
class Gate {
  private open!: () => void;
  opened = new Promise<void>((resolve) => (this.open = resolve));
  release(): void {
    this.open();
  }
  reset(): void {
    this.opened = new Promise<void>((resolve) => (this.open = resolve));
  }
}
const gate = new Gate();

@Injectable()
class SlowThingSerializer implements EtlifySerializer<SlowThing> {
  async toCrmPayload(thing: SlowThing): Promise<CrmPayload> {
    if (thing.name.startsWith('hang')) await gate.opened;
    return { name: thing.name };
  }
}

@Injectable()
class QuickThingSerializer implements EtlifySerializer<QuickThing> {
  toCrmPayload(thing: QuickThing): CrmPayload {
    return { name: thing.name };
  }
}

@Entity('timeout_slow_things')
@EtlifiedEntity({
  crm: 'memory',
  serializer: SlowThingSerializer,
  crmObjectType: 'slow_things',
})
class SlowThing {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

@Entity('timeout_quick_things')
@EtlifiedEntity({
  crm: 'memory',
  serializer: QuickThingSerializer,
  crmObjectType: 'quick_things',
})
class QuickThing {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', length: 100 }) name!: string;
  @UpdateDateColumn({ name: 'updated_at' }) updatedAt!: Date;
}

/** Polls until `check` holds; the deadline only bounds a failing test. */
async function eventually(check: () => boolean, ms = 4000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}

describe.each(DIALECTS)('a hung serializer on %s', (dialect) => {
  let db: TestDatabase;
  let app: INestApplication;
  let crm: InMemoryCrmAdapter;
  let ds: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(dialect);
  });
  afterAll(async () => {
    await db.drop();
  });
  afterEach(async () => {
    gate.release();
    await app.close();
    gate.reset();
  });

  async function start(serializerTimeoutMs: number): Promise<void> {
    crm = new InMemoryCrmAdapter();
    app = await buildApp({
      db,
      entities: [SlowThing, QuickThing],
      providers: [SlowThingSerializer, QuickThingSerializer],
      etlify: {
        crms: [{ name: 'memory', adapter: crm }],
        staleSweep: false,
        serializerTimeoutMs,
      },
    });
    await app.init();
    ds = app.get(DataSource);
    await ds.getRepository(CrmSynchronisation).clear();
  }

  it('fails only its own record after serializerTimeoutMs, recorded with an error naming the option', async () => {
    await start(300);
    const sync = app.get(SyncService);
    const things = ds.getRepository(SlowThing);
    const hung = await things.save(things.create({ name: 'hang-1' }));
    const fine = await things.save(things.create({ name: 'fine' }));
    await sync.idle();
    const [a, b] = await Promise.all([sync.sync(hung), sync.sync(fine)]);
    expect(a.status).toBe('error');
    expect(a.error).toMatch(new RegExp(`^${SerializerTimeoutError.name}: `));
    expect(a.error).toContain(
      'SlowThingSerializer.toCrmPayload() did not answer within 300 ms (serializerTimeoutMs)',
    );
    expect(b.status).toBe('not_modified');
    const row = await ds.getRepository(CrmSynchronisation).findOneByOrFail({
      resourceType: 'SlowThing',
      resourceId: String(hung.id),
    });
    expect(row.state).toBe('error');
    expect(row.lastError).toContain('serializerTimeoutMs');
    expect(crm.records('slow_things').map((r) => r.properties.name)).toEqual([
      'fine',
    ]);
  });

  it("capture: another entity's records reach the CRM while one entity's serializer hangs", async () => {
    await start(60_000);
    await ds.getRepository(SlowThing).save({ name: 'hang-2' });
    await ds.getRepository(QuickThing).save({ name: 'quick' });
    const delivered = await eventually(
      () => crm.records('quick_things').length === 1,
    );
    // The slow record is still waiting in its serializer: it has not reached the CRM.
    expect(crm.records('slow_things')).toHaveLength(0);
    expect(delivered).toBe(true);
    gate.release();
    await app.get(SyncService).idle();
    expect(crm.records('slow_things')).toHaveLength(1);
  });
});
