import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { SYNC_STATE_TABLE } from '../etlify.constants';

/** Date column type and "now" default per dialect, matching what the entity declares. */
function dateColumn(queryRunner: QueryRunner): {
  type: string;
  now: string;
  stampPrecision?: number;
  onUpdate?: string;
} {
  const dialect = queryRunner.connection.options.type;
  if (dialect === 'postgres') return { type: 'timestamp', now: 'now()' };
  if (dialect === 'mysql' || dialect === 'mariadb') {
    return {
      type: 'datetime',
      now: 'CURRENT_TIMESTAMP(6)',
      stampPrecision: 6,
      onUpdate: 'CURRENT_TIMESTAMP(6)',
    };
  }
  return { type: 'datetime', now: "datetime('now')" };
}

/**
 * Creates the sync-state table. Add it to your DataSource's `migrations` when you do not use
 * `synchronize`; the `etlify-migration` schematic generates the same migration into your app.
 */
export class CreateCrmSynchronisations1764028800000 implements MigrationInterface {
  name = 'CreateCrmSynchronisations1764028800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const date = dateColumn(queryRunner);
    await queryRunner.createTable(
      new Table({
        name: SYNC_STATE_TABLE,
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'crm_name', type: 'varchar', length: '64' },
          { name: 'resource_type', type: 'varchar', length: '128' },
          { name: 'resource_id', type: 'varchar', length: '64' },
          { name: 'crm_id', type: 'varchar', length: '64', isNullable: true },
          {
            name: 'last_digest',
            type: 'varchar',
            length: '128',
            isNullable: true,
          },
          {
            name: 'last_synced_at',
            type: date.type,
            precision: 3,
            isNullable: true,
          },
          { name: 'last_error', type: 'text', isNullable: true },
          { name: 'error_count', type: 'integer', default: 0 },
          {
            name: 'state',
            type: 'varchar',
            length: '16',
            default: "'pending'",
          },
          { name: 'serializer_version', type: 'integer', isNullable: true },
          {
            name: 'lease_token',
            type: 'varchar',
            length: '64',
            isNullable: true,
          },
          {
            name: 'lease_expires_at',
            type: date.type,
            precision: 3,
            isNullable: true,
          },
          {
            name: 'created_at',
            type: date.type,
            precision: date.stampPrecision,
            default: date.now,
          },
          {
            name: 'updated_at',
            type: date.type,
            precision: date.stampPrecision,
            default: date.now,
            onUpdate: date.onUpdate,
          },
        ],
      }),
      true,
    );
    await queryRunner.createIndex(
      SYNC_STATE_TABLE,
      new TableIndex({
        name: 'UQ_crm_synchronisations_record',
        columnNames: ['crm_name', 'resource_type', 'resource_id'],
        isUnique: true,
      }),
    );
    await queryRunner.createIndex(
      SYNC_STATE_TABLE,
      new TableIndex({
        name: 'IDX_crm_synchronisations_synced',
        columnNames: ['crm_name', 'resource_type', 'last_synced_at'],
      }),
    );
    await queryRunner.createIndex(
      SYNC_STATE_TABLE,
      new TableIndex({
        name: 'IDX_crm_synchronisations_updated',
        columnNames: ['crm_name', 'resource_type', 'updated_at'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(SYNC_STATE_TABLE, true);
  }
}
