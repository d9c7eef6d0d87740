import { Injectable } from '@nestjs/common';
import { loadOptionalPackage } from '../ops/optional-package.util';
import { StatusService } from '../ops/status.service';
import { errorMessage } from '../sync/redact.util';
import {
  DEFAULT_HEALTH_THRESHOLDS,
  EtlifyHealthThresholds,
} from './etlify-health.interface';

/** What terminus expects back: `{ [key]: { status, ...details } }`. */
export type EtlifyHealthResult = Record<
  string,
  { status: 'up' | 'down'; [detail: string]: unknown }
>;

type TerminusPackage = {
  HealthCheckError?: new (message: string, causes: unknown) => Error;
};

/**
 * A health indicator for `@nestjs/terminus` (an optional peer): queue backlog and oldest job,
 * dead letters, oldest stale record, Redis reachability and daily quota left, against
 * configurable thresholds. It never calls a CRM.
 *
 * ```ts
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.etlify.isHealthy('etlify', { maxDeadLetters: 10 })]); }
 * ```
 */
@Injectable()
export class EtlifyHealthIndicator {
  constructor(private readonly status: StatusService) {}

  async isHealthy(
    key = 'etlify',
    thresholds: EtlifyHealthThresholds = {},
  ): Promise<EtlifyHealthResult> {
    const terminus = loadOptionalPackage<TerminusPackage>('@nestjs/terminus');
    if (!terminus) {
      throw new Error(
        'EtlifyHealthIndicator needs @nestjs/terminus: npm install @nestjs/terminus, import TerminusModule in your app module, and call isHealthy() from a HealthCheckService.check([...])',
      );
    }
    const limits = { ...DEFAULT_HEALTH_THRESHOLDS, ...thresholds };
    const details: Record<string, unknown> = {};
    const problems: string[] = [];
    try {
      const status = await this.status.status({
        stale: limits.maxOldestStaleAgeMs !== undefined,
        runs: 0,
      });
      details.deadLetters = status.deadLetters;
      if (status.deadLetters > limits.maxDeadLetters)
        problems.push(
          `${status.deadLetters} dead letters (max ${limits.maxDeadLetters})`,
        );
      const queue = status.queue;
      if (queue) {
        details.redis = queue.reachable ? 'reachable' : 'unreachable';
        if (!queue.reachable && limits.requireRedis)
          problems.push(`Redis of queue "${queue.name}" does not answer`);
        if (queue.reachable) {
          const backlog = queue.waiting + queue.delayed + queue.active;
          details.queueBacklog = backlog;
          details.oldestJobAgeMs = queue.oldestJobAgeMs;
          if (backlog > limits.maxQueueBacklog)
            problems.push(
              `queue backlog ${backlog} (max ${limits.maxQueueBacklog})`,
            );
          if (
            limits.maxOldestJobAgeMs !== undefined &&
            (queue.oldestJobAgeMs ?? 0) > limits.maxOldestJobAgeMs
          )
            problems.push(
              `oldest job waits ${queue.oldestJobAgeMs} ms (max ${limits.maxOldestJobAgeMs})`,
            );
        }
      }
      if (limits.maxOldestStaleAgeMs !== undefined) {
        details.oldestStaleAgeMs = status.oldestStaleAgeMs ?? null;
        if ((status.oldestStaleAgeMs ?? 0) > limits.maxOldestStaleAgeMs)
          problems.push(
            `oldest stale record waits ${status.oldestStaleAgeMs} ms (max ${limits.maxOldestStaleAgeMs})`,
          );
      }
      const quotas = status.crms.filter((crm) => crm.dailyQuotaLeft !== null);
      if (quotas.length)
        details.dailyQuotaLeft = Object.fromEntries(
          quotas.map((crm) => [crm.name, crm.dailyQuotaLeft]),
        );
      if (limits.minDailyQuotaLeft !== undefined)
        for (const crm of quotas)
          if (crm.dailyQuotaLeft! < limits.minDailyQuotaLeft)
            problems.push(
              `CRM "${crm.name}" has ${crm.dailyQuotaLeft} calls left today (min ${limits.minDailyQuotaLeft})`,
            );
    } catch (error) {
      problems.push(`status could not be read: ${errorMessage(error)}`);
    }
    const result: EtlifyHealthResult = {
      [key]: {
        status: problems.length ? 'down' : 'up',
        ...details,
        ...(problems.length ? { problems } : {}),
      },
    };
    if (problems.length && terminus.HealthCheckError)
      // Terminus before v11 only understands a thrown HealthCheckError; v11 accepts both.
      throw new terminus.HealthCheckError(
        `etlify: ${problems.join('; ')}`,
        result,
      );
    return result;
  }
}
