/**
 * The benchmarks' edgebeat server: a real `wrangler dev` started with the project's own
 * `startDevServer` (scripts/lib/wrangler-dev.mjs), with bench secrets and a temp state directory.
 *
 * It runs from a private snapshot of the project (wrangler.toml, src/, public/, migrations/,
 * scripts/ as they are when the bench starts; node_modules linked), because `wrangler dev`
 * rebuilds and reloads the Worker whenever a watched file changes, which drops every socket: an
 * edit in the working tree during a 10-minute soak would otherwise show up as reconnects.
 */
import { execFileSync } from "node:child_process";
import { appendFileSync, cpSync, existsSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../scripts/lib/ports.mjs";
import { groupMembers } from "../../scripts/lib/process-group.mjs";
import { makeStateDir as makeTempDir } from "../../scripts/lib/state-dir.mjs";
import { startDevServer } from "../../scripts/lib/wrangler-dev.mjs";

export { removeDir } from "../../scripts/lib/state-dir.mjs";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
/** What `wrangler dev` reads from the project. */
const SNAPSHOT_ENTRIES = [
  "wrangler.toml",
  "package.json",
  "tsconfig.json",
  "worker-configuration.d.ts",
  "src",
  "public",
  "migrations",
  "scripts",
];

export const BENCH_SECRETS = {
  PUBLISH_TOKEN: "bench-token",
  SUBSCRIBE_SECRET: "bench-secret-bench-secret-bench-!!",
  ADMIN_TOKEN: "bench-admin-token",
};

/** A fresh, empty `--persist-to` directory. */
export function makeStateDir() {
  return makeTempDir("edgebeat-bench-state-");
}

/**
 * How a bench starts dev servers of one snapshot: `startDevServer` serving the snapshot's copy.
 * @typedef {object} DevServerLibrary
 * @property {typeof startDevServer} startDevServer
 * @property {() => Promise<number>} freePort
 */

/**
 * Copies the project into a temp directory, to serve from there: the working tree as it is, or
 * with `ref` (e.g. "HEAD") the files of that commit (`git archive`), so a bench can measure a
 * commit while others have uncommitted edits in the tree.
 * @param {{ ref?: string }} [options]
 * @returns {Promise<{ root: string, devServer: DevServerLibrary }>}
 */
export async function snapshotProject({ ref } = {}) {
  const root = mkdtempSync(path.join(tmpdir(), "edgebeat-bench-src-"));
  if (ref === undefined) {
    for (const entry of SNAPSHOT_ENTRIES) {
      if (existsSync(path.join(REPO, entry))) cpSync(path.join(REPO, entry), path.join(root, entry), { recursive: true });
    }
  } else {
    const git = (/** @type {string[]} */ args) => execFileSync("git", args, { cwd: REPO, maxBuffer: 256 * 2 ** 20 });
    const present = git(["ls-tree", "--name-only", ref, "--", ...SNAPSHOT_ENTRIES])
      .toString()
      .split("\n")
      .filter(Boolean);
    execFileSync("tar", ["-x", "-C", root], { input: git(["archive", "--format=tar", ref, "--", ...present]) });
  }
  symlinkSync(path.join(REPO, "node_modules"), path.join(root, "node_modules"), "dir");
  /** @type {DevServerLibrary} */
  const devServer = { startDevServer: (options = {}) => startDevServer({ ...options, root }), freePort };
  return { root, devServer };
}

/**
 * Starts wrangler dev on `port` persisting to `stateDir`; its output is appended to `logFile`.
 * PROBE_URLS and FEED_URL point at the server itself (no cron fires during a bench anyway).
 * @param {DevServerLibrary} devServer
 * @param {{ port: number, stateDir: string, logFile: string }} options
 */
export function startServer(devServer, { port, stateDir, logFile }) {
  const own = `http://127.0.0.1:${port}/health`;
  appendFileSync(logFile, `\n===== bench: starting wrangler dev on port ${port} at ${new Date().toISOString()}\n`);
  return devServer.startDevServer({
    port,
    persistTo: stateDir,
    secrets: BENCH_SECRETS,
    vars: { PROBE_URLS: own, FEED_URL: own },
    log: (text) => appendFileSync(logFile, text),
  });
}

/**
 * The workerd processes of process group `pgid`. wrangler dev runs two: its proxy (listening on
 * the public port: `--socket-addr=entry=127.0.0.1:<port>`) and the user runtime that serves the
 * Worker and its Durable Objects.
 * @param {number} pgid
 * @param {number} port the public port
 * @returns {{ pid: number, role: "user" | "proxy" }[]}
 */
export function workerdProcesses(pgid, port) {
  const entry = `entry=127.0.0.1:${port}`;
  return groupMembers(pgid).flatMap(({ pid, argv }) => {
    if (!/(^|\/)workerd$/.test(argv[0] ?? "")) return [];
    return [{ pid, role: argv.some((arg) => arg.endsWith(entry)) ? "proxy" : "user" }];
  });
}
