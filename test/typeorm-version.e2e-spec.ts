import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Test } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { CrmRegistry, EtlifyModule } from 'nestjs-etlify';
import { InMemoryCrmAdapter } from 'nestjs-etlify/testing';

/**
 * `npm test` runs the e2e suite on TypeORM 0.3 and again with ETLIFY_TYPEORM=1 on 1.x. This spec
 * fails when the switch does not reach every place a test loads TypeORM from, so the second leg
 * can never quietly re-test 0.3.
 */
const expectedMajor = process.env.ETLIFY_TYPEORM === '1' ? '1' : '0';
const major = (v: string) => v.split('.')[0];
/** TypeORM's package.json is not in its exports; its entry sits at the package root in both majors. */
const VERSION_OF_RESOLVED =
  "JSON.parse(require('fs').readFileSync(require('path').join(require('path').dirname(require.resolve('typeorm')), 'package.json'), 'utf8')).version";
const version = (): string =>
  JSON.parse(
    readFileSync(
      join(dirname(require.resolve('typeorm')), 'package.json'),
      'utf8',
    ),
  ).version;

describe(`TypeORM under test (major ${expectedMajor})`, () => {
  it('our imports, @nestjs/typeorm and EtlifyModule share one TypeORM of the expected major', async () => {
    expect(major(version())).toBe(expectedMajor);
    const moduleRef = await Test.createTestingModule({
      imports: [
        TypeOrmModule.forRoot({
          type: 'better-sqlite3',
          database: ':memory:',
          autoLoadEntities: true,
          synchronize: true,
        }),
        EtlifyModule.forRoot({
          crms: [{ name: 'memory', adapter: new InMemoryCrmAdapter() }],
        }),
      ],
    }).compile();
    const app = await moduleRef.init();
    try {
      // @nestjs/typeorm built its DataSource from the class our tests import.
      expect(app.get(getDataSourceToken())).toBeInstanceOf(DataSource);
      expect(
        app
          .get(CrmRegistry)
          .getCrms()
          .map((c) => c.name),
      ).toEqual(['memory']);
    } finally {
      await app.close();
    }
  });

  it('processes the tests start load the same major', () => {
    const loaded = execFileSync(
      process.execPath,
      ['-e', `process.stdout.write(${VERSION_OF_RESOLVED})`],
      { cwd: __dirname },
    ).toString();
    expect(major(loaded)).toBe(expectedMajor);
  });
});
