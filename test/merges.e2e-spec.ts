import { Injectable, INestApplication } from '@nestjs/common';
import {
  Column,
  DataSource,
  Entity,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import {
  CrmPayload,
  CrmRegistry,
  CrmSynchronisation,
  EtlifiedEntity,
  EtlifySerializer,
  HubspotAdapter,
  SyncService,
} from 'nestjs-etlify';
import { HubspotSandbox } from 'nestjs-etlify/testing';
import { buildApp } from './support/app';
import {
  createTestDatabase,
  DIALECTS,
  TestDatabase,
} from './support/databases';

@Injectable()
class MergeCompanySerializer implements EtlifySerializer<MergeCompany> {
  toCrmPayload(company: MergeCompany): CrmPayload {
    return { name: company.name, domain: company.domain };
  }
}

@Entity('merge_companies')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: MergeCompanySerializer,
  crmObjectType: 'companies',
})
class MergeCompany {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'varchar', length: 100 })
  domain!: string;

  @UpdateDateColumn({ name: 'updated_at' })
  updatedAt!: Date;
}

/**
 * Merges as HubSpot does them now: a merge mints a new id and both old ids keep answering with it.
 * The state follows the new id, and deleting one of the merged rows never archives the record the
 * other row still mirrors.
 */
describe.each(DIALECTS)('records merged in HubSpot, on %s', (dialect) => {
  let db: TestDatabase;
  let sandbox: HubspotSandbox;
  let app: INestApplication;
  let sync: SyncService;
  let ds: DataSource;

  beforeEach(async () => {
    db = await createTestDatabase(dialect);
    sandbox = new HubspotSandbox({ accessToken: 'merge-token', seed: 5 });
    const { baseUrl } = await sandbox.start();
    app = await buildApp({
      db,
      entities: [MergeCompany],
      providers: [MergeCompanySerializer],
      etlify: {
        crms: [
          {
            name: 'hubspot',
            adapter: new HubspotAdapter({
              accessToken: 'merge-token',
              baseUrl,
            }),
          },
        ],
        capture: false,
        staleSweep: false,
      },
    });
    await app.init();
    sync = app.get(SyncService);
    ds = app.get(DataSource);
    const adapter = app.get(CrmRegistry).getCrm('hubspot')
      .adapter as HubspotAdapter;
    expect(
      (await adapter.provisionKeyProperty('companies', { apply: true })).status,
    ).toMatch(/created|ok/);
  });

  afterEach(async () => {
    await app.close();
    await sandbox.stop();
    await db.drop();
  });

  async function stateOf(company: MergeCompany) {
    return ds.getRepository(CrmSynchronisation).findOneByOrFail({
      resourceType: 'MergeCompany',
      resourceId: String(company.id),
    });
  }

  it('moves both rows to the new id and archives the record only with its last row', async () => {
    const repo = ds.getRepository(MergeCompany);
    const a = await repo.save(repo.create({ name: 'Acme', domain: 'acme.io' }));
    const b = await repo.save(
      repo.create({ name: 'Acme Inc', domain: 'acme-inc.io' }),
    );
    const idA = (await sync.sync(a)).crmId!;
    const idB = (await sync.sync(b)).crmId!;
    expect(idA).not.toBe(idB);

    const merged = sandbox.merge('companies', idA, idB);
    expect([idA, idB]).not.toContain(merged);

    // A's next sync PATCHes its old id, HubSpot answers with the merged record's id.
    a.name = 'Acme (merged)';
    await repo.save(a);
    expect(await sync.sync(a)).toMatchObject({
      status: 'synced',
      crmId: merged,
    });
    expect((await stateOf(a)).crmId).toBe(merged);

    // Deleting A keeps the merged record: B still mirrors it (through its old id).
    expect(await sync.delete(a)).toMatchObject({ status: 'noop' });
    expect(sandbox.record('companies', merged)?.archived).toBeFalsy();

    // B follows the merge on its next sync; deleting it, the last row, archives the record.
    b.name = 'Acme Inc (merged)';
    await repo.save(b);
    expect(await sync.sync(b)).toMatchObject({ crmId: merged });
    expect((await stateOf(b)).crmId).toBe(merged);
    expect(await sync.delete(b)).toMatchObject({ status: 'deleted' });
    expect(sandbox.record('companies', merged)?.archived).toBe(true);
    // No orphan, no duplicate: the only companies HubSpot ever had are the two and their merge.
    expect(sandbox.records('companies').length).toBeLessThanOrEqual(3);
  });

  it('brings along another row that held the old id when one row learns the new id', async () => {
    const repo = ds.getRepository(MergeCompany);
    const a = await repo.save(repo.create({ name: 'Beta', domain: 'beta.io' }));
    const idA = (await sync.sync(a)).crmId!;
    // A second row mapped to the same CRM record (e.g. restored from a backup, or re-keyed).
    const twin = await repo.save(
      repo.create({ name: 'Beta', domain: 'beta.io' }),
    );
    await ds.getRepository(CrmSynchronisation).save(
      ds.getRepository(CrmSynchronisation).create({
        crmName: 'hubspot',
        resourceType: 'MergeCompany',
        resourceId: String(twin.id),
        crmId: idA,
        state: 'synced',
        lastDigest: 'x',
        errorCount: 0,
      }),
    );
    const other = await repo.save(
      repo.create({ name: 'Beta 2', domain: 'beta2.io' }),
    );
    const idOther = (await sync.sync(other)).crmId!;
    const merged = sandbox.merge('companies', idA, idOther);

    a.name = 'Beta (merged)';
    await repo.save(a);
    expect((await sync.sync(a)).crmId).toBe(merged);
    expect((await stateOf(twin)).crmId).toBe(merged);
    // The twin still mirrors the record: deleting A leaves it in HubSpot.
    expect(await sync.delete(a)).toMatchObject({ status: 'noop' });
    expect(sandbox.record('companies', merged)?.archived).toBeFalsy();
  });
});
