import { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type {
  ProvisionResult,
  ProvisionStatus,
} from '../adapters/hubspot/hubspot-property.provisioner';
import { CrmRegistry } from '../registry/crm.registry';
import { CliUsageError, lastValue, ParsedArgs } from './cli-args.util';
import { CliIo, loadModuleClass, StderrLogger } from './sync-stale.command';

export const PROVISION_USAGE = `Usage: etlify provision --module <file> [options]

Creates the library's own key property (default etlify_key: unique, string) on every CRM object
type your etlified entities sync to, or checks it where it exists. First writes then become
upserts by that key, safe to repeat. Dry run unless --apply.

Options:
  --module <file>      compiled module to load, e.g. dist/app.module.js (required)
  --export <name>      exported module class (default: AppModule, else the only module export)
  --crm <name>         only this CRM
  --apply              create missing properties (default: only report)
  --json               print the results as JSON on stdout
  -h, --help           this help

Needs the crm.schemas.<type>.read scope to check and .write to create (custom objects:
crm.schemas.custom.*); a missing scope is named in the result.
Exit code: 0 when every property is (or would be) in place, 1 otherwise, 2 on a usage error.`;

export const PROVISION_VALUED = ['module', 'export', 'crm'] as const;
export const PROVISION_FLAGS = ['apply', 'json', 'help'] as const;

/** What an adapter offers when it keeps its own key property (HubspotAdapter does). */
interface KeyProvisioning {
  provisionKeyProperty(
    objectType: string,
    options: { apply?: boolean },
  ): Promise<ProvisionResult>;
}

function provisions(adapter: unknown): adapter is KeyProvisioning {
  return (
    typeof (adapter as KeyProvisioning)?.provisionKeyProperty === 'function'
  );
}

const FAILED: ProvisionStatus[] = ['mismatch', 'forbidden', 'error'];

/** `etlify provision`: resolves to the process exit code. */
export async function provisionCommand(
  args: ParsedArgs,
  io: CliIo,
): Promise<number> {
  const file = lastValue(args, 'module');
  if (!file) throw new CliUsageError('--module <file> is required');
  const moduleClass = loadModuleClass(file, lastValue(args, 'export'), io.cwd);
  const apply = args.flags.has('apply');
  const only = lastValue(args, 'crm');
  const app: INestApplicationContext =
    await NestFactory.createApplicationContext(moduleClass, {
      logger: new StderrLogger(io.stderr),
      abortOnError: false,
    });
  try {
    const registry = app.get(CrmRegistry, { strict: false });
    if (only && !registry.hasCrm(only)) {
      throw new CliUsageError(
        `--crm: no CRM named "${only}" (declared: ${registry
          .getCrms()
          .map((c) => c.name)
          .join(', ')})`,
      );
    }
    const results: Array<ProvisionResult & { crm: string }> = [];
    for (const crm of registry.getCrms()) {
      if (only && crm.name !== only) continue;
      if (!provisions(crm.adapter)) continue;
      const types = new Set(
        registry
          .getEntityConfigs()
          .filter((c) => c.crm === crm.name)
          .map((c) => c.options.crmObjectType),
      );
      for (const type of [...types].sort()) {
        const result = await crm.adapter.provisionKeyProperty(type, { apply });
        results.push({ crm: crm.name, ...result });
      }
    }
    io.stdout.write(
      args.flags.has('json')
        ? `${JSON.stringify({ apply, results })}\n`
        : report(results, apply),
    );
    return results.some((r) => FAILED.includes(r.status)) ? 1 : 0;
  } finally {
    await app.close();
  }
}

function report(
  results: Array<ProvisionResult & { crm: string }>,
  apply: boolean,
): string {
  if (!results.length) {
    return 'No CRM with a key property to provision (only HubspotAdapter keeps one).\n';
  }
  const lines = results.map(
    (r) =>
      `${r.crm}  ${r.objectType}.${r.name}  ${r.status.replace('_', ' ')}  ${r.message}`,
  );
  const pending = results.filter((r) => r.status === 'would_create').length;
  if (!apply && pending)
    lines.push(`Dry run: ${pending} to create; run again with --apply.`);
  return `${lines.join('\n')}\n`;
}
