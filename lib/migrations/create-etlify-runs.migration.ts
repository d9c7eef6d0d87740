import {
  MigrationInterface,
  QueryRunner,
  Table,
  TableColumn,
  TableIndex,
} from 'typeorm';
import { SYNC_STATE_TABLE } from '../etlify.constants';
import { RUN_HISTORY_TABLE } from '../ops/ops.constants';

/**
 * Operations: the run-history table, and the columns `explain` and the dead-letter list read
 * (last error category and correlation id, discard reason). Run it after CreateCrmSynchronisations.
 */
export class CreateEtlifyRuns1765238400000 implements MigrationInterface {
  name = 'CreateEtlifyRuns1765238400000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const dialect = queryRunner.connection.options.type;
    const date = dialect === 'postgres' ? 'timestamp' : 'datetime';
    await queryRunner.addColumns(SYNC_STATE_TABLE, [
      new TableColumn({
        name: 'last_error_category',
        type: 'varchar',
        length: '32',
        isNullable: true,
      }),
      new TableColumn({
        name: 'last_correlation_id',
        type: 'varchar',
        length: '128',
        isNullable: true,
      }),
      new TableColumn({
        name: 'discard_reason',
        type: 'text',
        isNullable: true,
      }),
      new TableColumn({
        name: 'discarded_at',
        type: date,
        precision: 3,
        isNullable: true,
      }),
    ]);
    await queryRunner.createTable(
      new Table({
        name: RUN_HISTORY_TABLE,
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'kind', type: 'varchar', length: '64' },
          { name: 'started_at', type: date, precision: 3 },
          { name: 'finished_at', type: date, precision: 3 },
          { name: 'status', type: 'varchar', length: '16' },
          { name: 'total', type: 'integer', default: 0 },
          { name: 'synced', type: 'integer', default: 0 },
          { name: 'not_modified', type: 'integer', default: 0 },
          { name: 'skipped', type: 'integer', default: 0 },
          { name: 'enqueued', type: 'integer', default: 0 },
          { name: 'errors', type: 'integer', default: 0 },
          { name: 'crm_calls', type: 'integer', default: 0 },
          { name: 'details', type: 'text', isNullable: true },
        ],
      }),
      true,
    );
    await queryRunner.createIndex(
      RUN_HISTORY_TABLE,
      new TableIndex({
        name: 'IDX_etlify_runs_started',
        columnNames: ['started_at'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(RUN_HISTORY_TABLE, true);
    for (const column of [
      'discarded_at',
      'discard_reason',
      'last_correlation_id',
      'last_error_category',
    ])
      await queryRunner.dropColumn(SYNC_STATE_TABLE, column);
  }
}
