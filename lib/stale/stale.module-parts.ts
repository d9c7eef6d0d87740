import { TypeOrmModule } from '@nestjs/typeorm';
import { ETLIFY_STALE_SYNCER } from '../etlify.constants';
import type { ModulePartsBuilder } from '../module-parts.interface';
import { EtlifyStaleSweep } from './etlify-stale-sweep.entity';
import { StaleBackfillService } from './stale-backfill.service';
import { StaleDryRunService } from './stale-dry-run.service';
import { StaleMarksService } from './stale-marks.service';
import { StaleRecordFinder } from './stale-record.finder';
import { StaleSyncService } from './stale-sync.service';
import { StaleSweeper } from './stale.sweeper';

/**
 * The stale-record finder behind `SyncService.syncStale`, and the cron sweeper. ScheduleModule is
 * not imported here: a second `ScheduleModule.forRoot` with other options would run the app's own
 * `@Cron` jobs twice; the sweeper joins the app's SchedulerRegistry when there is one.
 */
export const staleModuleParts: ModulePartsBuilder = (extras) => ({
  imports: [TypeOrmModule.forFeature([EtlifyStaleSweep], extras.dataSource)],
  providers: [
    StaleRecordFinder,
    StaleMarksService,
    StaleBackfillService,
    StaleDryRunService,
    StaleSyncService,
    { provide: ETLIFY_STALE_SYNCER, useExisting: StaleSyncService },
    StaleSweeper,
  ],
  exports: [StaleSweeper],
});
