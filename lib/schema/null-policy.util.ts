import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';
import type { CrmPayload } from '../interfaces/crm-payload.interface';
import type { EtlifySerializer } from '../interfaces/serializer.interface';
import type { NullHandling } from './crm-property.interface';

/** `null` clears the CRM value unless told otherwise: the CRM mirrors the database. */
export const DEFAULT_NULL_HANDLING: NullHandling = 'clear';

/** The null handling of each property: the serializer's `crmProperties[name].nulls`, else the entity's. */
export interface NullPolicy {
  default: NullHandling;
  properties: Record<string, NullHandling>;
}

/** Reads and checks the entity's `nulls` and its serializer's per-property ones (boot). */
export function nullPolicyOf(
  entityNulls: NullHandling | undefined,
  serializer: EtlifySerializer,
  where: string,
): NullPolicy {
  const check = (value: unknown, what: string) => {
    if (value !== undefined && value !== 'clear' && value !== 'omit') {
      throw new EtlifyConfigurationError(
        `${where}: ${what} is ${JSON.stringify(value)}; use 'clear' (send "" to clear the CRM value) or 'omit' (leave it)`,
      );
    }
  };
  check(entityNulls, 'nulls');
  const properties: Record<string, NullHandling> = {};
  for (const [name, schema] of Object.entries(serializer.crmProperties ?? {})) {
    check(schema?.nulls, `crmProperties.${name}.nulls`);
    if (schema?.nulls) properties[name] = schema.nulls;
  }
  return { default: entityNulls ?? DEFAULT_NULL_HANDLING, properties };
}

/** Drops the `null`s whose property says `omit`; `clear` nulls stay and are sent as "". */
export function applyNullPolicy(
  payload: CrmPayload,
  policy: NullPolicy,
): CrmPayload {
  let out: CrmPayload | undefined;
  for (const [name, value] of Object.entries(payload)) {
    if (value !== null) continue;
    if ((policy.properties[name] ?? policy.default) !== 'omit') continue;
    out ??= { ...payload };
    delete out[name];
  }
  return out ?? payload;
}

/**
 * The serializer as the sync calls it, with the entity's null handling applied to what it
 * returns, so the digest, the dry run and every adapter see the same payload. Returned as is
 * when every property clears (nothing to do).
 */
export function withNullPolicy<T>(
  serializer: EtlifySerializer<T>,
  policy: NullPolicy,
): EtlifySerializer<T> {
  const omits =
    policy.default === 'omit' ||
    Object.values(policy.properties).includes('omit');
  if (!omits) return serializer;
  // Inherits from the instance: `version`, `crmProperties` and the class name in messages stay.
  const wrapped = Object.create(serializer) as EtlifySerializer<T>;
  wrapped.toCrmPayload = (entity, context) => {
    const out = serializer.toCrmPayload(entity, context);
    return out instanceof Promise
      ? out.then((payload) => applyNullPolicy(payload, policy))
      : applyNullPolicy(out, policy);
  };
  return wrapped;
}
