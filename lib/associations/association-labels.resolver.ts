import { Injectable, Logger } from '@nestjs/common';
import { EtlifyConfigurationError } from '../errors/etlify-configuration.error';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import type {
  CrmAssociationLabel,
  CrmAssociationType,
} from '../interfaces/crm-association.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { errorMessage } from '../sync/redact.util';
import type { AssociationSpec } from './association-spec.interface';
import { crmTypeKey } from '../util/crm-key.util';

/**
 * Association types of each declaration, with labels named by their label resolved to type ids
 * through the CRM's labels API: at boot (a label that does not exist fails the boot), or at the
 * first sync when the CRM could not be asked at boot.
 */
@Injectable()
export class AssociationLabelResolver {
  private readonly logger = new Logger(AssociationLabelResolver.name);
  private readonly labels = new Map<string, Promise<CrmAssociationLabel[]>>();

  constructor(private readonly registry: CrmRegistry) {}

  /** Resolves every label of every enabled CRM; a missing label throws EtlifyConfigurationError. */
  async resolveAll(): Promise<void> {
    for (const config of this.registry.getEntityConfigs()) {
      if (!this.registry.getCrm(config.crm).enabled) continue;
      for (const spec of config.associations ?? []) {
        try {
          await this.typesOf(config, spec);
        } catch (error) {
          if (error instanceof EtlifyConfigurationError) throw error;
          this.logger.warn(
            `${config.resourceType}.${spec.name} → ${config.crm}: association labels could not be read at boot (${errorMessage(error)}); trying again at the first sync`,
          );
        }
      }
    }
  }

  /** The spec's types with ids; empty: the pair's default (unlabeled) association. */
  async typesOf(
    config: EntitySyncConfig,
    spec: AssociationSpec,
  ): Promise<CrmAssociationType[]> {
    for (const type of spec.types) {
      if (type.typeId !== undefined) continue;
      const labels = await this.labelsOf(config, spec);
      const wanted = type.label!.trim().toLowerCase();
      const found = labels.find(
        (l) => l.label?.trim().toLowerCase() === wanted,
      );
      if (!found) {
        const known = labels
          .filter((l) => l.label)
          .map((l) => `"${l.label}" (${l.typeId})`);
        throw new EtlifyConfigurationError(
          `@EtlifiedEntity on ${config.resourceType} (CRM "${config.crm}"): association "${spec.name}" names the label "${type.label}", which ${config.options.crmObjectType} → ${spec.toObjectType} does not have; labels are ${known.join(', ') || '(none)'}. Create it in HubSpot (Settings → Objects → Associations) or fix the name`,
        );
      }
      type.typeId = found.typeId;
      type.category ??= found.category;
    }
    return spec.types.map((t) => ({
      typeId: t.typeId!,
      category: t.category ?? 'HUBSPOT_DEFINED',
    }));
  }

  private labelsOf(
    config: EntitySyncConfig,
    spec: AssociationSpec,
  ): Promise<CrmAssociationLabel[]> {
    const from = config.options.crmObjectType;
    const to = spec.toObjectType!;
    const key = crmTypeKey(config.crm, from, to);
    let pending = this.labels.get(key);
    if (!pending) {
      pending = this.registry.getAdapter(config.crm).associationLabels!(
        from,
        to,
      );
      // A failed read is not remembered: the next sync asks again.
      pending.catch(() => this.labels.delete(key));
      this.labels.set(key, pending);
    }
    return pending;
  }
}
