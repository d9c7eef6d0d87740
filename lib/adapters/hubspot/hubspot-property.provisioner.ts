import {
  CrmAuthError,
  CrmError,
  CrmNotFoundError,
} from '../../errors/crm.error';
import type { HubspotHttpClient } from './hubspot-http.client';
import { schemaScopeOf } from './hubspot-identity.service';
import type { HubspotPaths } from './hubspot-paths.util';

/** A CRM property as `etlify provision` / `sync-properties` want it to be. */
export interface PropertyDefinition {
  name: string;
  label: string;
  /** HubSpot property type (`string`, `number`, `date`, `datetime`, `enumeration`, `bool`). */
  type: string;
  /** HubSpot field type (`text`, `number`, `date`, `select`, `booleancheckbox`, …). */
  fieldType: string;
  groupName: string;
  description?: string;
  hasUniqueValue?: boolean;
  /** Hidden from HubSpot's forms and record sidebar. */
  hidden?: boolean;
}

export type ProvisionStatus =
  /** Present and as required. */
  | 'ok'
  /** Missing; created (`apply`) or would be (dry run). */
  | 'created'
  | 'would_create'
  /** Present but different in a way that matters (`problems` says how); never changed here. */
  | 'mismatch'
  /** The token lacks a scope (`missingScopes` names it). */
  | 'forbidden'
  | 'error';

export interface ProvisionResult {
  objectType: string;
  name: string;
  status: ProvisionStatus;
  /** One sentence for a person: what was found and what to do. */
  message: string;
  problems?: string[];
  missingScopes?: string[];
}

/**
 * Creates a property when it is missing and checks it when present, through HubSpot's properties
 * API. Dry run unless `apply`. A present property is never altered: a mismatch (e.g. not unique)
 * is reported with the fix, because changing a live property can break other integrations.
 */
export class HubspotPropertyProvisioner {
  constructor(
    private readonly client: HubspotHttpClient,
    private readonly paths: HubspotPaths,
  ) {}

  async ensure(
    objectType: string,
    definition: PropertyDefinition,
    options: { apply?: boolean } = {},
  ): Promise<ProvisionResult> {
    const base = { objectType, name: definition.name };
    let current: Record<string, unknown> | undefined;
    try {
      const response = await this.client.request<Record<string, unknown>>({
        method: 'GET',
        path: this.paths.property(objectType, definition.name),
      });
      current = response.data;
    } catch (error) {
      if (!(error instanceof CrmNotFoundError))
        return this.failed(base, error, 'read');
    }
    if (current) {
      const problems = mismatches(current, definition);
      return problems.length
        ? {
            ...base,
            status: 'mismatch',
            problems,
            message: `${objectType}.${definition.name} exists but ${problems.join('; ')}: fix it in HubSpot (a unique property cannot be made unique later; create it under another name and set keyProperty)`,
          }
        : {
            ...base,
            status: 'ok',
            message: `${objectType}.${definition.name} is in place`,
          };
    }
    if (!options.apply) {
      return {
        ...base,
        status: 'would_create',
        message: `${objectType}.${definition.name} is missing; run with --apply to create it`,
      };
    }
    try {
      await this.client.request({
        method: 'POST',
        path: this.paths.properties(objectType),
        body: {
          name: definition.name,
          label: definition.label,
          type: definition.type,
          fieldType: definition.fieldType,
          groupName: definition.groupName,
          description: definition.description,
          hasUniqueValue: definition.hasUniqueValue ?? false,
          formField: false,
          hidden: definition.hidden ?? false,
        },
      });
    } catch (error) {
      return this.failed(base, error, 'write');
    }
    return {
      ...base,
      status: 'created',
      message: `${objectType}.${definition.name} created`,
    };
  }

  private failed(
    base: { objectType: string; name: string },
    error: unknown,
    access: 'read' | 'write',
  ): ProvisionResult {
    if (error instanceof CrmAuthError && error.status === 403) {
      const needed = `crm.schemas.${schemaScopeOf(base.objectType)}.${access}`;
      const missingScopes = error.requiredScopes?.length
        ? error.requiredScopes
        : [needed];
      return {
        ...base,
        status: 'forbidden',
        missingScopes,
        message: `cannot ${access} the ${base.objectType} properties: the token lacks the scope ${missingScopes.join(' or ')}; add it to the private app (Settings → Integrations → Private apps → Scopes) and run again`,
      };
    }
    const message = error instanceof Error ? error.message : String(error);
    return {
      ...base,
      status: 'error',
      message: `cannot ${access} ${base.objectType}.${base.name}: ${message}${error instanceof CrmError && error.retryable ? ' (transient; run again)' : ''}`,
    };
  }
}

/** The library's key property: unique, string, hidden from forms. */
export function keyPropertyDefinition(
  name: string,
  objectType: string,
): PropertyDefinition {
  return {
    name,
    label: 'Etlify key',
    type: 'string',
    fieldType: 'text',
    groupName: INFORMATION_GROUPS[schemaScopeOf(objectType)] ?? 'etlify',
    description:
      'Stable key of the record in the application that syncs it (nestjs-etlify); keeps first writes safe to repeat. Do not edit.',
    hasUniqueValue: true,
    hidden: true,
  };
}

/** Each native object's default property group. */
const INFORMATION_GROUPS: Record<string, string> = {
  contacts: 'contactinformation',
  companies: 'companyinformation',
  deals: 'dealinformation',
};

function mismatches(
  current: Record<string, unknown>,
  wanted: PropertyDefinition,
): string[] {
  const problems: string[] = [];
  if (wanted.hasUniqueValue && current.hasUniqueValue !== true)
    problems.push('it is not unique (hasUniqueValue is false)');
  if (current.type !== wanted.type)
    problems.push(`its type is ${String(current.type)}, not ${wanted.type}`);
  return problems;
}
