import { Injectable } from '@nestjs/common';
import { Repository } from 'typeorm';
import {
  STALE_FULL_SCAN_INTERVAL_MS,
  STALE_INCREMENTAL_OVERLAP_MS,
} from '../etlify.constants';
import type { EntitySyncConfig } from '../interfaces/entity-sync-config.interface';
import { CrmRegistry } from '../registry/crm.registry';
import { EtlifyStaleSweep } from './etlify-stale-sweep.entity';

/**
 * The high-water marks in `etlify_stale_sweeps`: from when the next sweep of an entity may be
 * incremental, and when it must be a full scan again.
 */
@Injectable()
export class StaleMarksService {
  constructor(private readonly registry: CrmRegistry) {}

  /** Whether the high-water-mark table is registered with the DataSource. */
  get hasSweepTable(): boolean {
    return this.registry.dataSource.hasMetadata(EtlifyStaleSweep);
  }

  private get sweeps(): Repository<EtlifyStaleSweep> | null {
    return this.hasSweepTable
      ? this.registry.dataSource.getRepository(EtlifyStaleSweep)
      : null;
  }

  /** The instant to scan from, or null for a full scan (first sweep, version change, backstop due). */
  async since(
    config: EntitySyncConfig,
    fullScan: boolean | undefined,
  ): Promise<Date | null> {
    const sweeps = this.sweeps;
    if (!sweeps || fullScan) return null;
    const row = await sweeps.findOneBy({ sweepKey: sweepKey(config) });
    if (!row?.highWaterMark || !row.fullScanAt) return null;
    if (row.serializerVersion !== config.serializerVersion) return null;
    if (Date.now() - row.fullScanAt.getTime() > STALE_FULL_SCAN_INTERVAL_MS)
      return null;
    return row.highWaterMark;
  }

  /** The next sweep looks back to a little before this one began (commits in flight, clock skew). */
  async save(
    config: EntitySyncConfig,
    startedAt: Date,
    fullScan: boolean,
  ): Promise<void> {
    const sweeps = this.sweeps;
    if (!sweeps) return;
    const key = sweepKey(config);
    const mark = new Date(startedAt.getTime() - STALE_INCREMENTAL_OVERLAP_MS);
    const existing = await sweeps.findOneBy({ sweepKey: key });
    await sweeps.save(
      sweeps.create({
        ...(existing ?? {
          sweepKey: key,
          leaseToken: null,
          leaseExpiresAt: null,
        }),
        highWaterMark: mark,
        serializerVersion: config.serializerVersion,
        fullScanAt: fullScan ? startedAt : (existing?.fullScanAt ?? null),
      }),
    );
  }
}

function sweepKey(config: EntitySyncConfig): string {
  return `${config.crm}:${config.resourceType}`;
}
