import { CronTime } from 'cron';
import { ValidationError, validateSync } from 'class-validator';
import type { DataSource } from 'typeorm';
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_BATCH_SIZE,
  DEFAULT_BATCH_WINDOW_MS,
  DEFAULT_ENQUEUE_TIMEOUT_MS,
  DEFAULT_JOB_ATTEMPTS,
  DEFAULT_MAX_SYNC_ERRORS,
  DEFAULT_QUEUE_CONCURRENCY,
  DEFAULT_SERIALIZER_TIMEOUT_MS,
  DEFAULT_STALE_BATCH_SIZE,
} from './etlify.constants';
import {
  CrmOptionsSchema,
  EtlifyOptionsSchema,
  QueueSchema,
  QueueWorkerSchema,
  RateLimitSchema,
  StaleSweepSchema,
} from './etlify-options.schema';
import { EtlifyConfigurationError } from './errors/etlify-configuration.error';
import type { CrmAdapter } from './interfaces/crm-adapter.interface';
import type { CrmPayload } from './interfaces/crm-payload.interface';
import type {
  EtlifyQueueDriver,
  EtlifyModuleOptions,
  RateLimitOptions,
} from './interfaces/etlify-options.interface';
import { sha256Digest } from './sync/digest.util';

export interface ResolvedCrmOptions {
  name: string;
  adapter: CrmAdapter;
  enabled: boolean;
  rateLimit?: RateLimitOptions;
  maxSyncErrors: number;
}

export interface ResolvedEtlifyOptions {
  crms: ResolvedCrmOptions[];
  queue:
    | {
        name: string;
        driver: EtlifyQueueDriver;
        concurrency: number;
        batchWindowMs: number;
        batchSize: number;
        attempts: number;
        backoffMs: number;
        processors: boolean;
        enqueueTimeoutMs: number;
      }
    | false;
  capture: boolean;
  staleSweep: { cron: string; batchSize: number } | false;
  digest: (payload: CrmPayload) => string;
  dataSource?: string | DataSource;
  serializerTimeoutMs: number;
}

/** Validates the user's options and merges every default, once. Throws EtlifyConfigurationError. */
export function resolveEtlifyOptions(
  raw: EtlifyModuleOptions,
): ResolvedEtlifyOptions {
  if (!raw || typeof raw !== 'object') {
    throw new EtlifyConfigurationError(
      'EtlifyModule options are missing: call EtlifyModule.forRoot({ crms: [...] })',
    );
  }
  const schema = Object.assign(new EtlifyOptionsSchema(), raw);
  schema.crms = Array.isArray(raw.crms)
    ? raw.crms.map((crm) => {
        const instance = Object.assign(new CrmOptionsSchema(), crm);
        if (
          crm &&
          typeof crm.rateLimit === 'object' &&
          crm.rateLimit !== null
        ) {
          instance.rateLimit = Object.assign(
            new RateLimitSchema(),
            crm.rateLimit,
          );
        }
        return instance;
      })
    : (raw.crms as any);
  const errors = validateSync(schema, {
    whitelist: true,
    forbidNonWhitelisted: true,
  });
  if (raw.queue && typeof raw.queue === 'object') {
    errors.push(
      ...prefix(
        validateSync(queueSchema(raw.queue), {
          whitelist: true,
          forbidNonWhitelisted: true,
        }),
        'queue',
      ),
    );
  }
  if (raw.staleSweep !== undefined && raw.staleSweep !== false) {
    if (typeof raw.staleSweep !== 'object' || raw.staleSweep === null) {
      throw new EtlifyConfigurationError(
        'EtlifyModule option "staleSweep" must be `{ cron: "*/15 * * * *", batchSize?: 1000 }` or `false`',
      );
    }
    errors.push(
      ...prefix(
        validateSync(Object.assign(new StaleSweepSchema(), raw.staleSweep), {
          whitelist: true,
          forbidNonWhitelisted: true,
        }),
        'staleSweep',
      ),
    );
  }
  if (errors.length) {
    throw new EtlifyConfigurationError(
      `EtlifyModule options are invalid:\n${flatten(errors, raw)
        .map((line) => `  - ${line}`)
        .join('\n')}`,
    );
  }

  const seen = new Set<string>();
  for (const crm of raw.crms) {
    if (seen.has(crm.name)) {
      throw new EtlifyConfigurationError(
        `EtlifyModule options are invalid: CRM name "${crm.name}" is declared twice in crms; give each CRM a unique name`,
      );
    }
    seen.add(crm.name);
  }

  if (raw.staleSweep) {
    try {
      new CronTime(raw.staleSweep.cron);
    } catch (error) {
      throw new EtlifyConfigurationError(
        `EtlifyModule option staleSweep.cron "${raw.staleSweep.cron}" is not a valid cron expression (${
          (error as Error).message
        }); use 5 or 6 fields, e.g. "*/15 * * * *"`,
      );
    }
  }

  return {
    crms: raw.crms.map((crm) => ({
      name: crm.name,
      adapter: crm.adapter,
      enabled: crm.enabled ?? true,
      rateLimit: crm.rateLimit,
      maxSyncErrors: crm.maxSyncErrors ?? DEFAULT_MAX_SYNC_ERRORS,
    })),
    queue: raw.queue
      ? {
          name: raw.queue.name,
          driver: raw.queue.driver ?? 'bull',
          concurrency: raw.queue.concurrency ?? DEFAULT_QUEUE_CONCURRENCY,
          batchWindowMs: raw.queue.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS,
          batchSize: raw.queue.batchSize ?? DEFAULT_BATCH_SIZE,
          attempts: raw.queue.attempts ?? DEFAULT_JOB_ATTEMPTS,
          backoffMs: raw.queue.backoffMs ?? DEFAULT_BACKOFF_MS,
          processors: raw.queue.processors ?? true,
          enqueueTimeoutMs:
            raw.queue.enqueueTimeoutMs ?? DEFAULT_ENQUEUE_TIMEOUT_MS,
        }
      : false,
    capture: raw.capture ?? true,
    staleSweep: raw.staleSweep
      ? {
          cron: raw.staleSweep.cron,
          batchSize: raw.staleSweep.batchSize ?? DEFAULT_STALE_BATCH_SIZE,
        }
      : false,
    digest: raw.digest ?? sha256Digest,
    dataSource: raw.dataSource,
    serializerTimeoutMs:
      raw.serializerTimeoutMs ?? DEFAULT_SERIALIZER_TIMEOUT_MS,
  };
}

function prefix(errors: ValidationError[], name: string): ValidationError[] {
  return errors.map((error) => ({
    ...error,
    property: `${name}.${error.property}`,
  }));
}

/** One readable line per failed constraint, naming the option path (and the CRM by name). */
function flatten(
  errors: ValidationError[],
  raw: EtlifyModuleOptions,
  path = '',
): string[] {
  const lines: string[] = [];
  for (const error of errors) {
    let property = error.property;
    if (path === 'crms' && /^\d+$/.test(property)) {
      const name = (raw.crms as any)?.[Number(property)]?.name;
      property = `[${property}]${typeof name === 'string' ? ` (CRM "${name}")` : ''}`;
    } else if (path) {
      property = `.${property}`;
    }
    const here = `${path}${property}`;
    for (const [constraint, message] of Object.entries(
      error.constraints ?? {},
    )) {
      if (constraint === 'whitelistValidation') {
        lines.push(
          `"${here}" is not a known option; remove it or check its spelling (see the README's option list)`,
        );
      } else {
        lines.push(
          message.startsWith(error.property)
            ? `${path ? path + '.' : ''}${message}`
            : `${here} ${message}`,
        );
      }
    }
    if (error.children?.length)
      lines.push(...flatten(error.children, raw, here));
  }
  return lines;
}

/** The queue schema with its nested worker options, so whitelisting checks both. */
function queueSchema(queue: object): QueueSchema {
  const schema = Object.assign(new QueueSchema(), queue);
  if (typeof schema.worker === 'object' && schema.worker !== null)
    schema.worker = Object.assign(new QueueWorkerSchema(), schema.worker);
  return schema;
}
