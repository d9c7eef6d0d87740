import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { errorMessage } from '../sync/redact.util';
import { loadOptionalPackage } from '../ops/optional-package.util';
import type { EtlifyEventMap } from './etlify-events.interface';

interface Emitter {
  emit(event: string, ...values: unknown[]): boolean;
}

/**
 * Hands the library's events to the app's EventEmitter2 when `@nestjs/event-emitter` is installed
 * and `EventEmitterModule.forRoot()` is imported; otherwise emitting costs one check.
 */
@Injectable()
export class EtlifyEventBus implements OnApplicationBootstrap {
  private readonly logger = new Logger(EtlifyEventBus.name);
  private emitter?: Emitter;

  constructor(private readonly moduleRef: ModuleRef) {}

  onApplicationBootstrap(): void {
    const pkg = loadOptionalPackage<{ EventEmitter2: Function }>(
      '@nestjs/event-emitter',
    );
    if (!pkg) return;
    try {
      this.emitter = this.moduleRef.get<Emitter>(pkg.EventEmitter2, {
        strict: false,
      });
    } catch {
      // EventEmitterModule not imported: the app does not listen for events.
    }
  }

  /** Whether anyone can hear events (so callers can skip building them). */
  get active(): boolean {
    return !!this.emitter;
  }

  emit<K extends keyof EtlifyEventMap>(
    name: K,
    event: EtlifyEventMap[K],
  ): void {
    if (!this.emitter) return;
    try {
      this.emitter.emit(name, event);
    } catch (error) {
      // A listener's failure is the app's bug; it must not fail the sync that announced it.
      this.logger.error(`a listener of ${name} threw: ${errorMessage(error)}`);
    }
  }
}
