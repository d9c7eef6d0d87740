/**
 * Finishes the ES module build that tsc wrote to dist/esm: Node's ESM loader needs full file names,
 * so relative specifiers get `.js` (or `/index.js`) and deep package imports (`pkg/sub`) get `.js`,
 * in the code and in the declarations; a package.json marks the folder as ES modules. Fails when a
 * relative specifier names no emitted file, so a broken build never reaches `npm pack`.
 */
const {
  existsSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} = require('node:fs');
const { dirname, join, relative, resolve } = require('node:path');

const root = resolve(__dirname, '..', 'dist', 'esm');
const SPECIFIER = /(\bfrom\s*|\bimport\s*\(?\s*)(['"])([^'"\n]+)\2/g;
const HAS_EXTENSION = /\.(c|m)?js$|\.json$/;
/** `pkg/sub` or `@scope/pkg/sub`: a path inside a package rather than its entry. */
const BARE_REQUIRE = /(^|[^.\w$`])require(\.resolve)?\(/m;
const DEEP_PACKAGE_PATH = /^(@[\w.-]+\/)?[\w.-]+\/./;

function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

function rewrite(file, specifier, problems) {
  if (HAS_EXTENSION.test(specifier) || specifier.startsWith('node:'))
    return specifier;
  if (specifier.startsWith('.')) {
    const target = resolve(dirname(file), specifier);
    const declaration = file.endsWith('.d.ts');
    const exists = (base) =>
      existsSync(declaration ? `${base}.d.ts` : `${base}.js`);
    if (exists(target)) return `${specifier}.js`;
    if (exists(join(target, 'index'))) return `${specifier}/index.js`;
    problems.push(
      `${relative(root, file)}: "${specifier}" names no emitted file`,
    );
    return specifier;
  }
  return DEEP_PACKAGE_PATH.test(specifier) ? `${specifier}.js` : specifier;
}

const problems = [];
let rewritten = 0;
for (const file of files(root)) {
  if (!file.endsWith('.js') && !file.endsWith('.d.ts')) continue;
  const text = readFileSync(file, 'utf8');
  // ES modules have no `require`: such code would throw only when it runs, so the build stops here.
  if (file.endsWith('.js') && BARE_REQUIRE.test(text))
    problems.push(
      `${relative(root, file)}: calls require(), which ES modules lack; use import() (both builds) or createRequire(path)`,
    );
  const next = text.replace(SPECIFIER, (match, head, quote, specifier) => {
    const updated = rewrite(file, specifier, problems);
    if (updated === specifier) return match;
    rewritten++;
    return `${head}${quote}${updated}${quote}`;
  });
  if (next !== text) writeFileSync(file, next);
}
// The copy's own format, for the guard against loading both builds in one process.
const formatFile = join(root, 'module-format.util.js');
const formatText = readFileSync(formatFile, 'utf8');
const COMMONJS = "MODULE_FORMAT = 'commonjs'";
if (!formatText.includes(COMMONJS))
  problems.push(`module-format.util.js: ${COMMONJS} not found`);
writeFileSync(
  formatFile,
  formatText.replace(COMMONJS, "MODULE_FORMAT = 'module'"),
);
if (problems.length) {
  console.error(`build-esm: unresolved specifiers\n${problems.join('\n')}`);
  process.exit(1);
}
writeFileSync(
  join(root, 'package.json'),
  `${JSON.stringify({ type: 'module' }, null, 2)}\n`,
);
console.log(
  `build-esm: ${rewritten} specifiers completed in ${relative(process.cwd(), root)}`,
);
