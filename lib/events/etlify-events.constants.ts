/** Names of the events the library emits through @nestjs/event-emitter (`@OnEvent(ETLIFY_EVENTS.synced)`). */
export const ETLIFY_EVENTS = {
  synced: 'etlify.synced',
  notModified: 'etlify.not_modified',
  failed: 'etlify.failed',
  deadLettered: 'etlify.dead_lettered',
  rateLimited: 'etlify.rate_limited',
  deleted: 'etlify.deleted',
  sweepFinished: 'etlify.sweep_finished',
} as const;

export type EtlifyEventName =
  (typeof ETLIFY_EVENTS)[keyof typeof ETLIFY_EVENTS];

/** Category stored for a failure that did not come from the CRM (serializer, invalid payload, bug). */
export const LOCAL_ERROR_CATEGORY = 'LOCAL';
