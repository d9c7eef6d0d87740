import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { EtlifyHealthIndicator } from 'nestjs-etlify';

/** GET /health: 200 while the CRM sync keeps up, 503 when it does not (see the README's Health). */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly etlify: EtlifyHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () =>
        this.etlify.isHealthy('etlify', {
          maxQueueBacklog: 5_000,
          maxDeadLetters: 10,
          maxOldestStaleAgeMs: 60 * 60_000,
        }),
    ]);
  }
}
