import type { StaleReason, SyncExplanation } from './explain.interface';

const at = (date: Date | null | undefined) =>
  date ? date.toISOString() : 'an unknown time';

function failure(e: SyncExplanation): string {
  const details = [
    e.errorCategory,
    e.correlationId ? `correlation id ${e.correlationId}` : undefined,
  ].filter(Boolean);
  return `${e.lastError ?? 'no error recorded'}${details.length ? ` (${details.join(', ')})` : ''}`;
}

function reason(r: StaleReason): string {
  switch (r.kind) {
    case 'own_change':
      return `its row changed at ${at(r.changedAt)}`;
    case 'dependency':
      return `its dependency "${r.dependency}" changed at ${at(r.changedAt)}`;
    case 'serializer_version':
      return 'its serializer version changed';
    default:
      return 'its payload no longer matches the one last sent';
  }
}

function jobs(e: SyncExplanation): string {
  return e.jobs
    .map(
      (job) =>
        `${job.name} job ${job.id} (${job.state} since ${at(job.enqueuedAt)})`,
    )
    .join(', ');
}

/** The one-sentence answer `explain` gives, built from the structured one. */
export function explainSentence(e: SyncExplanation): string {
  const who = `${e.entity}#${e.id} in ${e.crm}`;
  let text: string;
  switch (e.state) {
    case 'disabled':
      text = `${who}: CRM "${e.crm}" is disabled, nothing is synced to it`;
      break;
    case 'not_found':
      text = `${who} does not exist in the database${e.syncState ? ' (its state row has no CRM id)' : ''} and has no CRM copy`;
      break;
    case 'delete_pending':
      text = `${who} is gone from the database but its CRM record ${e.crmId} is not deleted yet${e.lastError ? `; the last delete failed: ${failure(e)}` : ''}`;
      break;
    case 'dead_lettered':
      text = `${who} is dead-lettered after ${e.errorCount} errors; last error: ${failure(e)}; retry it with retryDeadLetter or \`etlify dead-letters retry\``;
      break;
    case 'discarded':
      text = `${who} was a dead letter discarded at ${at(e.discardedAt)} (${e.discardReason ?? 'no reason given'}); it is synced again when it changes`;
      break;
    case 'skipped':
      text = `${who} is never synced: syncIf returns false for it`;
      break;
    case 'buffered':
      text = `${who} is buffered: it waits for ${e.waitingOn.map((w) => `${w.entity}#${w.id} (${w.relation})`).join(', ')} to get a CRM id first`;
      break;
    case 'queued':
      text = `${who} is in the queue now: ${jobs(e)}`;
      break;
    case 'error':
      text = `${who}: the last sync failed (${e.errorCount} of ${e.maxSyncErrors} errors before it is dead-lettered) and will be retried; last error: ${failure(e)}`;
      break;
    case 'never_synced':
      text = e.syncState
        ? `${who} has never been synced (state ${e.syncState}); the queue or the stale sweeper will pick it up`
        : `${who} has never been synced: there is no sync state for it yet (the capture or the stale sweeper has not seen it)`;
      break;
    case 'stale':
      text = `${who} is stale: synced at ${at(e.lastSyncedAt)} as CRM id ${e.crmId}, but ${e.staleReasons.map(reason).join(' and ')}`;
      break;
    case 'not_modified':
      text = `${who} is not modified since ${at(e.lastSyncedAt)} (CRM id ${e.crmId}): ${e.staleReasons.map(reason).join(' and ')}, but the payload is the same, so no CRM call is needed`;
      break;
    default:
      text = `${who} is synced: at ${at(e.lastSyncedAt)} as CRM id ${e.crmId}, unchanged since`;
  }
  if (e.payloadError) text += `; its serializer fails now: ${e.payloadError}`;
  if (e.state !== 'queued' && e.jobs.length)
    text += `; in the queue: ${jobs(e)}`;
  if (e.remote) {
    text += !e.remote.found
      ? '; the CRM has no such record'
      : e.remote.diff.length
        ? `; the CRM record differs in ${e.remote.diff.map((d) => d.property).join(', ')}`
        : '; the CRM record matches the payload';
  }
  return `${text}.`;
}
