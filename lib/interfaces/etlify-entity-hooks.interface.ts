import type {
  EtlifyFailedEvent,
  EtlifySyncedEvent,
} from '../events/etlify-events.interface';

/**
 * Per-entity callbacks, declared with `@EtlifiedEntity({ hooks: UserSyncHooks })`. The class is
 * resolved from DI when it is a provider (so it can inject services), else constructed once.
 * A hook that throws is logged; it never fails the sync.
 */
export interface EtlifyEntityHooks<T = any> {
  /** After the CRM accepted the record and its state was stored. */
  afterSync?(event: EtlifySyncedEvent, record: T): void | Promise<void>;
  /** After a failure was recorded (`event.deadLettered` tells whether it was the last try). */
  onError?(
    event: EtlifyFailedEvent,
    record: T | undefined,
  ): void | Promise<void>;
}
