import { Injectable } from '@nestjs/common';
import { DEFAULT_SERIALIZER_TIMEOUT_MS } from '../etlify.constants';
import type { CrmPayload } from '../interfaces/crm-payload.interface';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type { SerializeContext } from '../interfaces/serializer.interface';
import type { SyncOutcome } from '../interfaces/sync-outcome.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { SyncMonitor } from '../events/sync-monitor.service';
import type { CrmSynchronisation } from './crm-synchronisation.entity';
import { assertValidPayload } from './payload.util';
import { SerializerTimeoutError } from '../errors/serializer-timeout.error';
import { errorMessage } from './redact.util';
import { SyncStateKey, SyncStateStore } from './sync-state.store';
import { Optional } from '@nestjs/common';

/** A record ready for the CRM: its payload and the payload's digest. */
export interface Prepared {
  entity: any;
  key: SyncStateKey;
  payload: CrmPayload;
  digest: string;
  /** The moment of the record's life this payload shows (becomes `last_synced_at`). */
  coveredAt: Date;
}

/**
 * Serializes records and guards the digest. A serializer that throws, answers with something a CRM
 * cannot store, or hangs past `serializerTimeoutMs` fails its own record only.
 */
@Injectable()
export class PayloadPreparer {
  constructor(
    private readonly registry: CrmRegistry,
    private readonly store: SyncStateStore,
    @Optional() private readonly monitor?: SyncMonitor,
  ) {}

  /** The payload and digest of one record, or its `error` outcome (recorded on its state row). */
  async prepare(
    config: EntitySyncConfig,
    entity: any,
    key: SyncStateKey,
    context: SerializeContext,
    coveredAt: Date,
  ): Promise<Prepared | SyncOutcome> {
    try {
      return await this.compute(config, entity, key, context, coveredAt);
    } catch (error) {
      // A bad record is isolated: its error is recorded, the others go on.
      const message = errorMessage(error);
      const crm = this.registry.getCrm(config.crm);
      const row = await this.store.ensure(key);
      const state = await this.store.markFailed(
        row.id,
        null,
        message,
        crm.maxSyncErrors,
      );
      await this.monitor?.failed(config, {
        resourceId: key.resourceId,
        entity,
        error,
        before: row,
        after: state,
        counted: true,
      });
      return {
        crm: crm.name,
        status: 'error',
        error: message,
        counted: true,
        deadLettered: state === 'dead',
      };
    }
  }

  /**
   * A record whose lease we just took, judged again on its fresh row: `unchanged` when another
   * caller pushed the same payload meanwhile; `stale` when it synced a view newer than our copy
   * (reload and try again); else `push`.
   */
  recheck(
    config: EntitySyncConfig,
    seen: CrmSynchronisation,
    fresh: CrmSynchronisation,
    item: Prepared,
  ): 'push' | 'unchanged' | 'stale' {
    if (this.unchanged(config, fresh, item.digest)) return 'unchanged';
    const stamped = fresh.lastSyncedAt?.getTime();
    const moved = stamped !== seen.lastSyncedAt?.getTime();
    return moved && stamped! > item.coveredAt.getTime() ? 'stale' : 'push';
  }

  /** Serialize, validate, digest: no write (the dry run uses it as it is; `prepare` records failures). */
  async compute(
    config: EntitySyncConfig,
    entity: any,
    key: SyncStateKey,
    context: SerializeContext,
    coveredAt: Date,
  ): Promise<Prepared> {
    const payload = await this.serialize(config, entity, context);
    assertValidPayload(payload, config.serializer.constructor.name);
    const digest = this.registry.options.digest(payload);
    return { entity, key, payload, digest, coveredAt };
  }

  /** `not_modified` when the CRM already holds this digest under the current serializer version. */
  unchanged(
    config: EntitySyncConfig,
    row: CrmSynchronisation,
    digest: string,
  ): SyncOutcome | null {
    if (
      !row.crmId ||
      row.lastDigest !== digest ||
      row.serializerVersion !== config.serializerVersion
    ) {
      return null;
    }
    return { crm: config.crm, status: 'not_modified', crmId: row.crmId };
  }

  /**
   * Whether an unchanged record's row should say it was checked now: when it waits on a parent, or
   * the stale finder would otherwise keep finding it (its row, or a `dependencies` record, is newer
   * than `last_synced_at`). A plain unchanged resync costs no statement.
   */
  worthStamping(
    config: EntitySyncConfig,
    row: CrmSynchronisation,
    candidate: Prepared,
  ): boolean {
    if (row.state === 'buffered' || !row.lastSyncedAt) return true;
    if (config.options.dependencies?.length) return true;
    const column = config.updatedAtColumn;
    const updated = column
      ? column.getEntityValue(candidate.entity)
      : undefined;
    if (updated === undefined || updated === null) return true;
    return new Date(updated).getTime() > row.lastSyncedAt.getTime();
  }

  private async serialize(
    config: EntitySyncConfig,
    entity: any,
    context: SerializeContext,
  ): Promise<unknown> {
    const ms =
      config.options.serializerTimeoutMs ??
      this.registry.options.serializerTimeoutMs ??
      DEFAULT_SERIALIZER_TIMEOUT_MS;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SerializerTimeoutError(
              `${config.serializer.constructor.name}.toCrmPayload() did not answer within ${ms} ms (serializerTimeoutMs); the record is left for a retry`,
            ),
          ),
        ms,
      );
      timer.unref();
    });
    try {
      return await Promise.race([
        Promise.resolve().then(() =>
          config.serializer.toCrmPayload(entity, context),
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}
