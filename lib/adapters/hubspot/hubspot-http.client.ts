import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { LoggerService } from '@nestjs/common';
import { HttpService } from '@nestjs/axios';
import axios, { type AxiosResponse } from 'axios';
import { firstValueFrom } from 'rxjs';
import { CrmError } from '../../errors/crm.error';
import type {
  RateBucket,
  RateGovernor,
  RateObservation,
} from '../../interfaces/rate-governor.interface';
import { msUntilUtcMidnight } from '../../rate/rate-governor.util';
import {
  HUBSPOT_HEADERS,
  HUBSPOT_POLICY,
  HUBSPOT_SECONDLY_WAIT_MS,
  HUBSPOT_TEN_SECOND_WINDOW_MS,
} from './hubspot.constants';
import {
  parseErrorBody,
  redact,
  toCrmError,
  transportError,
} from './hubspot-errors.util';
import {
  HubspotRetryPolicy,
  type HubspotRetrySettings,
  type RetryState,
} from './hubspot-retry.policy';

export type HubspotMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface HubspotRequest {
  method: HubspotMethod;
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  /** Search draws from its own per-second budget. Default `standard`. */
  bucket?: RateBucket;
}

export interface HubspotResponse<T> {
  status: number;
  data: T;
  correlationId?: string;
}

export interface HubspotHttpSettings extends HubspotRetrySettings {
  accessToken: string;
  baseUrl: string;
  timeoutMs: number;
  maxSockets: number;
}

/**
 * One HubSpot call end to end: budget from the rate governor, the request over keep-alive
 * sockets (@nestjs/axios), the budget fed back from the answer's headers, retries by policy,
 * and failures mapped to CrmError with the token scrubbed.
 */
export class HubspotHttpClient {
  private readonly http: HttpService;
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;
  private readonly policy: HubspotRetryPolicy;
  private governor?: RateGovernor;

  constructor(
    private readonly settings: HubspotHttpSettings,
    private readonly logger: LoggerService,
  ) {
    this.httpAgent = new HttpAgent({
      keepAlive: true,
      maxSockets: settings.maxSockets,
    });
    this.httpsAgent = new HttpsAgent({
      keepAlive: true,
      maxSockets: settings.maxSockets,
    });
    this.http = new HttpService(
      axios.create({
        baseURL: settings.baseUrl,
        timeout: settings.timeoutMs,
        httpAgent: this.httpAgent,
        httpsAgent: this.httpsAgent,
        headers: {
          Authorization: `Bearer ${settings.accessToken}`,
          'Content-Type': 'application/json',
          Accept: 'application/json',
        },
        // Every status is handled here, so axios never builds an error holding the headers.
        validateStatus: () => true,
        maxRedirects: 0,
      }),
    );
    this.policy = new HubspotRetryPolicy(settings);
  }

  setGovernor(governor: RateGovernor): void {
    this.governor = governor;
  }

  /** Resolves with any 2xx (207 included); throws a CrmError otherwise. */
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
        'HubspotAdapter',
      );
      if (decision.delayMs > 0) await sleep(decision.delayMs);
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private async once<T>(req: HubspotRequest): Promise<HubspotResponse<T>> {
    const bucket = req.bucket ?? 'standard';
    const ctx = { method: req.method, path: req.path };
    await this.governor?.acquire(bucket);
    let response: AxiosResponse<unknown>;
    try {
      response = await firstValueFrom(
        this.http.request({
          method: req.method,
          url: req.path,
          params: req.query,
          data: req.body,
        }),
      );
    } catch (error) {
      throw this.scrubError(transportError(error, ctx));
    }
    const headers = response.headers as Record<string, unknown>;
    const correlationId = header(headers, HUBSPOT_HEADERS.correlationId);
    const observation = observationOf(headers, bucket);
    if (response.status >= 200 && response.status < 300) {
      if (observation) await this.governor?.observe(observation);
      return {
        status: response.status,
        data: response.data as T,
        correlationId,
      };
    }
    const body = parseErrorBody(response.data);
    // A 429 without a policy name is treated as the 10-second window.
    if (response.status === 429) body.policyName ??= HUBSPOT_POLICY.tenSecondly;
    const retryAfterMs = this.retryAfterMs(response.status, body, headers);
    if (response.status === 429) {
      await this.governor?.observe({
        ...(observation ?? {}),
        bucket,
        retryAfterMs,
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
    throw this.scrubError(error);
  }

  /** Retry-After wins; otherwise a 429 waits by its policy and other statuses use backoff. */
  private retryAfterMs(
    status: number,
    body: { policyName?: string },
    headers: Record<string, unknown>,
  ): number | undefined {
    const retryAfter = parseRetryAfter(
      header(headers, HUBSPOT_HEADERS.retryAfter),
    );
    if (retryAfter !== undefined) return retryAfter;
    if (status !== 429) return undefined;
    switch (body.policyName) {
      case HUBSPOT_POLICY.daily:
        return msUntilUtcMidnight(Date.now());
      case HUBSPOT_POLICY.secondly:
        return HUBSPOT_SECONDLY_WAIT_MS;
      default:
        return (
          numberHeader(headers, HUBSPOT_HEADERS.intervalMs) ??
          HUBSPOT_TEN_SECOND_WINDOW_MS
        );
    }
  }

  private scrub(message: string): string {
    return redact(message, this.settings.accessToken);
  }

  private scrubError<E extends CrmError>(error: E): E {
    if (error.message.includes(this.settings.accessToken)) {
      error.message = this.scrub(error.message);
    }
    if (error.stack) error.stack = this.scrub(error.stack);
    return error;
  }
}

function header(
  headers: Record<string, unknown>,
  name: string,
): string | undefined {
  const value = headers[name];
  return value === undefined || value === null ? undefined : String(value);
}

function numberHeader(
  headers: Record<string, unknown>,
  name: string,
): number | undefined {
  const raw = header(headers, name);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  return Number.isFinite(value) ? value : undefined;
}

/** Retry-After in seconds or as an HTTP date, in ms. */
function parseRetryAfter(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

function observationOf(
  headers: Record<string, unknown>,
  bucket: RateBucket,
): RateObservation | undefined {
  const o: RateObservation = {
    bucket,
    max: numberHeader(headers, HUBSPOT_HEADERS.max),
    remaining: numberHeader(headers, HUBSPOT_HEADERS.remaining),
    intervalMs: numberHeader(headers, HUBSPOT_HEADERS.intervalMs),
    daily: numberHeader(headers, HUBSPOT_HEADERS.daily),
    dailyRemaining: numberHeader(headers, HUBSPOT_HEADERS.dailyRemaining),
  };
  return o.remaining === undefined && o.dailyRemaining === undefined
    ? undefined
    : o;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
