import { HUBSPOT_ACCOUNT_PATHS } from './hubspot.constants';

/**
 * Paths of the HubSpot endpoints the adapter calls, for one API version: `v3` keeps the legacy
 * `/crm/v3/objects/{type}` layout, a date version uses `/crm/objects/{version}/{type}`.
 */
export class HubspotPaths {
  private readonly objectsRoot: string;
  private readonly propertiesRoot: string;

  constructor(readonly apiVersion: string) {
    const legacy = /^v\d+$/.test(apiVersion);
    this.objectsRoot = legacy
      ? `/crm/${apiVersion}/objects`
      : `/crm/objects/${apiVersion}`;
    this.propertiesRoot = legacy
      ? `/crm/${apiVersion}/properties`
      : `/crm/properties/${apiVersion}`;
  }

  /** True from 2026-09: batch writes report per-input errors inside 200/201 bodies. */
  get errorsInBody(): boolean {
    return !/^v\d+$/.test(this.apiVersion) && this.apiVersion >= '2026-09';
  }

  objects(type: string): string {
    return `${this.objectsRoot}/${encodeURIComponent(type)}`;
  }

  object(type: string, id: string): string {
    return `${this.objects(type)}/${encodeURIComponent(id)}`;
  }

  batch(type: string, action: string): string {
    return `${this.objects(type)}/batch/${action}`;
  }

  search(type: string): string {
    return `${this.objects(type)}/search`;
  }

  properties(type: string): string {
    return `${this.propertiesRoot}/${encodeURIComponent(type)}`;
  }

  property(type: string, name: string): string {
    return `${this.properties(type)}/${encodeURIComponent(name)}`;
  }

  get dailyUsage(): string {
    return HUBSPOT_ACCOUNT_PATHS.dailyUsage;
  }

  get accountDetails(): string {
    return HUBSPOT_ACCOUNT_PATHS.details;
  }
}
