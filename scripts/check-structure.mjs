/**
 * `npm run check:structure` (part of `npm run check`): the shape rules the layout promises.
 * - no file in src/ is over MAX_LINES lines;
 * - no import circle in src/, type-only imports included (TypeScript's own pre-processor reads them);
 * - every relative link in README.md and docs/*.md names a file that exists.
 * Prints each violation and exits 1 when there is any.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const MAX_LINES = 300;
const SOURCE = /\.(ts|tsx|mjs|js)$/;

/** @param {string} dir @returns {string[]} */
function walk(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}

/** @param {string} from @param {string} specifier @returns {string | null} */
function resolveImport(from, specifier) {
  if (!specifier.startsWith(".")) return null;
  const base = resolve(dirname(from), specifier);
  const candidates = [base, `${base}.ts`, `${base}.tsx`, join(base, "index.ts"), base.replace(/\.js$/, ".ts")];
  return candidates.find((path) => existsSync(path) && statSync(path).isFile()) ?? null;
}

/** @param {string[]} files @returns {string[]} */
function longFiles(files) {
  return files.flatMap((file) => {
    const lines = readFileSync(file, "utf8").split("\n").length - 1;
    return lines > MAX_LINES ? [`${relative(ROOT, file)} has ${lines} lines (at most ${MAX_LINES})`] : [];
  });
}

/** @param {string[]} files @returns {string[]} */
function importCircles(files) {
  /** @type {Map<string, string[]>} */
  const graph = new Map();
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    graph.set(
      file,
      importedFiles.map((ref) => resolveImport(file, ref.fileName)).filter((path) => path !== null),
    );
  }
  /** @type {string[]} */
  const found = [];
  /** @type {Map<string, "open" | "done">} */
  const state = new Map();
  /** @type {string[]} */
  const path = [];
  /** @param {string} file */
  const visit = (file) => {
    state.set(file, "open");
    path.push(file);
    for (const next of graph.get(file) ?? []) {
      if (state.get(next) === "open") {
        const circle = [...path.slice(path.indexOf(next)), next].map((f) => relative(ROOT, f));
        found.push(`import circle: ${circle.join(" → ")}`);
      } else if (!state.has(next)) {
        visit(next);
      }
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

/** @returns {string[]} */
function brokenLinks() {
  const docs = join(ROOT, "docs");
  const pages = [join(ROOT, "README.md"), ...walk(docs).filter((f) => f.endsWith(".md"))];
  return pages.flatMap((page) => {
    const text = readFileSync(page, "utf8").replace(/```[\s\S]*?```/g, "");
    return [...text.matchAll(/\]\(([^)\s]+)\)/g)].flatMap(([, target = ""]) => {
      if (/^([a-z]+:|#)/i.test(target)) return [];
      const file = resolve(dirname(page), decodeURI(target.split("#")[0] ?? ""));
      return existsSync(file) ? [] : [`${relative(ROOT, page)} links to ${target}, which does not exist`];
    });
  });
}

const sources = walk(join(ROOT, "src")).filter((file) => SOURCE.test(file));
const problems = [...longFiles(sources), ...importCircles(sources), ...brokenLinks()];
for (const problem of problems) console.error(problem);
if (problems.length > 0) process.exit(1);
console.log(
  `structure ok: ${sources.length} files in src/, none over ${MAX_LINES} lines, no import circle, every doc link resolves`,
);
