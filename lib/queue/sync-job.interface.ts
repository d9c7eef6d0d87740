/** What a job carries: identifiers only, never a payload or a token (the payload is recomputed at run time). */
export interface SyncJobData {
  crm: string;
  /** The entity's resource type (class name), as stored in `crm_synchronisations`. */
  resourceType: string;
  resourceId: string;
}
