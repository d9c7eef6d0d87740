import type { CrmAdapter } from '../interfaces/crm-adapter.interface';
import type { EtlifyMetrics } from './etlify-metrics.service';

/** Adapter methods that reach the CRM, and how to read their batch size. */
const TIMED: Record<string, ((req: any) => number | undefined) | null> = {
  upsert: null,
  delete: null,
  read: null,
  batchUpsert: (req) => req?.records?.length,
  batchDelete: (req) => req?.crmIds?.length,
};

/**
 * A view of the user's adapter that times its CRM calls. A Proxy, so methods added to adapters
 * later (and `instanceof`) keep working; optional methods stay absent when the adapter lacks them.
 */
export function instrumentAdapter(
  adapter: CrmAdapter,
  crm: string,
  metrics: EtlifyMetrics,
): CrmAdapter {
  // Keyed by the original function, so a method reassigned on the instance is wrapped afresh.
  const wrapped = new WeakMap<Function, Function>();
  return new Proxy(adapter, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      // The class itself stays as it is: `adapter.constructor.name` must still name the user's class.
      if (typeof value !== 'function' || property === 'constructor')
        return value as unknown;
      const known = wrapped.get(value as Function);
      if (known) return known;
      const sizeOf =
        typeof property === 'string' && property in TIMED
          ? TIMED[property]
          : undefined;
      const fn: Function =
        sizeOf === undefined
          ? value.bind(target)
          : timed(value.bind(target), crm, String(property), sizeOf, metrics);
      wrapped.set(value as Function, fn);
      return fn;
    },
  });
}

function timed(
  call: (req: unknown) => Promise<unknown>,
  crm: string,
  operation: string,
  sizeOf: ((req: unknown) => number | undefined) | null,
  metrics: EtlifyMetrics,
) {
  return async (req: unknown) => {
    const started = performance.now();
    const size = sizeOf?.(req);
    try {
      const result = await call(req);
      metrics.crmCall(crm, operation, true, performance.now() - started, size);
      return result;
    } catch (error) {
      metrics.crmCall(crm, operation, false, performance.now() - started, size);
      throw error;
    }
  };
}
