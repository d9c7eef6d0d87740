import { MigrationInterface, QueryRunner, Table } from 'typeorm';
import { STALE_SWEEP_TABLE } from '../etlify.constants';

/**
 * Creates the stale sweeper's table (high-water marks and its database lease). Add it to your
 * DataSource's `migrations` after CreateCrmSynchronisations when you do not use `synchronize`.
 */
export class CreateEtlifyStaleSweeps1764115200000 implements MigrationInterface {
  name = 'CreateEtlifyStaleSweeps1764115200000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const dialect = queryRunner.connection.options.type;
    const mysql = dialect === 'mysql' || dialect === 'mariadb';
    const type = dialect === 'postgres' ? 'timestamp' : 'datetime';
    const now =
      dialect === 'postgres'
        ? 'now()'
        : mysql
          ? 'CURRENT_TIMESTAMP(6)'
          : "datetime('now')";
    await queryRunner.createTable(
      new Table({
        name: STALE_SWEEP_TABLE,
        columns: [
          {
            name: 'sweep_key',
            type: 'varchar',
            length: '200',
            isPrimary: true,
          },
          { name: 'high_water_mark', type, precision: 3, isNullable: true },
          { name: 'serializer_version', type: 'integer', isNullable: true },
          { name: 'full_scan_at', type, precision: 3, isNullable: true },
          {
            name: 'lease_token',
            type: 'varchar',
            length: '64',
            isNullable: true,
          },
          { name: 'lease_expires_at', type, precision: 3, isNullable: true },
          {
            name: 'updated_at',
            type,
            precision: mysql ? 6 : undefined,
            default: now,
            onUpdate: mysql ? 'CURRENT_TIMESTAMP(6)' : undefined,
          },
        ],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(STALE_SWEEP_TABLE, true);
  }
}
