import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { LoggerService } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
import axios, { type AxiosResponse } from 'axios';
import { firstValueFrom } from 'rxjs';
import {
  CrmAmbiguousWriteError,
  CrmError,
  CrmTransportError,
} from '../../errors/crm.error';
import type {
  RateBucket,
  RateGovernor,
} from '../../interfaces/rate-governor.interface';
import { HUBSPOT_HEADERS, HUBSPOT_POLICY } from './hubspot.constants';
import { HubspotDailyReset } from './hubspot-daily-reset.util';
import {
  mayHaveApplied,
  parseErrorBody,
  sanitizeItems,
  toCrmError,
  transportError,
} from './hubspot-errors.util';
import { header, observationOf, retryAfterMsOf } from './hubspot-http.util';
import type { HubspotPaths } from './hubspot-paths.util';
import {
  HubspotRetryPolicy,
  type HubspotRetrySettings,
  type RetryState,
} from './hubspot-retry.policy';
import type { SecretRedactor } from '../../sync/redact.util';
import { sleep } from '../../util/sleep.util';

export type HubspotMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** What a 2xx must carry to be usable: a record (`id`), a batch (`results`), or anything. */
export type HubspotExpectedBody = 'record' | 'batch' | 'any';

export interface HubspotRequest {
  method: HubspotMethod;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Search draws from its own per-second budget. Default `standard`. */
  bucket?: RateBucket;
  /**
   * False for a write that is not safe to repeat (a create): a failure that may have been applied
   * is never retried, it throws `CrmAmbiguousWriteError`. Default true.
   */
  idempotent?: boolean;
  /** Default `any`. A 2xx without it is ambiguous (retried when idempotent). */
  expect?: HubspotExpectedBody;
}

export interface HubspotResponse<T> {
  status: number;
  data: T;
  correlationId?: string;
}

export interface HubspotHttpSettings extends HubspotRetrySettings {
  baseUrl: string;
  timeoutMs: number;
  maxSockets: number;
}

/**
 * One HubSpot call end to end: budget from the rate governor, the request over keep-alive
 * sockets (@nestjs/axios), the budget fed back from the answer's headers, retries by policy
 * (only for calls safe to repeat), and failures mapped to CrmError with every echo of the token
 * redacted. The token lives in a private field: inspecting or serializing the client shows none.
 */
export class HubspotHttpClient {
  readonly #token: string;
  private readonly http: HttpService;
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private readonly policy: HubspotRetryPolicy;
  private readonly dailyReset: HubspotDailyReset;
  private governor?: RateGovernor;

  constructor(
    token: string,
    private readonly settings: HubspotHttpSettings,
    private readonly redactor: SecretRedactor,
    paths: HubspotPaths,
    private readonly logger: LoggerService,
  ) {
    this.#token = token;
    this.httpAgent = new HttpAgent({
      keepAlive: true,
      maxSockets: settings.maxSockets,
    });
    this.httpsAgent = new HttpsAgent({
      keepAlive: true,
      maxSockets: settings.maxSockets,
    });
    // No Authorization default here: axios keeps defaults on the instance, readable by anyone.
    this.http = new HttpService(
      axios.create({
        baseURL: settings.baseUrl,
        timeout: settings.timeoutMs,
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
        headers: {
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        // Every status is handled here, so axios never builds an error holding the headers.
        validateStatus: () => true,
        maxRedirects: 0,
      }),
    );
    this.policy = new HubspotRetryPolicy(settings);
    this.dailyReset = new HubspotDailyReset(
      (path) => this.readAccountInfo(path),
      paths,
    );
  }

  setGovernor(governor: RateGovernor): void {
    this.governor = governor;
  }

  /** Removes every echo of the token from a text that is about to be logged or stored. */
  scrub(text: string): string {
    return this.redactor.redact(text);
  }

  /** Resolves with any usable 2xx (207 included); throws a CrmError otherwise. */
  async request<T>(req: HubspotRequest): Promise<HubspotResponse<T>> {
    const state: RetryState = { retries: 0, rateLimitWaits: 0 };
    for (;;) {
      let error: CrmError;
      try {
        return await this.once<T>(req);
      } catch (caught) {
        if (!(caught instanceof CrmError)) throw caught;
        error = caught;
      }
      const decision = this.policy.decide(error, state);
      if (!decision.retry) throw error;
      if (decision.rateLimit) state.rateLimitWaits++;
      else state.retries++;
      this.logger.warn(
        this.scrub(
          `${error.message}; ${decision.rateLimit ? `rate-limit wait ${state.rateLimitWaits}` : `retry ${state.retries}/${this.settings.maxRetries}`} in ${decision.delayMs} ms`,
        ),
        HubspotHttpClient.name,
      );
      if (decision.delayMs > 0) await sleep(decision.delayMs);
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async send(req: HubspotRequest): Promise<AxiosResponse<unknown>> {
    return firstValueFrom(
      this.http.request({
        method: req.method,
        url: req.path,
        params: req.query,
        data: req.body,
        headers: { Authorization: `Bearer ${this.#token}` },
      }),
    );
  }

  private async once<T>(req: HubspotRequest): Promise<HubspotResponse<T>> {
    const bucket = req.bucket ?? 'standard';
    const idempotent = req.idempotent !== false;
    const ctx = { method: req.method, path: req.path };
    await this.governor?.acquire(bucket);
    let response: AxiosResponse<unknown>;
    try {
      response = await this.send(req);
    } catch (error) {
      const failure = transportError(error, ctx);
      if (!idempotent && mayHaveApplied(error)) {
        throw this.scrubError(ambiguous(failure.message));
      }
      throw this.scrubError(failure);
    }
    const headers = response.headers as Record<string, unknown>;
    const correlationId = header(headers, HUBSPOT_HEADERS.correlationId);
    const observation = observationOf(headers, bucket);
    if (response.status >= 200 && response.status < 300) {
      if (observation) await this.governor?.observe(observation);
      if (observation?.dailyRemaining === 0) await this.blockDaily(bucket);
      const data = this.usable(req, response.data);
      if (data === undefined) {
        const message = `HubSpot ${response.status} on ${req.method} ${req.path} carried no usable body${correlationId ? ` (correlation id ${correlationId})` : ''}`;
        throw idempotent
          ? new CrmTransportError(message, {
              category: 'EMPTY_BODY',
              correlationId,
            })
          : ambiguous(message, correlationId);
      }
      return { status: response.status, data: data as T, correlationId };
    }
    const body = parseErrorBody(response.data, this.redactor);
    // A 429 without a policy name is treated as the 10-second window.
    if (response.status === 429) body.policyName ??= HUBSPOT_POLICY.tenSecondly;
    let retryAfterMs = retryAfterMsOf(response.status, body, headers);
    if (response.status === 429 && body.policyName === HUBSPOT_POLICY.daily) {
      retryAfterMs = await this.blockDaily(bucket, observation);
    } else if (retryAfterMs !== undefined && isWait(response.status)) {
      // Every caller stops for the wait; a long one (a 477 can last hours) is probed now and then.
      await this.governor?.observe({
        ...(observation ?? {}),
        bucket,
        retryAfterMs: Math.min(
          retryAfterMs,
          this.settings.maxInlineWaitMs ?? retryAfterMs,
        ),
        policy: body.policyName,
      });
    } else if (observation) {
      await this.governor?.observe(observation);
    }
    const error = toCrmError(response.status, body, {
      ...ctx,
      correlationId,
      retryAfterMs,
    });
    if (!idempotent && response.status >= 500) {
      throw this.scrubError(ambiguous(error.message, correlationId));
    }
    throw this.scrubError(error);
  }

  /** Tells every governor to stop until the portal's quota resets; resolves with that wait. */
  private async blockDaily(
    bucket: RateBucket,
    observation?: object,
  ): Promise<number> {
    const retryAfterMs = await this.dailyReset.msUntilReset();
    await this.governor?.observe({
      ...(observation ?? {}),
      bucket,
      retryAfterMs,
      policy: HUBSPOT_POLICY.daily,
    });
    return retryAfterMs;
  }

  /** GET outside the governor (its daily budget is spent) and without retries. */
  private async readAccountInfo(path: string): Promise<unknown> {
    try {
      const response = await this.send({ method: 'GET', path });
      return response.status >= 200 && response.status < 300
        ? response.data
        : undefined;
    } catch {
      return undefined;
    }
  }

  /** The parsed body when it has what the caller needs; undefined when it is empty or cut. */
  private usable(req: HubspotRequest, data: unknown): unknown {
    let value = data;
    if (typeof value === 'string') {
      if (value.trim() === '') value = undefined;
      else {
        try {
          value = JSON.parse(value);
        } catch {
          value = undefined;
        }
      }
    }
    const expect = req.expect ?? 'any';
    if (expect === 'any') return value ?? {};
    if (!value || typeof value !== 'object') return undefined;
    const body = value as Record<string, unknown>;
    if (expect === 'record') {
      const id = body.id;
      return (typeof id === 'string' && id !== '' && id !== 'undefined') ||
        typeof id === 'number'
        ? body
        : undefined;
    }
    if (!Array.isArray(body.results) && !Array.isArray(body.errors))
      return undefined;
    return {
      ...body,
      results: Array.isArray(body.results) ? body.results : [],
      errors: Array.isArray(body.errors)
        ? sanitizeItems(body.errors, this.redactor)
        : undefined,
    };
  }

  private scrubError<E extends CrmError>(error: E): E {
    error.message = this.scrub(error.message);
    if (error.stack) error.stack = this.scrub(error.stack);
    return error;
  }
}

/** 423, 429 and 477 were not applied: their Retry-After blocks the bucket for every caller. */
function isWait(status: number): boolean {
  return status === 429 || status === 477;
}

function ambiguous(
  message: string,
  correlationId?: string,
): CrmAmbiguousWriteError {
  return new CrmAmbiguousWriteError(
    `${message}; HubSpot may have applied it, so it is not repeated before it is settled`,
    { correlationId },
  );
}
