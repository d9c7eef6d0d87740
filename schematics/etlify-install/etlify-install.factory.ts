import { join, normalize } from '@angular-devkit/core';
import {
  Rule,
  SchematicContext,
  SchematicsException,
  Tree,
} from '@angular-devkit/schematics';
import { DEFAULT_PATH_NAME, MetadataManager } from '@nestjs/schematics';
import { EtlifyInstallOptions } from './etlify-install.schema';

const ROOT_MODULE_FILE = 'app.module.ts';
const CONFIG_PACKAGE = '@nestjs/config';
const CRM_NAME = /^[a-z0-9_-]+$/;
const TOKEN_VARIABLE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** What the runtime needs beside nestjs-etlify; the schematic names the missing ones, it installs nothing. */
const RUNTIME_PACKAGES = ['nestjs-etlify', '@nestjs/typeorm', 'typeorm'];

/**
 * `nest g -c nestjs-etlify etlify-install` (alias `etlify`): adds `EtlifyModule.forRootAsync` with one
 * HubSpot CRM to the root module, reading the token from ConfigService when @nestjs/config is a
 * dependency and from process.env otherwise.
 */
export function main(options: EtlifyInstallOptions): Rule {
  const crm = options.crm ?? 'hubspot';
  const tokenVariable = options.tokenVariable ?? 'HUBSPOT_TOKEN';
  if (!CRM_NAME.test(crm)) {
    throw new SchematicsException(
      `Option (crm) must match [a-z0-9_-]+, got "${crm}".`,
    );
  }
  if (!TOKEN_VARIABLE.test(tokenVariable)) {
    throw new SchematicsException(
      `Option (tokenVariable) must be an identifier, got "${tokenVariable}".`,
    );
  }
  return (tree: Tree, context: SchematicContext) => {
    const module = normalize(
      options.module ??
        join(
          normalize(options.sourceRoot ?? DEFAULT_PATH_NAME),
          ROOT_MODULE_FILE,
        ),
    );
    if (!tree.exists(module)) {
      throw new SchematicsException(
        `Root module ${module} not found: pass --module <path to your root module>.`,
      );
    }
    const content = tree.readText(module);
    if (/\bEtlifyModule\b/.test(content)) {
      context.logger.info(
        `${module} already uses EtlifyModule: nothing to do.`,
      );
      return tree;
    }
    const dependencies = readDependencies(tree);
    const useConfig = options.config ?? dependencies.has(CONFIG_PACKAGE);
    const updated = addEtlifyModule(content, { crm, tokenVariable, useConfig });
    if (updated === content) {
      throw new SchematicsException(
        `No @Module({...}) decorator found in ${module}.`,
      );
    }
    tree.overwrite(module, updated);
    warnAboutMissingPieces(
      context,
      updated,
      dependencies,
      useConfig,
      tokenVariable,
    );
    return tree;
  };
}

function readDependencies(tree: Tree): Set<string> {
  if (!tree.exists('package.json')) return new Set();
  const pkg = JSON.parse(tree.readText('package.json')) as Record<
    string,
    Record<string, string> | undefined
  >;
  return new Set([
    ...Object.keys(pkg.dependencies ?? {}),
    ...Object.keys(pkg.devDependencies ?? {}),
  ]);
}

const PLACEHOLDER = '__ETLIFY_MODULE__';

function addEtlifyModule(
  content: string,
  options: { crm: string; tokenVariable: string; useConfig: boolean },
): string {
  const token = options.useConfig
    ? `config.getOrThrow<string>('${options.tokenVariable}')`
    : `process.env.${options.tokenVariable} ?? ''`;
  const call = [
    'EtlifyModule.forRootAsync({',
    ...(options.useConfig
      ? ['  imports: [ConfigModule],', '  inject: [ConfigService],']
      : []),
    `  useFactory: (${options.useConfig ? 'config: ConfigService' : ''}) => ({`,
    '    crms: [',
    '      {',
    `        name: '${options.crm}',`,
    '        adapter: new HubspotAdapter({',
    `          accessToken: ${token},`,
    '        }),',
    '      },',
    '    ],',
    '  }),',
    '})',
  ];
  // A placeholder goes in first, so the call can be laid out where @nestjs/schematics put it.
  const inserted = new MetadataManager(content).insert('imports', PLACEHOLDER);
  if (!inserted) return content;
  const withCall = layOut(inserted, call);
  const imports = [
    "import { EtlifyModule, HubspotAdapter } from 'nestjs-etlify';",
  ];
  if (options.useConfig) {
    const missing = ['ConfigModule', 'ConfigService'].filter(
      (name) => !importsName(content, name, CONFIG_PACKAGE),
    );
    if (missing.length) {
      imports.push(
        `import { ${missing.join(', ')} } from '${CONFIG_PACKAGE}';`,
      );
    }
  }
  return insertImports(withCall, imports);
}

/**
 * Replaces the placeholder with the call, indented like its neighbours; an array that held only
 * the placeholder becomes a multi-line array, as Prettier would write it.
 */
function layOut(content: string, call: string[]): string {
  const lineStart = content.lastIndexOf('\n', content.indexOf(PLACEHOLDER)) + 1;
  const indent = /^[ \t]*/.exec(content.slice(lineStart))![0];
  const block = (at: string) =>
    call.map((line, i) => (i === 0 ? line : at + line)).join('\n');
  if (content.includes(`[${PLACEHOLDER}]`)) {
    const inner = indent + '  ';
    return content.replace(
      `[${PLACEHOLDER}]`,
      `[\n${inner}${block(inner)},\n${indent}]`,
    );
  }
  return content.replace(PLACEHOLDER, block(indent));
}

function importsName(content: string, name: string, from: string): boolean {
  const declaration = new RegExp(
    `import\\s*\\{([^}]*)\\}\\s*from\\s*['"]${from.replace('/', '\\/')}['"]`,
    'g',
  );
  return [...content.matchAll(declaration)].some((match) =>
    new RegExp(`\\b${name}\\b`).test(match[1]),
  );
}

/** Adds import lines after the last import declaration, as @nestjs/schematics does for providers. */
function insertImports(content: string, imports: string[]): string {
  const lines = content.split('\n');
  let last = -1;
  lines.forEach((line, i) => {
    if (/\bfrom\s+['"][^'"]+['"];?\s*$/.test(line)) last = i;
  });
  lines.splice(last + 1, 0, ...imports);
  return lines.join('\n');
}

function warnAboutMissingPieces(
  context: SchematicContext,
  content: string,
  dependencies: Set<string>,
  useConfig: boolean,
  tokenVariable: string,
): void {
  if (!/\bTypeOrmModule\.forRoot/.test(content)) {
    context.logger.warn(
      'EtlifyModule needs a TypeORM DataSource: add TypeOrmModule.forRoot({ ..., autoLoadEntities: true }) to this module.',
    );
  }
  if (useConfig && !/\bConfigModule\.forRoot/.test(content)) {
    context.logger.warn(
      'ConfigService reads nothing until ConfigModule.forRoot() is imported (e.g. with isGlobal: true).',
    );
  }
  const missing = RUNTIME_PACKAGES.filter(
    (name) => dependencies.size > 0 && !dependencies.has(name),
  );
  if (missing.length)
    context.logger.warn(
      `Install the missing packages: npm install ${missing.join(' ')}`,
    );
  context.logger.info(
    `Set ${tokenVariable} to your HubSpot private app token (see the README's HubSpot setup).`,
  );
}
