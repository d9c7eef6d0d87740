import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { EtlifyStaleSweep } from './etlify-stale-sweep.entity';
import type { SweepLock } from './sweep-lock.interface';

/** The sweep lock as a lease row of the sweep table, taken with one conditional UPDATE. */
export class DatabaseSweepLock implements SweepLock {
  readonly kind = 'database' as const;

  constructor(
    private readonly dataSource: DataSource,
    private readonly key: string,
  ) {}

  private get repository() {
    return this.dataSource.getRepository(EtlifyStaleSweep);
  }

  async acquire(ttlMs: number): Promise<string | null> {
    await this.repository
      .createQueryBuilder()
      .insert()
      .into(EtlifyStaleSweep)
      .values({ sweepKey: this.key })
      .orIgnore()
      .execute();
    const token = randomUUID();
    const now = new Date();
    const result = await this.repository
      .createQueryBuilder()
      .update(EtlifyStaleSweep)
      .set({
        leaseToken: token,
        leaseExpiresAt: new Date(now.getTime() + ttlMs),
      })
      .where('sweep_key = :key', { key: this.key })
      .andWhere('(lease_token IS NULL OR lease_expires_at < :now)', { now })
      .execute();
    return result.affected === 1 ? token : null;
  }

  async renew(token: string, ttlMs: number): Promise<boolean> {
    const result = await this.repository
      .createQueryBuilder()
      .update(EtlifyStaleSweep)
      .set({ leaseExpiresAt: new Date(Date.now() + ttlMs) })
      .where('sweep_key = :key AND lease_token = :token', {
        key: this.key,
        token,
      })
      .execute();
    return result.affected === 1;
  }

  async release(token: string): Promise<void> {
    await this.repository
      .createQueryBuilder()
      .update(EtlifyStaleSweep)
      .set({ leaseToken: null, leaseExpiresAt: null })
      .where('sweep_key = :key AND lease_token = :token', {
        key: this.key,
        token,
      })
      .execute();
  }
}
