/**
 * Builds the library into dist/ (`npm run build:lib`, run by `npm pack` through prepack): tsc emits
 * JavaScript and .d.ts files for the entries in tsconfig.build.json, then every relative import gets
 * its file extension, so the output loads in Node's ESM loader and in any bundler, not only in those
 * that guess extensions the way the sources' `moduleResolution: "bundler"` allows.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = path.join(root, "dist");

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
  cwd: root,
  stdio: "inherit",
});

/**
 * `./x` → `./x.js`, `./dir` → `./dir/index.js`; anything with an extension or not relative is left alone.
 * @param {string} fromFile
 * @param {string} specifier
 */
function withExtension(fromFile, specifier) {
  if (!specifier.startsWith(".") || /\.[cm]?js$/.test(specifier)) return specifier;
  const target = path.resolve(path.dirname(fromFile), specifier);
  if (existsSync(`${target}.js`)) return `${specifier}.js`;
  if (existsSync(path.join(target, "index.js"))) return `${specifier}/index.js`;
  throw new Error(`${path.relative(root, fromFile)} imports "${specifier}", which the build did not emit`);
}

/** `… from "./x"` at the start of a statement line (also `} from` closing a long import), `import "./x"`, `import("./x")`. */
const SPECIFIER = /(^[^\S\n]*(?:import|export|\})[^"'\n]*?\bfrom\s*|^[^\S\n]*import\s+|\bimport\s*\(\s*)(["'])(\.[^"']*)\2/gm;

/**
 * Every file below `dir`, recursively.
 * @param {string} dir
 * @returns {string[]}
 */
function files(dir) {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : [full];
  });
}

let rewritten = 0;
for (const file of files(dist).filter((name) => /\.(js|d\.ts)$/.test(name))) {
  const text = readFileSync(file, "utf8");
  const next = text.replace(SPECIFIER, (_, lead, quote, specifier) => `${lead}${quote}${withExtension(file, specifier)}${quote}`);
  if (next !== text) {
    writeFileSync(file, next);
    rewritten += 1;
  }
}
console.log(`dist/: ${files(dist).length} files, relative imports given extensions in ${rewritten}`);
