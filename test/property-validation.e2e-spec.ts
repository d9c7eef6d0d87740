import { INestApplication, Injectable } from '@nestjs/common';
import {
  Column,
  DataSource,
  Entity,
  PrimaryGeneratedColumn,
  Repository,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmPayload,
  CrmSynchronisation,
  EtlifiedEntity,
  EtlifySerializer,
  HubspotAdapter,
  SyncService,
} from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { buildApp } from './support/app';
import { createTestDatabase, TestDatabase } from './support/databases';

const TOKEN = 'validation-token';
const WRITE = /^(POST|PATCH|PUT|DELETE)$/;

/** Each kind of bad value a serializer can produce, and the rule that catches it. */
const BAD: Record<string, [CrmPayload, string, string]> = {
  unknown: [{ favourite_color: 'teal' }, 'favourite_color', 'UNKNOWN_PROPERTY'],
  readOnly: [
    { hs_email_domain: 'x.example.com' },
    'hs_email_domain',
    'READ_ONLY',
  ],
  option: [
    { lifecyclestage: 'best_friend' },
    'lifecyclestage',
    'INVALID_OPTION',
  ],
  number: [{ annualrevenue: 'lots' }, 'annualrevenue', 'NOT_A_NUMBER'],
  bool: [{ is_vip: 'yes' }, 'is_vip', 'NOT_A_BOOLEAN'],
  date: [{ date_of_birth: 'yesterday' }, 'date_of_birth', 'NOT_A_DATE'],
  midnight: [
    { date_of_birth: new Date('1990-05-01T10:30:00Z') },
    'date_of_birth',
    'DATE_NOT_AT_UTC_MIDNIGHT',
  ],
  datetime: [{ last_seen_at: 'soon' }, 'last_seen_at', 'NOT_A_DATETIME'],
  tooLong: [{ nickname: 'x'.repeat(70_000) }, 'nickname', 'TOO_LONG'],
  multi: [
    { interests: 'golf,chess' },
    'interests',
    'MULTI_VALUE_NOT_SEMICOLON_JOINED',
  ],
};

@Injectable()
class VContactSerializer implements EtlifySerializer<VContact> {
  // Per-property null handling declared next to the serializer.
  readonly crmProperties = {
    nickname: { type: 'string' as const, nulls: 'omit' as const },
  };

  toCrmPayload(contact: VContact): CrmPayload {
    const good: CrmPayload = {
      email: contact.email,
      firstname: contact.firstName,
      nickname: contact.nickname,
      // Serializers return Dates, booleans, numbers and lists; the adapter converts them.
      is_vip: contact.id % 2 === 0,
      date_of_birth: new Date('1990-05-01T00:00:00Z'),
      last_seen_at: new Date('2026-03-04T05:06:07.089Z'),
      annualrevenue: 1.5e21,
      interests: ['golf', 'chess'],
    };
    return { ...good, ...(contact.variant ? BAD[contact.variant][0] : {}) };
  }
}

@Entity('v_contacts')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: VContactSerializer,
  crmObjectType: 'contacts',
  idProperty: 'email',
})
class VContact {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 200 })
  email!: string;

  @Column({ name: 'first_name', type: 'varchar', length: 100, nullable: true })
  firstName!: string | null;

  @Column({ type: 'varchar', length: 100, nullable: true })
  nickname!: string | null;

  @Column({ type: 'varchar', length: 20, nullable: true })
  variant!: string | null;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

describe('pre-flight validation against the property schema (sandbox, PostgreSQL)', () => {
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let app: INestApplication;
  let sync: SyncService;
  let contacts: Repository<VContact>;
  let states: Repository<CrmSynchronisation>;
  let round = 0;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    sandbox = new HubspotSandbox({
      accessToken: TOKEN,
      tenSecondLimit: 10_000,
      searchLagMs: 0,
      properties: {
        contacts: [
          { name: 'is_vip', type: 'bool' },
          { name: 'last_seen_at', type: 'datetime' },
          { name: 'nickname', type: 'string' },
          {
            name: 'interests',
            type: 'enumeration',
            fieldType: 'checkbox',
            options: ['golf', 'chess', 'sailing'].map((v) => ({
              label: v,
              value: v,
            })),
          },
        ],
      },
    });
    const { baseUrl } = await sandbox.start();
    app = await buildApp({
      db,
      entities: [VContact],
      providers: [VContactSerializer],
      etlify: {
        crms: [
          {
            name: 'hubspot',
            adapter: new HubspotAdapter({ accessToken: TOKEN, baseUrl }),
          },
        ],
        capture: false,
        staleSweep: false,
      },
    });
    await app.init();
    sync = app.get(SyncService);
    contacts = app.get(DataSource).getRepository(VContact);
    states = app.get(DataSource).getRepository(CrmSynchronisation);
  });
  afterAll(async () => {
    await app?.close();
    await sandbox?.stop();
    await db?.drop();
  });

  it.each(Object.keys(BAD))(
    'a %s value is rejected before any call; the other 99 of its batch sync',
    async (variant) => {
      const [, property, rule] = BAD[variant];
      round++;
      const bad = 37;
      const saved = await contacts.save(
        Array.from({ length: 100 }, (_, i) =>
          contacts.create({
            email: `r${round}-${i}@example.com`,
            firstName: `N${i}`,
            variant: i === bad ? variant : null,
          }),
        ),
      );
      const from = sandbox.requests.length;
      const stats = await sync.syncStale({ async: false });
      const writes = sandbox.requests
        .slice(from)
        .filter((r) => WRITE.test(r.method));

      // One write, carrying the 99 good records; the bad one never left the process.
      expect(writes.map((w) => [w.path, w.bodyInputs])).toEqual([
        ['/crm/objects/2026-09/contacts/batch/upsert', 99],
      ]);
      expect(stats.errors).toBe(1);
      const emails = new Set(
        sandbox.records('contacts').map((r) => r.properties.email),
      );
      for (const [i, contact] of saved.entries())
        expect(emails.has(contact.email)).toBe(i !== bad);
      const state = await states.findOneByOrFail({
        resourceType: 'VContact',
        resourceId: String(saved[bad].id),
      });
      expect(state.state).toBe('error');
      expect(state.crmId).toBeNull();
      expect(state.lastError).toContain(`"${property}"`);
      expect(state.lastError).toContain(rule);
      // Out of the way of the next round (a failed record is stale, so it would be retried).
      await contacts.delete(saved[bad].id);
      await states.delete({ id: state.id });
    },
  );

  it('sends converted values: Dates, booleans, numbers and lists as HubSpot strings', async () => {
    const contact = await contacts.save(
      contacts.create({ email: 'types@example.com', firstName: 'T' }),
    );
    expect((await sync.sync(contact, { async: false })).status).toBe('synced');
    const record = sandbox
      .records('contacts')
      .find((r) => r.properties.email === 'types@example.com')!;
    expect(record.properties).toMatchObject({
      is_vip: contact.id % 2 === 0 ? 'true' : 'false',
      date_of_birth: '1990-05-01',
      last_seen_at: '2026-03-04T05:06:07.089Z',
      annualrevenue: '1500000000000000000000',
      interests: 'golf;chess',
    });
  });

  it('null clears a property by default and leaves one declared nulls: omit', async () => {
    const contact = await contacts.save(
      contacts.create({
        email: 'nulls@example.com',
        firstName: 'Ann',
        nickname: 'Annie',
      }),
    );
    await sync.sync(contact, { async: false });
    contact.firstName = null;
    contact.nickname = null;
    await contacts.save(contact);
    expect((await sync.sync(contact, { async: false })).status).toBe('synced');
    const record = sandbox
      .records('contacts')
      .find((r) => r.properties.email === 'nulls@example.com')!;
    expect(record.properties.firstname).toBeUndefined();
    expect(record.properties.nickname).toBe('Annie');
  });
});
