import { Injectable } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  CrmAdapter,
  CrmSynchronisation,
  EtlifyModule,
  EtlifyStaleSweep,
  getCrmAdapterToken,
  InjectCrmAdapter,
} from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';

@Injectable()
class UsesMemory {
  constructor(@InjectCrmAdapter('memory') readonly adapter: CrmAdapter) {}
}

/** Asks for a CRM no app in this file declares: it must not reach into the apps below. */
@Injectable()
class UsesElsewhere {
  constructor(@InjectCrmAdapter('elsewhere') readonly adapter: CrmAdapter) {}
}

const sqlite = () =>
  TypeOrmModule.forRoot({
    type: 'better-sqlite3',
    database: ':memory:',
    entities: [CrmSynchronisation, EtlifyStaleSweep],
    synchronize: true,
  });

async function boot(
  etlify: ReturnType<typeof EtlifyModule.forRoot>,
  providers: Function[] = [],
) {
  return NestFactory.createApplicationContext(
    {
      module: class InjectAdapterModule {},
      imports: [sqlite(), etlify],
      providers: providers as never[],
    },
    { logger: false, abortOnError: false },
  );
}

describe('@InjectCrmAdapter', () => {
  it('provides a token for each of crms[].name, whether or not anything asked for it', async () => {
    const memory = new InMemoryCrmAdapter();
    const other = new InMemoryCrmAdapter();
    const app = await boot(
      EtlifyModule.forRoot({
        crms: [
          { name: 'memory', adapter: memory },
          { name: 'second', adapter: other },
        ],
        capture: false,
      }),
      [UsesMemory],
    );
    try {
      expect(app.get(UsesMemory).adapter).toBe(memory);
      expect(app.get(getCrmAdapterToken('second'))).toBe(other);
    } finally {
      await app.close();
    }
  });

  it('a name asked for elsewhere in the process does not break an app without that CRM', async () => {
    expect(UsesElsewhere).toBeDefined();
    const app = await boot(
      EtlifyModule.forRoot({
        crms: [{ name: 'memory', adapter: new InMemoryCrmAdapter() }],
        capture: false,
      }),
      [UsesMemory],
    );
    await app.close();
  });

  it('with forRootAsync, crmNames names the tokens to provide', async () => {
    const memory = new InMemoryCrmAdapter();
    const app = await boot(
      EtlifyModule.forRootAsync({
        crmNames: ['memory'],
        useFactory: () => ({
          crms: [{ name: 'memory', adapter: memory }],
          capture: false,
        }),
      }),
      [UsesMemory],
    );
    try {
      expect(app.get(UsesMemory).adapter).toBe(memory);
    } finally {
      await app.close();
    }
  });

  it('with forRootAsync, a crmNames entry the factory does not return fails the boot naming it', async () => {
    await expect(
      boot(
        EtlifyModule.forRootAsync({
          crmNames: ['memroy'],
          useFactory: () => ({
            crms: [{ name: 'memory', adapter: new InMemoryCrmAdapter() }],
          }),
        }),
      ),
    ).rejects.toThrow(
      'EtlifyModule option crmNames lists "memroy", which is not among the CRMs of the options (memory)',
    );
  });
});
