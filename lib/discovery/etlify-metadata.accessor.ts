import { Injectable } from '@nestjs/common';
import { etlifiedEntityClasses } from '../decorators/etlified-entity.decorator';
import { ETLIFIED_ENTITY_METADATA } from '../etlify.constants';
import type { EtlifiedEntityOptions } from '../interfaces/etlified-entity-options.interface';

/** The one place that reads @EtlifiedEntity metadata. */
@Injectable()
export class EtlifyMetadataAccessor {
  getEntityOptions(target: Function): EtlifiedEntityOptions[] {
    return Reflect.getOwnMetadata(ETLIFIED_ENTITY_METADATA, target) ?? [];
  }

  getDecoratedClasses(): Function[] {
    return [...etlifiedEntityClasses];
  }
}
