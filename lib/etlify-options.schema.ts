import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsDefined,
  IsIn,
  IsInt,
  IsOptional,
  IsPositive,
  IsString,
  Matches,
  Max,
  Min,
  ValidateBy,
  ValidateNested,
  ValidationOptions,
} from 'class-validator';
import { CRM_NAME_PATTERN } from './etlify.constants';

/** class-validator schema of the module options; `resolveEtlifyOptions` builds instances by hand. */

function IsAdapterInstance(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isAdapterInstance',
      validator: {
        validate: (value: unknown) =>
          typeof value === 'object' &&
          value !== null &&
          typeof (value as any).upsert === 'function' &&
          typeof (value as any).delete === 'function',
        defaultMessage: (args) =>
          typeof args?.value === 'function'
            ? 'is a class (or function); pass an instance, e.g. `adapter: new HubspotAdapter({ accessToken })`'
            : 'must be an adapter instance with `upsert()` and `delete()` methods (see CrmAdapter)',
      },
    },
    options,
  );
}

function IsFunctionValue(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isFunctionValue',
      validator: {
        validate: (value: unknown) => typeof value === 'function',
        defaultMessage: () => 'must be a function `(payload) => string`',
      },
    },
    options,
  );
}

function IsQueueOption(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isQueueOption',
      validator: {
        validate: (value: unknown) =>
          value === false || (typeof value === 'object' && value !== null),
        defaultMessage: () =>
          'must be `{ name: string, ... }` or `false` for inline sync',
      },
    },
    options,
  );
}

export class RateLimitSchema {
  @IsDefined({ message: 'maxRequests is required (e.g. 190 for HubSpot Pro)' })
  @IsInt()
  @IsPositive({ message: 'maxRequests must be > 0 (e.g. 190 for HubSpot Pro)' })
  maxRequests!: number;

  @IsDefined({ message: 'intervalMs is required (e.g. 10000)' })
  @IsInt()
  @IsPositive({ message: 'intervalMs must be > 0 (e.g. 10000)' })
  intervalMs!: number;

  @IsOptional()
  @IsInt()
  @IsPositive({ message: 'dailyLimit must be > 0 or left out' })
  dailyLimit?: number;

  @IsOptional()
  @IsInt()
  @IsPositive({ message: 'searchPerSecond must be > 0 or left out' })
  searchPerSecond?: number;
}

export class CrmOptionsSchema {
  @IsString({
    message: 'name is required: a unique CRM name such as "hubspot"',
  })
  @Matches(CRM_NAME_PATTERN, {
    message:
      'name must match [a-z0-9_-]+ (lower-case letters, digits, "_" and "-"), e.g. "hubspot"',
  })
  name!: string;

  @IsAdapterInstance()
  adapter!: unknown;

  @IsOptional()
  @IsBoolean({ message: 'enabled must be true or false' })
  enabled?: boolean;

  @IsOptional()
  @ValidateNested()
  rateLimit?: RateLimitSchema;

  @IsOptional()
  @IsInt({ message: 'maxSyncErrors must be a whole number >= 1' })
  @Min(1, {
    message:
      'maxSyncErrors must be >= 1 (records are dead-lettered after that many errors)',
  })
  maxSyncErrors?: number;
}

export class QueueWorkerSchema {
  @IsOptional()
  @IsInt({ message: 'queue.worker.lockDurationMs must be a whole number' })
  @Min(1, { message: 'queue.worker.lockDurationMs must be >= 1' })
  lockDurationMs?: number;

  @IsOptional()
  @IsInt({ message: 'queue.worker.stalledIntervalMs must be a whole number' })
  @Min(1, { message: 'queue.worker.stalledIntervalMs must be >= 1' })
  stalledIntervalMs?: number;
}

export class QueueSchema {
  @IsString({
    message: 'queue.name is required: the queue name, e.g. "etlify"',
  })
  name!: string;

  @IsOptional()
  @IsIn(['bull', 'bullmq'], {
    message: 'queue.driver must be "bull" or "bullmq"',
  })
  driver?: string;

  @IsOptional()
  @ValidateNested()
  worker?: QueueWorkerSchema;

  @IsOptional()
  @IsInt()
  @Min(1, { message: 'queue.concurrency must be >= 1' })
  concurrency?: number;

  @IsOptional()
  @IsInt()
  @Min(0, { message: 'queue.batchWindowMs must be >= 0' })
  batchWindowMs?: number;

  @IsOptional()
  @IsInt()
  @Min(1, { message: 'queue.batchSize must be between 1 and 100' })
  @Max(100, { message: 'queue.batchSize must be between 1 and 100' })
  batchSize?: number;

  @IsOptional()
  @IsInt()
  @Min(1, { message: 'queue.attempts must be >= 1' })
  attempts?: number;

  @IsOptional()
  @IsInt()
  @Min(0, { message: 'queue.backoffMs must be >= 0' })
  backoffMs?: number;

  @IsOptional()
  @IsBoolean({ message: 'queue.processors must be true or false' })
  processors?: boolean;

  @IsOptional()
  @IsInt()
  @Min(1, { message: 'queue.enqueueTimeoutMs must be >= 1' })
  enqueueTimeoutMs?: number;
}

export class StaleSweepSchema {
  @IsString({ message: 'staleSweep.cron is required, e.g. "*/15 * * * *"' })
  cron!: string;

  @IsOptional()
  @IsInt()
  @Min(1, { message: 'staleSweep.batchSize must be >= 1' })
  batchSize?: number;
}

export class EtlifyOptionsSchema {
  @IsArray({ message: 'crms must be an array of CRM declarations' })
  @ArrayNotEmpty({
    message:
      'crms is empty: declare at least one CRM, e.g. [{ name: "hubspot", adapter: new HubspotAdapter({...}) }]',
  })
  @ValidateNested({ each: true })
  crms!: CrmOptionsSchema[];

  @IsOptional()
  @IsQueueOption()
  queue?: QueueSchema | false;

  @IsOptional()
  @IsBoolean({ message: 'capture must be true or false' })
  capture?: boolean;

  @IsOptional()
  staleSweep?: StaleSweepSchema | false;

  @IsOptional()
  @IsFunctionValue()
  digest?: unknown;

  @IsOptional()
  @IsInt({
    message:
      'serializerTimeoutMs must be a whole number of milliseconds >= 1 (how long a serializer may take per record)',
  })
  @Min(1, {
    message:
      'serializerTimeoutMs must be >= 1 (how long a serializer may take per record, in ms)',
  })
  serializerTimeoutMs?: number;

  @IsOptional()
  dataSource?: unknown;
}
