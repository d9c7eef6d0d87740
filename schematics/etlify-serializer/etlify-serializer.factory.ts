import { join, normalize, strings } from '@angular-devkit/core';
import {
  apply,
  applyTemplates,
  branchAndMerge,
  chain,
  filter,
  mergeWith,
  move,
  noop,
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
  ModuleDeclarator,
  ModuleFinder,
  NameParser,
  normalizeToKebabOrSnakeCase,
} from '@nestjs/schematics';
import { findEntity, FoundEntity } from '../utils/entity.finder';
import {
  importSpecifier,
  ProjectStyle,
  readProjectStyle,
  suffixImportOf,
} from '../utils/project-style.util';
import { EtlifySerializerOptions } from './etlify-serializer.schema';

const TYPE = 'etlify-serializer';

interface ResolvedOptions extends EtlifySerializerOptions {
  path: string;
  specFileSuffix: string;
  entity?: FoundEntity | null;
  style?: ProjectStyle;
}

/** `nest g etlify-serializer <name>`: built like @nestjs/schematics' `service`, typed to the entity when found. */
export function main(options: EtlifySerializerOptions): Rule {
  const resolved = transform(options);
  return (tree: Tree, context: SchematicContext) =>
    branchAndMerge(
      chain([
        readStyle(resolved),
        mergeSourceRoot(resolved),
        findSerializedEntity(resolved),
        addProviderToModule(resolved),
        mergeWith(generate(resolved)),
      ]),
    )(tree, context);
}

function transform(source: EtlifySerializerOptions): ResolvedOptions {
  if (source.name === undefined || source.name === null || source.name === '') {
    throw new SchematicsException('Option (name) is required.');
  }
  if (source.language !== undefined && source.language !== 'ts') {
    throw new SchematicsException(
      'etlify-serializer generates TypeScript only (language: ts).',
    );
  }
  const location = new NameParser().parse({
    name: source.name,
    path: source.path,
  });
  const name = normalizeToKebabOrSnakeCase(location.name);
  const path = normalizeToKebabOrSnakeCase(location.path);
  return {
    ...source,
    name,
    path: source.flat ? path : join(normalize(path), name),
    spec: source.spec !== false,
    specFileSuffix: normalizeToKebabOrSnakeCase(
      source.specFileSuffix || 'spec',
    ),
  };
}

function readStyle(options: ResolvedOptions): Rule {
  return (tree: Tree) => {
    options.style = readProjectStyle(tree);
    return tree;
  };
}

function findSerializedEntity(options: ResolvedOptions): Rule {
  return (tree: Tree, context: SchematicContext) => {
    const sourceRoot = options.sourceRoot ?? DEFAULT_PATH_NAME;
    options.entity = findEntity(tree, options.name, options.path, sourceRoot);
    if (!options.entity) {
      context.logger.warn(
        `No ${options.name}.entity.ts found under ${sourceRoot}: the serializer declares a placeholder type to replace with your entity.`,
      );
    }
    return tree;
  };
}

function generate(options: ResolvedOptions): Source {
  return (context: SchematicContext) => {
    const style = options.style!;
    return apply(url('./files'), [
      options.spec
        ? noop()
        : filter((path) => !path.endsWith(`.__specFileSuffix__.ts.template`)),
      applyTemplates({
        ...strings,
        ...options,
        entity: options.entity ?? null,
        entityImport: options.entity
          ? importSpecifier(options.entity.importPath, style)
          : null,
        serializerImport: importSpecifier(
          `./${options.name}.etlify-serializer`,
          style,
        ),
        vitest: style.testRunner === 'vitest',
        entityType: options.entity?.className ?? strings.classify(options.name),
        properties: options.entity?.properties ?? ['email'],
      }),
      move(options.path),
    ])(context);
  };
}

function addProviderToModule(options: ResolvedOptions): Rule {
  return (tree: Tree) => {
    if (options.skipImport) return tree;
    const module = options.module
      ? normalize(`/${options.module}`)
      : new ModuleFinder(tree).find({
          name: options.name,
          path: normalize(options.path),
        });
    if (!module) return tree;
    if (!tree.exists(module)) {
      throw new SchematicsException(
        `Module ${module} does not exist (option --module).`,
      );
    }
    const content = tree.readText(module);
    const className = `${strings.classify(options.name)}EtlifySerializer`;
    const declared = new ModuleDeclarator().declare(content, {
      metadata: 'providers',
      type: TYPE,
      name: options.name,
      className,
      path: normalize(options.path),
      module,
    });
    tree.overwrite(module, suffixImportOf(declared, className, options.style!));
    return tree;
  };
}
