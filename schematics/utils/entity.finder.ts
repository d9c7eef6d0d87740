import {
  basename,
  dirname,
  join,
  normalize,
  Path,
  relative,
} from '@angular-devkit/core';
import { Tree } from '@angular-devkit/schematics';

/** What a generated file needs to know about an entity class found in the project. */
export interface FoundEntity {
  className: string;
  /** Import specifier relative to the folder the serializer is generated in, without extension. */
  importPath: string;
  /** Properties declared with @Column whose type is string, number or boolean (optionally | null). */
  properties: string[];
}

const SCALAR_TYPE = /^(string|number|boolean)(\s*\|\s*(null|undefined))*$/;

/**
 * Finds `<name>.entity.ts`: first beside the generated file, then in its `entities/` folder (where
 * `nest g resource` puts it), then anywhere under the source root.
 */
export function findEntity(
  tree: Tree,
  name: string,
  targetDir: string,
  sourceRoot: string,
): FoundEntity | null {
  const fileName = `${name}.entity.ts`;
  const candidates = [
    join(normalize(targetDir), fileName),
    join(normalize(targetDir), 'entities', fileName),
  ];
  let path: Path | undefined = candidates.find((candidate) =>
    tree.exists(candidate),
  );
  if (!path) {
    tree.getDir(normalize(sourceRoot)).visit((file) => {
      if (!path && basename(file) === fileName) path = file;
    });
  }
  if (!path) return null;
  const content = tree.readText(path);
  const className =
    /@Entity\([^)]*\)[\s\S]*?export\s+class\s+(\w+)/.exec(content)?.[1] ??
    /export\s+class\s+(\w+)/.exec(content)?.[1];
  if (!className) return null;
  let importPath: string = relative(
    normalize('/' + targetDir),
    dirname(normalize('/' + path)),
  );
  importPath =
    importPath === ''
      ? '.'
      : importPath.startsWith('.')
        ? importPath
        : `./${importPath}`;
  return {
    className,
    importPath: `${importPath}/${basename(path).replace(/\.ts$/, '')}`,
    properties: scalarColumns(content),
  };
}

function scalarColumns(content: string): string[] {
  const properties: string[] = [];
  const column =
    /@Column\((?:[^()]|\([^()]*\))*\)\s*(\w+)[!?]?\s*:\s*([^;=\n]+)/g;
  for (const match of content.matchAll(column)) {
    if (SCALAR_TYPE.test(match[2].trim())) properties.push(match[1]);
  }
  return properties;
}
