import { INestApplication } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { CrmSynchronisation, SyncService } from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { buildApp } from './support/app';
import { createTestDatabase, TestDatabase } from './support/databases';
import {
  Company,
  CompanySerializer,
  User,
  UserSerializer,
} from './support/fixtures';

/**
 * Two application instances with their own connection pools (as two processes would have) sync the
 * same new record at once: the CRM must see exactly one create, and both agree on its id.
 */
describe.each(['postgres', 'mariadb'] as const)(
  'two app instances syncing one record on %s',
  (dialect) => {
    let db: TestDatabase;
    let apps: INestApplication[] = [];
    const crm = new InMemoryCrmAdapter({ latencyMs: 30, batch: false });

    beforeAll(async () => {
      db = await createTestDatabase(dialect);
      for (let i = 0; i < 2; i++) {
        const app = await buildApp({
          db,
          entities: [User, Company],
          providers: [UserSerializer, CompanySerializer],
          etlify: {
            crms: [
              { name: 'hubspot', adapter: crm },
              { name: 'audit', adapter: new InMemoryCrmAdapter() },
            ],
            capture: false,
            staleSweep: false,
          },
        });
        await app.init();
        apps.push(app);
      }
    });
    afterAll(async () => {
      for (const app of apps) await app.close();
      apps = [];
      await db.drop();
    });

    it('creates the record once and stores one CRM id', async () => {
      const users = apps[0].get(DataSource).getRepository(User);
      const user = await users.save(
        users.create({
          email: 'twin@example.com',
          firstName: 'T',
          lastName: 'W',
        }),
      );
      const outcomes = await Promise.all(
        apps.flatMap((app) =>
          Array.from({ length: 10 }, async () => {
            const copy = await app
              .get(DataSource)
              .getRepository(User)
              .findOneByOrFail({ id: user.id });
            return app.get(SyncService).sync(copy, { crm: 'hubspot' });
          }),
        ),
      );
      const creates = crm.calls.filter(
        (c) => c.method === 'upsert' && !(c.request as any).crmId,
      );
      expect(creates).toHaveLength(1);
      expect(crm.records('contacts')).toHaveLength(1);
      expect(outcomes.map((o) => o.status).sort()).toEqual([
        ...Array(19).fill('not_modified'),
        'synced',
      ]);
      const rows = await apps[1]
        .get(DataSource)
        .getRepository(CrmSynchronisation)
        .findBy({ crmName: 'hubspot', resourceType: 'User' });
      expect(rows).toHaveLength(1);
      expect(rows[0].crmId).toBe(crm.records('contacts')[0].id);
      expect(rows[0].leaseToken).toBeNull();
    });
  },
);
