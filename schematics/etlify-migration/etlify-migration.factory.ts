import { normalize, relative, strings } from '@angular-devkit/core';
import {
  apply,
  applyTemplates,
  branchAndMerge,
  chain,
  mergeWith,
  move,
  Rule,
  SchematicContext,
  SchematicsException,
  Source,
  Tree,
  url,
} from '@angular-devkit/schematics';
import {
  DEFAULT_PATH_NAME,
  mergeSourceRoot,
  normalizeToKebabOrSnakeCase,
} from '@nestjs/schematics';
import { EtlifyMigrationOptions } from './etlify-migration.schema';

const DEFAULT_NAME = 'create-etlify-tables';
const DEFAULT_FOLDER = 'migrations';

const MIGRATIONS_FOLDER = /^(.*\/migrations)\/[^/]+$/;

interface ResolvedOptions {
  name: string;
  /** Relative to the source root; unset until the migrations folder is located. */
  path?: string;
  sourceRoot?: string;
  timestamp: number;
  className: string;
}

/**
 * `nest g -c nestjs-etlify etlify-migration`: `<timestamp>-create-etlify-tables.ts` in the
 * app's migrations folder, named the way the TypeORM CLI names its own migrations.
 */
export function main(options: EtlifyMigrationOptions): Rule {
  const resolved = transform(options);
  return (tree: Tree, context: SchematicContext) =>
    branchAndMerge(
      chain([
        locateMigrationsFolder(resolved),
        mergeSourceRoot(resolved),
        mergeWith(generate(resolved)),
      ]),
    )(tree, context);
}

function transform(source: EtlifyMigrationOptions): ResolvedOptions {
  const name = normalizeToKebabOrSnakeCase(source.name || DEFAULT_NAME);
  const timestamp = source.timestamp ?? Date.now();
  if (!Number.isSafeInteger(timestamp) || timestamp <= 0) {
    throw new SchematicsException(
      `Option (timestamp) must be a positive integer, got ${source.timestamp}.`,
    );
  }
  return {
    name,
    path: source.path,
    sourceRoot: source.sourceRoot,
    timestamp,
    className: `${strings.classify(name)}${timestamp}`,
  };
}

/** Without --path: the folder the app's migrations already live in, else `migrations`. */
function locateMigrationsFolder(options: ResolvedOptions): Rule {
  return (tree: Tree) => {
    if (options.path !== undefined) return tree;
    const sourceRoot = normalize(`/${options.sourceRoot ?? DEFAULT_PATH_NAME}`);
    let folder: string | undefined;
    tree.getDir(sourceRoot).visit((file) => {
      folder ??= MIGRATIONS_FOLDER.exec(file)?.[1];
    });
    options.path = folder
      ? relative(sourceRoot, normalize(folder))
      : DEFAULT_FOLDER;
    return tree;
  };
}

function generate(options: ResolvedOptions): Source {
  return (context: SchematicContext) =>
    apply(url('./files'), [
      applyTemplates({ ...options }),
      move(options.path!),
    ])(context);
}
