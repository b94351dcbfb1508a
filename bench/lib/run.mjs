/**
 * What every bench needs around its measurement: options, a hard deadline, cleanup that always
 * runs (errors, the deadline, Ctrl-C), machine facts, and writing its results.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { updateDocs } from "./docs.mjs";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const RESULTS_DIR = path.join(ROOT, "bench", "results");

/**
 * Starts a bench: after `deadlineMs` it cleans up and exits 2, on SIGINT/SIGTERM/SIGHUP it cleans
 * up and exits 130. `finish(code)` cleans up and exits; `main(fn)` runs the bench and finishes with
 * its exit code (1 when it throws). Cleanup first SIGKILLs every process this
 * one started (its descendants, by pid: e.g. a `wrangler d1 migrations apply` that startDevServer
 * was waiting for when the deadline hit, which is in no process group that stop() kills), then
 * runs the registered cleanups, last-registered first, once.
 * @param {string} name
 * @param {number} deadlineMs
 */
export function startRun(name, deadlineMs) {
  /** @type {(() => unknown)[]} */
  const cleanups = [];
  /** @type {Promise<void> | null} */
  let cleaning = null;
  const cleanup = () => {
    cleaning ??= (async () => {
      killDescendants();
      for (const fn of cleanups.reverse()) {
        try {
          await fn();
        } catch (error) {
          console.error(`[${name}] cleanup failed:`, error);
        }
      }
    })();
    return cleaning;
  };
  /** @param {number} code */
  const finish = async (code) => {
    clearTimeout(deadline);
    await cleanup();
    process.exit(code);
  };
  const deadline = setTimeout(() => {
    console.error(`[${name}] hard deadline of ${Math.round(deadlineMs / 1000)} s hit: stopping everything`);
    void finish(2);
  }, deadlineMs);
  for (const signal of /** @type {const} */ (["SIGINT", "SIGTERM", "SIGHUP"])) {
    process.on(signal, () => {
      console.error(`[${name}] ${signal}: stopping everything`);
      void finish(130);
    });
  }
  return {
    /** @param {() => unknown} fn */
    onCleanup: (fn) => cleanups.push(fn),
    finish,
    /**
     * Runs the bench's `main` and finishes with the exit code it resolves with, or 1 (after
     * printing it) when it throws.
     * @param {() => Promise<number>} main
     */
    main: (main) =>
      main().then(finish, async (error) => {
        console.error(error);
        await finish(1);
      }),
    /** @param {string} message */
    log: (message) => console.log(`[${name} +${(performance.now() / 1000).toFixed(1)}s] ${message}`),
  };
}

/** SIGKILLs every descendant of this process (found through /proc), each by its pid. */
export function killDescendants() {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // Gone between readdir and read.
    }
  }
  const pending = [...(children.get(process.pid) ?? [])];
  for (let pid = pending.shift(); pid !== undefined; pid = pending.shift()) {
    pending.push(...(children.get(pid) ?? []));
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** Facts about the machine and toolchain for the result files. */
export function machineFacts() {
  const version = (/** @type {string} */ pkg) =>
    JSON.parse(readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")).version;
  let commit = null;
  try {
    commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    // The bench runs the working tree: say so when it differs from the commit.
    const changes = execFileSync("git", ["status", "--porcelain", "--", "src", "wrangler.toml", "migrations", "scripts"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    if (changes.trim() !== "") commit += " + uncommitted changes";
  } catch {
    // Not a git checkout.
  }
  return {
    cores: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? null,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    loadAverage1m: Number(os.loadavg()[0]?.toFixed(2)),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    wrangler: version("wrangler"),
    ws: version("ws"),
    commit,
  };
}

/**
 * Rewrites `bench/results/<name>.md` and the bench's tables in docs/performance.md from
 * `bench/results/<name>.json` (after a change to the presentation, without running the bench again).
 * @param {string} name
 * @param {(result: any) => string} render the whole .md
 * @param {(result: any) => Record<string, string>} blocks docs/performance.md's tables, by block name
 */
export function rerender(name, render, blocks) {
  const result = JSON.parse(readFileSync(path.join(RESULTS_DIR, `${name}.json`), "utf8"));
  const markdown = render(result);
  writeFileSync(path.join(RESULTS_DIR, `${name}.md`), markdown.endsWith("\n") ? markdown : `${markdown}\n`);
  updateDocs(blocks(result));
  return result;
}

/**
 * Writes `bench/results/<name>.json` and `bench/results/<name>.md`, and the bench's tables into
 * docs/performance.md.
 * @param {string} name
 * @param {unknown} json
 * @param {string} markdown
 * @param {Record<string, string>} blocks docs/performance.md's tables, by block name
 */
export function writeResults(name, json, markdown, blocks) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const jsonPath = path.join(RESULTS_DIR, `${name}.json`);
  const mdPath = path.join(RESULTS_DIR, `${name}.md`);
  writeFileSync(jsonPath, `${JSON.stringify(json, null, 2)}\n`);
  writeFileSync(mdPath, markdown.endsWith("\n") ? markdown : `${markdown}\n`);
  updateDocs(blocks);
  return { jsonPath, mdPath };
}

/**
 * Parses a bench's command line with the options every bench shares: `--help` prints `usage`,
 * `--render-only` calls `renderOnly` (rewrite the .md and the docs tables from the .json); both exit.
 * @template {import("node:util").ParseArgsConfig["options"]} O
 * @param {string} usage
 * @param {O} options the bench's own options
 * @param {() => void} renderOnly
 */
export function benchArgs(usage, options, renderOnly) {
  const { values } = parseArgs({
    options: {
      ...options,
      "render-only": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const shared = /** @type {{ help?: boolean, "render-only"?: boolean }} */ (values);
  if (shared.help) {
    console.log(usage);
    process.exit(0);
  }
  if (shared["render-only"]) {
    renderOnly();
    process.exit(0);
  }
  return values;
}
