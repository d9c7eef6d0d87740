import type { FindOptionsRelations, FindOptionsSelect } from 'typeorm';

/**
 * TypeORM 1.x removed the string-array form of `relations` and `select`; the object form works on
 * 0.3 and 1.x alike. Dotted paths (`company.owner`) become nested objects.
 */
export function relationsTree<T = any>(
  paths: readonly string[],
): FindOptionsRelations<T> {
  return pathTree(paths) as FindOptionsRelations<T>;
}

/** The object form of a `select` list (see {@link relationsTree}). */
export function selectTree<T = any>(
  columns: readonly string[],
): FindOptionsSelect<T> {
  return pathTree(columns) as FindOptionsSelect<T>;
}

type Tree = { [key: string]: true | Tree };

function pathTree(paths: readonly string[]): Tree {
  const root: Tree = {};
  for (const path of paths) {
    let node = root;
    const parts = path.split('.');
    parts.forEach((part, i) => {
      if (i === parts.length - 1) {
        if (node[part] === undefined) node[part] = true;
        return;
      }
      const next = node[part];
      node = node[part] = typeof next === 'object' ? next : {};
    });
  }
  return root;
}
