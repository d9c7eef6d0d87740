import { Tree } from '@angular-devkit/schematics';

/** How the app's TypeScript is compiled and tested; generated code follows it. */
export interface ProjectStyle {
  /** Relative imports end in `.js` (an ES module app, or TypeScript's node16/nodenext resolution). */
  esm: boolean;
  /** The runner the app's specs are written for. */
  testRunner: 'jest' | 'vitest';
}

const NODE_MODULES_RESOLUTION = /^node(16|18|20|next)$/i;
const VITEST_CONFIG = /^vitest(\.[\w-]+)?\.config\.[cm]?[jt]s$/;

/**
 * Reads the project's style the way its compiler and runner would. An ES module package
 * (`"type": "module"`) needs `.js` in relative imports at run time; under `node16`/`nodenext`
 * TypeScript requires them in ES module files and accepts them in CommonJS ones, so `.js` is right
 * in both cases.
 */
export function readProjectStyle(tree: Tree): ProjectStyle {
  const pkg = readJson(tree, 'package.json');
  const compilerOptions = readCompilerOptions(tree, 'tsconfig.json');
  const esm =
    pkg?.type === 'module' ||
    [compilerOptions.module, compilerOptions.moduleResolution].some(
      (value) =>
        typeof value === 'string' && NODE_MODULES_RESOLUTION.test(value),
    );
  return { esm, testRunner: detectTestRunner(tree, pkg) };
}

/** `./user.entity` → `./user.entity.js` in an ES module project; unchanged otherwise. */
export function importSpecifier(path: string, style: ProjectStyle): string {
  if (!style.esm || !path.startsWith('.') || /\.[cm]?js$/.test(path))
    return path;
  return `${path}.js`;
}

/**
 * Adds `.js` to the relative import of `symbol` (the one @nestjs/schematics' ModuleDeclarator
 * writes: version 11 never adds it, version 12 only for `"type": "module"` packages).
 */
export function suffixImportOf(
  content: string,
  symbol: string,
  style: ProjectStyle,
): string {
  const line = new RegExp(
    `(import\\s*\\{\\s*${symbol}\\s*\\}\\s*from\\s*)(['"])(\\.[^'"]*)\\2`,
  );
  return content.replace(
    line,
    (_, head: string, quote: string, path: string) =>
      `${head}${quote}${importSpecifier(path, style)}${quote}`,
  );
}

function detectTestRunner(
  tree: Tree,
  pkg: Record<string, unknown> | null,
): 'jest' | 'vitest' {
  const deps = {
    ...(pkg?.dependencies as Record<string, string> | undefined),
    ...(pkg?.devDependencies as Record<string, string> | undefined),
  };
  if ('vitest' in deps) return 'vitest';
  if ('jest' in deps) return 'jest';
  const hasVitestConfig = tree.root.subfiles.some((file) =>
    VITEST_CONFIG.test(file),
  );
  return hasVitestConfig ? 'vitest' : 'jest';
}

/** compilerOptions of a tsconfig, merged over the relative files it extends (the app's own chain). */
function readCompilerOptions(
  tree: Tree,
  path: string,
  seen = new Set<string>(),
): Record<string, unknown> {
  if (seen.has(path)) return {};
  seen.add(path);
  const config = readJson(tree, path);
  if (!config) return {};
  const own = (config.compilerOptions ?? {}) as Record<string, unknown>;
  const parents = (
    Array.isArray(config.extends) ? config.extends : [config.extends]
  ).filter(
    (parent): parent is string =>
      typeof parent === 'string' && parent.startsWith('.'),
  );
  const inherited = parents.reduce<Record<string, unknown>>(
    (merged, parent) => ({
      ...merged,
      ...readCompilerOptions(tree, joinRelative(path, parent), seen),
    }),
    {},
  );
  return { ...inherited, ...own };
}

function joinRelative(from: string, relative: string): string {
  const parts = from.split('/').slice(0, -1);
  for (const part of relative.split('/')) {
    if (part === '..') parts.pop();
    else if (part !== '.' && part !== '') parts.push(part);
  }
  const joined = parts.join('/');
  return joined.endsWith('.json') ? joined : `${joined}.json`;
}

/** tsconfig files are JSON with comments and trailing commas. */
function readJson(tree: Tree, path: string): Record<string, unknown> | null {
  if (!tree.exists(path)) return null;
  const text = tree.readText(path);
  try {
    return JSON.parse(stripJsonComments(text)) as Record<string, unknown>;
  } catch {
    return null;
  }
}

function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      out += char;
      if (char === '\\') out += text[++i] ?? '';
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (char === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (char === '/' && text[i + 1] === '*') {
      i = text.indexOf('*/', i + 2);
      if (i === -1) break;
      i++;
    } else out += char;
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}
