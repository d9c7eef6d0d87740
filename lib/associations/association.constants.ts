/** Table of the association sets pushed per record (`CrmAssociationState`). */
export const ASSOCIATION_STATE_TABLE = 'crm_association_states';

/** Ids per statement, well under every dialect's parameter limit. */
export const ASSOCIATION_CHUNK = 500;

/** How long an association push may hold its records before another caller takes over. */
export const ASSOCIATION_LEASE_MS = 15_000;

/** How often a caller waiting for another's association push looks again. */
export const ASSOCIATION_LEASE_POLL_MS = 50;

/** Token of the association sync the engine calls after records are synced (absent: no hook). */
export const ETLIFY_ASSOCIATION_SYNC = 'ETLIFY_ASSOCIATION_SYNC';
