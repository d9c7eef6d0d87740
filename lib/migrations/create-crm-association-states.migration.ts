import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';
import { ASSOCIATION_STATE_TABLE } from '../associations/association.constants';

/**
 * Creates the association-state table (the association sets pushed per record). Add it to your
 * DataSource's `migrations` after CreateCrmSynchronisations when you do not use `synchronize`.
 */
export class CreateCrmAssociationStates1767225600000 implements MigrationInterface {
  name = 'CreateCrmAssociationStates1767225600000';

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
        name: ASSOCIATION_STATE_TABLE,
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
          { name: 'association', type: 'varchar', length: '128' },
          {
            name: 'from_crm_id',
            type: 'varchar',
            length: '64',
            isNullable: true,
          },
          { name: 'to_crm_ids', type: 'text', isNullable: true },
          { name: 'types', type: 'varchar', length: '255', isNullable: true },
          { name: 'pending', type: 'integer', default: 0 },
          { name: 'last_error', type: 'text', isNullable: true },
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
    await queryRunner.createIndex(
      ASSOCIATION_STATE_TABLE,
      new TableIndex({
        name: 'UQ_crm_association_states_record',
        columnNames: [
          'crm_name',
          'resource_type',
          'resource_id',
          'association',
        ],
        isUnique: true,
      }),
    );
    await queryRunner.createIndex(
      ASSOCIATION_STATE_TABLE,
      new TableIndex({
        name: 'IDX_crm_association_states_pending',
        columnNames: ['crm_name', 'resource_type', 'association', 'pending'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable(ASSOCIATION_STATE_TABLE, true);
  }
}
