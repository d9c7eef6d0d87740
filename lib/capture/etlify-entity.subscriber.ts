import type {
  EntitySubscriberInterface,
  InsertEvent,
  QueryRunner,
  RecoverEvent,
  RemoveEvent,
  SoftRemoveEvent,
  TransactionCommitEvent,
  TransactionRollbackEvent,
  UpdateEvent,
} from 'typeorm';
import type { EntityMetadata } from 'typeorm/metadata/EntityMetadata';
import type { EntityManager } from 'typeorm';
import { relatedId } from '../sync/dependants.util';
import {
  CapturedChange,
  ChangeSet,
  TransactionBuffer,
} from './capture-buffer.util';

/** What the subscriber hands its records to: the capture service of one application. */
export interface CaptureSink {
  /** Whether changes of this entity class matter (etlified, or named in someone's `dependencies`). */
  captures(target: Function): boolean;
  /** Records depending on one about to be removed, read inside the transaction while its links exist. */
  dependantsBeforeRemove(
    manager: EntityManager,
    metadata: EntityMetadata,
    id: string,
  ): Promise<ChangeSet | undefined>;
  /** Records that depended on the old value of a moved link (e.g. the previous owner of an investment). */
  dependantsOfPrevious(
    metadata: EntityMetadata,
    databaseEntity: object,
  ): ChangeSet | undefined;
  /** Records depending on a many-to-many link that was added or removed (a junction-table row). */
  dependantsOfLink(
    junction: EntityMetadata,
    row: object,
  ): ChangeSet | undefined;
  /** Called after the outermost commit (or right after an autocommitted write). Never throws. */
  flush(changes: ChangeSet): void;
  /** Called for an unexpected error; the user's save() must go on. */
  failed(error: unknown): void;
}

/**
 * The one TypeORM subscriber capture registers per DataSource. It only records intent, per
 * QueryRunner and transaction depth; nothing leaves the process before the outermost COMMIT.
 */
export class EtlifyEntitySubscriber implements EntitySubscriberInterface {
  private readonly buffers = new WeakMap<QueryRunner, TransactionBuffer>();

  constructor(private readonly sink: () => CaptureSink | undefined) {}

  afterInsert(event: InsertEvent<any>): void {
    if (event.metadata.tableType === 'junction')
      return this.link(event.queryRunner, event.metadata, event.entityId);
    this.capture(
      event.queryRunner,
      event.metadata,
      event.entity,
      undefined,
      'upsert',
    );
  }

  afterUpdate(event: UpdateEvent<any>): void {
    const sink = this.sink();
    if (!sink?.captures(event.metadata.target as Function)) return;
    // An update through a QueryBuilder or repository.update() carries no id: the sweeper's job.
    this.capture(
      event.queryRunner,
      event.metadata,
      event.entity,
      event.databaseEntity,
      'upsert',
    );
    if (event.databaseEntity) {
      this.guard(() => {
        const previous = sink.dependantsOfPrevious(
          event.metadata,
          event.databaseEntity,
        );
        if (previous) this.recordSet(event.queryRunner, previous);
      });
    }
  }

  beforeRemove(event: RemoveEvent<any>): Promise<void> {
    return this.beforeRemoval(event);
  }

  beforeSoftRemove(event: SoftRemoveEvent<any>): Promise<void> {
    return this.beforeRemoval(event);
  }

  afterRemove(event: RemoveEvent<any>): void {
    if (event.metadata.tableType === 'junction')
      return this.link(event.queryRunner, event.metadata, event.entityId);
    // The entity's id is already cleared here; entityId was taken before the DELETE.
    this.capture(
      event.queryRunner,
      event.metadata,
      event.entityId,
      event.databaseEntity,
      'delete',
    );
  }

  afterSoftRemove(event: SoftRemoveEvent<any>): void {
    this.capture(
      event.queryRunner,
      event.metadata,
      event.entityId ?? event.entity,
      event.databaseEntity,
      'softDelete',
    );
  }

  afterRecover(event: RecoverEvent<any>): void {
    this.capture(
      event.queryRunner,
      event.metadata,
      event.entityId ?? event.entity,
      event.databaseEntity,
      'upsert',
    );
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const buffer = this.buffers.get(event.queryRunner);
    if (!buffer) return;
    const changes = buffer.committed(depthOf(event.queryRunner));
    if (changes?.size) this.guard(() => this.sink()?.flush(changes));
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    this.buffers.get(event.queryRunner)?.rolledBack(depthOf(event.queryRunner));
  }

  private async beforeRemoval(
    event: RemoveEvent<any> | SoftRemoveEvent<any>,
  ): Promise<void> {
    try {
      const sink = this.sink();
      if (!sink?.captures(event.metadata.target as Function)) return;
      const id = relatedId(event.entityId ?? event.entity, event.metadata);
      if (!id) return;
      const dependants = await sink.dependantsBeforeRemove(
        event.manager,
        event.metadata,
        id,
      );
      if (dependants) this.recordSet(event.queryRunner, dependants);
    } catch (error) {
      this.sink()?.failed(error);
    }
  }

  /** A many-to-many link changed: no entity event fires for its owners, so the junction row tells. */
  private link(
    queryRunner: QueryRunner,
    junction: EntityMetadata,
    row: unknown,
  ): void {
    this.guard(() => {
      if (!row || typeof row !== 'object') return;
      const changes = this.sink()?.dependantsOfLink(junction, row);
      if (changes?.size) this.recordSet(queryRunner, changes);
    });
  }

  private capture(
    queryRunner: QueryRunner,
    metadata: EntityMetadata,
    entityOrId: unknown,
    databaseEntity: unknown,
    change: CapturedChange,
  ): void {
    this.guard(() => {
      const target = metadata.target as Function;
      if (!this.sink()?.captures(target)) return;
      const id =
        relatedId(entityOrId, metadata) ?? relatedId(databaseEntity, metadata);
      if (!id) return;
      const changes = new ChangeSet();
      changes.add(target, id, change);
      this.recordSet(queryRunner, changes);
    });
  }

  private recordSet(queryRunner: QueryRunner, changes: ChangeSet): void {
    const depth = depthOf(queryRunner);
    if (depth === 0) {
      // Autocommitted write (e.g. save with { transaction: false }): it is durable already.
      this.sink()?.flush(changes);
      return;
    }
    let buffer = this.buffers.get(queryRunner);
    if (!buffer)
      this.buffers.set(queryRunner, (buffer = new TransactionBuffer()));
    for (const [target, ids] of changes.byTarget)
      for (const [id, change] of ids) buffer.record(depth, target, id, change);
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.sink()?.failed(error);
    }
  }
}

/** Open transaction levels of a QueryRunner (TypeORM keeps the count on every built-in driver). */
function depthOf(queryRunner: QueryRunner): number {
  const depth = (queryRunner as unknown as { transactionDepth?: number })
    .transactionDepth;
  if (typeof depth === 'number') return depth;
  return queryRunner.isTransactionActive ? 1 : 0;
}
