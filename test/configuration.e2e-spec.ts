import { Injectable } from '@nestjs/common';
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import {
  EtlifiedEntity,
  EtlifyConfigurationError,
  EtlifyModuleOptions,
  EtlifySerializer,
  NullAdapter,
} from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';
import { buildApp } from './support/app';
import { createTestDatabase } from './support/databases';
import { Company, User } from './support/fixtures';

@Injectable()
class WidgetSerializer implements EtlifySerializer<any> {
  toCrmPayload() {
    return { name: 'w' };
  }
}

@Entity('widgets')
@EtlifiedEntity({
  crm: 'pipedrive',
  serializer: WidgetSerializer,
  crmObjectType: 'deals',
})
class UnknownCrmWidget {
  @PrimaryGeneratedColumn() id!: number;
}

@Entity('gadgets')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: undefined as any,
  crmObjectType: 'deals',
})
class NoSerializerGadget {
  @PrimaryGeneratedColumn() id!: number;
}

@Entity('gizmos')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: WidgetSerializer,
  crmObjectType: 'deals',
  dependencies: ['owner'],
})
class BadDependencyGizmo {
  @PrimaryGeneratedColumn() id!: number;
  @Column({ type: 'varchar', nullable: true }) owner!: string;
}

@Entity('timers')
@EtlifiedEntity({
  crm: 'hubspot',
  serializer: WidgetSerializer,
  crmObjectType: 'deals',
  serializerTimeoutMs: 0,
})
class ZeroTimeoutTimer {
  @PrimaryGeneratedColumn() id!: number;
}

@EtlifiedEntity({
  crm: 'hubspot',
  serializer: WidgetSerializer,
  crmObjectType: 'deals',
})
class NotAnEntity {
  id!: number;
}

const adapter = new InMemoryCrmAdapter();
class AdapterClass {
  upsert() {}
  delete() {}
}

async function bootError(
  etlify: Partial<EtlifyModuleOptions> | any,
  entities: Function[] = [User, Company],
) {
  const db = await createTestDatabase('sqlite');
  const app = await buildApp({
    db,
    entities,
    etlify: { capture: false, staleSweep: false, ...etlify },
  });
  try {
    await app.init();
  } catch (error) {
    return error as Error;
  } finally {
    await app.close().catch(() => undefined);
  }
  throw new Error('app.init() succeeded but should have failed');
}

const both = (extra: object = {}) => ({
  crms: [
    { name: 'hubspot', adapter, ...extra },
    { name: 'audit', adapter: new NullAdapter() },
  ],
});

describe('configuration errors fail app.init()', () => {
  it.each<[string, any, RegExp]>([
    ['empty crms', { crms: [] }, /crms is empty: declare at least one CRM/],
    [
      'duplicate CRM name',
      {
        crms: [
          { name: 'hubspot', adapter },
          { name: 'hubspot', adapter },
        ],
      },
      /CRM name "hubspot" is declared twice/,
    ],
    [
      'malformed CRM name',
      { crms: [{ name: 'Hub Spot', adapter }] },
      /name must match \[a-z0-9_-\]\+/,
    ],
    [
      'adapter passed as a class',
      both({ adapter: AdapterClass }),
      /crms\[0\] \(CRM "hubspot"\)\.adapter is a class .*new HubspotAdapter/,
    ],
    [
      'adapter without upsert',
      both({ adapter: { delete() {} } }),
      /adapter must be an adapter instance with `upsert\(\)` and `delete\(\)`/,
    ],
    [
      'rateLimit <= 0',
      both({ rateLimit: { maxRequests: 0, intervalMs: 10000 } }),
      /rateLimit\.maxRequests must be > 0/,
    ],
    [
      'maxSyncErrors < 1',
      both({ maxSyncErrors: 0 }),
      /maxSyncErrors must be >= 1/,
    ],
    [
      'unknown option key',
      { ...both(), retries: 3 },
      /"retries" is not a known option/,
    ],
    [
      'unknown CRM option key',
      both({ token: 'x' }),
      /"crms\[0\] \(CRM "hubspot"\)\.token" is not a known option/,
    ],
    [
      'bad cron',
      { ...both(), staleSweep: { cron: 'every minute' } },
      /staleSweep\.cron "every minute" is not a valid cron expression/,
    ],
  ])('%s', async (_name, options, message) => {
    const error = await bootError(options);
    expect(error).toBeInstanceOf(EtlifyConfigurationError);
    expect(error.message).toMatch(message);
  });

  it('entity naming an unknown CRM', async () => {
    const error = await bootError(both(), [User, Company, UnknownCrmWidget]);
    expect(error).toBeInstanceOf(EtlifyConfigurationError);
    expect(error.message).toMatch(
      /@EtlifiedEntity on UnknownCrmWidget: unknown CRM "pipedrive"; use one of "hubspot", "audit"/,
    );
  });

  it('entity without serializer', async () => {
    const error = await bootError(both(), [User, Company, NoSerializerGadget]);
    expect(error.message).toMatch(
      /@EtlifiedEntity on NoSerializerGadget \(CRM "hubspot"\): no serializer/,
    );
  });

  it('dependency that is not a relation', async () => {
    const error = await bootError(both(), [User, Company, BadDependencyGizmo]);
    expect(error.message).toMatch(
      /BadDependencyGizmo: dependencies names "owner", which is not a relation/,
    );
  });

  it('serializerTimeoutMs that is not a positive whole number', async () => {
    const error = await bootError(both(), [User, Company, ZeroTimeoutTimer]);
    expect(error.message).toMatch(
      /@EtlifiedEntity on ZeroTimeoutTimer \(CRM "hubspot"\): serializerTimeoutMs must be a whole number of milliseconds >= 1, got 0/,
    );
    const moduleError = await bootError({ ...both(), serializerTimeoutMs: -5 });
    expect(moduleError.message).toMatch(/serializerTimeoutMs must be >= 1/);
  });

  it('decorated class not registered with the DataSource', async () => {
    expect(NotAnEntity).toBeDefined();
    const error = await bootError(both(), [User, Company]);
    expect(error.message).toMatch(
      /@EtlifiedEntity on .*NotAnEntity.*: the class is not an entity of the DataSource/,
    );
  });
});

describe('sync-state entity registration', () => {
  it('fails the boot naming the fix when CrmSynchronisation is not registered', async () => {
    const db = await createTestDatabase('sqlite');
    const { Test } = await import('@nestjs/testing');
    const { TypeOrmModule } = await import('@nestjs/typeorm');
    const { EtlifyModule } = await import('nestjs-etlify');
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          ...(db.options as any),
          entities: [User, Company],
          synchronize: true,
        }),
        EtlifyModule.forRoot({
          crms: [
            { name: 'hubspot', adapter },
            { name: 'audit', adapter },
          ],
          capture: false,
          staleSweep: false,
        }),
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toThrow(
      /CrmSynchronisation entity is not registered.*autoLoadEntities: true/,
    );
    await app.close();
  });
});
