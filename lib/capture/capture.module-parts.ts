import type { ModulePartsBuilder } from '../module-parts.interface';
import { CaptureDrain } from './capture-drain.service';
import { CaptureDelivery } from './capture-delivery.service';
import { CaptureService } from './capture.service';

/**
 * Imports and providers the capture feature adds to EtlifyModule. The service is always there;
 * it subscribes to the DataSource at bootstrap only when the `capture` option is on. Its drain
 * is what `SyncService.idle()` waits on.
 */
export const captureModuleParts: ModulePartsBuilder = () => ({
  providers: [CaptureDrain, CaptureDelivery, CaptureService],
});
