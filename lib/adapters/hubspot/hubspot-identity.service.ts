import { CrmAuthError } from '../../errors/crm.error';
import {
  HUBSPOT_CONTACT_EMAIL,
  HUBSPOT_CONTACTS,
  HUBSPOT_OBJECT_ID_PROPERTY,
} from './hubspot.constants';
import type { HubspotHttpClient } from './hubspot-http.client';
import type { HubspotPaths } from './hubspot-paths.util';
import {
  blankIdPropertyError,
  idValueOf,
  type HubspotProperties,
} from './hubspot-payload.util';

/** How a record without a CRM id is written the first time. */
export type FirstWrite =
  /** Safe to repeat: batch upsert by a unique property. */
  | {
      kind: 'upsert';
      idProperty: string;
      value: string;
      props: HubspotProperties;
    }
  /**
   * Not safe to repeat: searched for first, created when not found; `match` (when set) is how a
   * lost answer is settled by reading it back.
   */
  | {
      kind: 'create';
      props: HubspotProperties;
      match?: { property: string; value: string };
    };

interface PropertyInfo {
  name?: string;
  type?: string;
  hasUniqueValue?: boolean;
}

/** An address HubSpot can take as a contact's email (its TLD is checked by HubSpot itself). */
const USABLE_EMAIL = /^[^\s@]+@[^\s@]+\.[A-Za-z]{2,}$/;

/**
 * Decides how each record is identified in HubSpot: contacts by email, other records by the
 * caller's unique id property or by the library's own key property (`hasUniqueValue`), whose
 * value is a stable key per record. Reads each object type's properties once.
 */
export class HubspotIdentity {
  private readonly cache = new Map<
    string,
    Promise<Map<string, PropertyInfo>>
  >();
  private readonly warned = new Set<string>();

  constructor(
    private readonly client: HubspotHttpClient,
    private readonly paths: HubspotPaths,
    readonly keyProperty: string | undefined,
    private readonly warn: (message: string) => void,
    private readonly crmName: () => string,
  ) {}

  /** The first write of a record: an upsert whenever HubSpot offers a unique key for it. */
  async firstWrite(
    type: string,
    props: HubspotProperties,
    idProperty: string | undefined,
    recordKey: string | undefined,
  ): Promise<FirstWrite> {
    const value = idValueOf(props, idProperty);
    if (idProperty && value && (await this.upsertable(type, idProperty, value)))
      return { kind: 'upsert', idProperty, value, props };
    const email = usableEmail(type, props);
    if (email)
      return {
        kind: 'upsert',
        idProperty: HUBSPOT_CONTACT_EMAIL,
        value: email,
        props,
      };
    if (recordKey && (await this.keyReady(type))) {
      const key = this.keyProperty!;
      return {
        kind: 'upsert',
        idProperty: key,
        value: recordKey,
        props: { ...props, [key]: recordKey },
      };
    }
    if (idProperty && !value) throw blankIdPropertyError(type, idProperty);
    const match = value
      ? { property: idProperty!, value }
      : props[HUBSPOT_CONTACT_EMAIL]?.trim() && type === HUBSPOT_CONTACTS
        ? { property: HUBSPOT_CONTACT_EMAIL, value: props.email.trim() }
        : undefined;
    return { kind: 'create', props, match };
  }

  /** Whether batch upsert can key on `idProperty`: a usable contact email, or a unique property. */
  async upsertable(
    type: string,
    idProperty: string,
    value?: string,
  ): Promise<boolean> {
    if (idProperty === HUBSPOT_OBJECT_ID_PROPERTY) return false;
    if (type === HUBSPOT_CONTACTS && idProperty === HUBSPOT_CONTACT_EMAIL)
      return value === undefined || USABLE_EMAIL.test(value);
    return !!(await this.properties(type)).get(idProperty)?.hasUniqueValue;
  }

  /** Whether the key property exists on `type` as a unique string property; warns once if not. */
  async keyReady(type: string): Promise<boolean> {
    const name = this.keyProperty;
    if (!name) return false;
    const def = (await this.properties(type)).get(name);
    const ready = !!def?.hasUniqueValue && def.type === 'string';
    if (!ready && !this.warned.has(type)) {
      this.warned.add(type);
      this.warn(
        def
          ? `${this.crmName()}: ${type}.${name} exists but is not a unique string property; first writes of ${type} are creates that cannot be repeated safely. Fix the property in HubSpot, or choose another keyProperty and run \`etlify provision --apply\``
          : `${this.crmName()}: ${type} has no ${name} property; first writes of ${type} are creates that cannot be repeated safely. Run \`etlify provision --apply\` (needs the crm.schemas.${schemaScopeOf(type)}.write scope)`,
      );
    }
    return ready;
  }

  /** Forgets what was read of `type` (after provisioning). */
  forget(type?: string): void {
    if (type) this.cache.delete(type);
    else this.cache.clear();
  }

  private properties(type: string): Promise<Map<string, PropertyInfo>> {
    let found = this.cache.get(type);
    if (!found) {
      found = this.fetch(type);
      this.cache.set(type, found);
      // A transient failure is not remembered: the next call asks again.
      found.catch(() => this.cache.delete(type));
    }
    return found;
  }

  private async fetch(type: string): Promise<Map<string, PropertyInfo>> {
    try {
      const response = await this.client.request<{ results?: PropertyInfo[] }>({
        method: 'GET',
        path: this.paths.properties(type),
      });
      return new Map(
        (response.data?.results ?? [])
          .filter((p) => p?.name)
          .map((p) => [p.name!, p]),
      );
    } catch (error) {
      if (!(error instanceof CrmAuthError)) throw error;
      this.warn(
        `${this.crmName()}: cannot read the ${type} properties (${error.message}); grant crm.schemas.${schemaScopeOf(type)}.read so records can be upserted by a unique property`,
      );
      return new Map();
    }
  }
}

/** The email of a contact when HubSpot can upsert by it. */
export function usableEmail(
  type: string,
  props: HubspotProperties,
): string | undefined {
  if (type !== HUBSPOT_CONTACTS) return undefined;
  const email = props[HUBSPOT_CONTACT_EMAIL]?.trim();
  return email && USABLE_EMAIL.test(email) ? email : undefined;
}

/** The part of a schema scope naming the object type: `crm.schemas.<this>.write`. */
export function schemaScopeOf(type: string): string {
  const native: Record<string, string> = {
    contacts: 'contacts',
    '0-1': 'contacts',
    companies: 'companies',
    '0-2': 'companies',
    deals: 'deals',
    '0-3': 'deals',
  };
  return native[type] ?? 'custom';
}
