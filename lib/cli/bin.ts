#!/usr/bin/env node
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';

/**
 * The `etlify` bin. The app's root module imports nestjs-etlify, and Node hands a CommonJS file the
 * CommonJS build and an ES module the ES module build; the CLI must use that same copy (see
 * module-format.util), so it decides by the --module file's format before loading either.
 */
function moduleFile(argv: string[]): string | undefined {
  let file: string | undefined;
  argv.forEach((arg, i) => {
    if (arg === '--module') file = argv[i + 1];
    else if (arg.startsWith('--module=')) file = arg.slice('--module='.length);
  });
  return file;
}

/** Node's rule: .mjs / .cjs decide, else the nearest package.json's "type". */
function isEsModule(file: string): boolean {
  const extension = extname(file);
  if (extension === '.mjs') return true;
  if (extension === '.cjs') return false;
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return JSON.parse(readFileSync(pkg, 'utf8')).type === 'module';
      } catch {
        return false;
      }
    }
    if (dirname(dir) === dir) return false;
  }
}

const file = moduleFile(process.argv.slice(2));
const esm = file !== undefined && isEsModule(resolve(process.cwd(), file));
// The ES module build is loaded with require(), which Node >= 20.19 allows for ESM without top-level await.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(esm ? '../esm/cli/main.js' : './main.js');
