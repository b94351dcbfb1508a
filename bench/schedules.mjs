/**
 * `npm run bench:schedules`: runtime schedules against the real Worker in workerd (Miniflare on a
 * direct socket, bench/lib/runtime.mjs). Creates N schedules (uptime probing a Node server here, or
 * with `--probe self` the Worker's own /health; M of them due in the same slot, created paused),
 * lists them, times how soon each kind of change takes effect, then resumes the M and measures their
 * slots: lag, exactly once, memory; then the same due load on workerd's local defaults.
 * `--restarts K` runs the fault case instead (bench/schedules/restarts.mjs, on wrangler dev).
 * Each phase lives in bench/schedules/, its header saying what it measures; `--help` lists the options.
 *
 * Results: bench/results/schedules.{json,md} (schedules-restarts.* for the fault run) and the
 * tables in docs/performance.md; the Worker's output: bench/results/<name>.server.log.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { rssMiB } from "./lib/rss.mjs";
import { machineFacts, RESULTS_DIR, rerender, startRun, writeResults } from "./lib/run.mjs";
import { BENCH_SECRETS, makeStateDir, removeDir, snapshotProject } from "./lib/server.mjs";
import { runChanges } from "./schedules/changes.mjs";
import { runCreates } from "./schedules/create.mjs";
import { runDue } from "./schedules/due.mjs";
import { runLists } from "./schedules/list.mjs";
import { parseOptions } from "./schedules/options.mjs";
import { docsBlocks, renderResults, summaryText } from "./schedules/report.mjs";
import { runRestarts } from "./schedules/restarts.mjs";
import { RESTARTS, renderRestarts, restartsBlocks, restartsSummary } from "./schedules/restarts-report.mjs";
import { startRuntime } from "./schedules/server.mjs";

const options = parseOptions(() => {
  if (existsSync(path.join(RESULTS_DIR, "schedules.json")))
    console.log(summaryText(rerender("schedules", renderResults, docsBlocks)));
  if (existsSync(path.join(RESULTS_DIR, `${RESTARTS}.json`)))
    console.log(restartsSummary(rerender(RESTARTS, renderRestarts, restartsBlocks)));
});
const NAME = options.restarts > 0 ? RESTARTS : "schedules";
const run = startRun(NAME, options.deadlineMs);

async function main() {
  const machine = machineFacts();
  if (options.ref !== undefined) {
    const commit = execFileSync("git", ["rev-parse", "--short", options.ref], { encoding: "utf8" }).trim();
    machine.commit = `${commit} (${options.ref}, git archive)`;
  }
  const project = await snapshotProject(options.ref === undefined ? {} : { ref: options.ref });
  run.onCleanup(() => removeDir(project.root));
  const stateDir = options.restarts === 0 && options.storage === "memory" ? memoryStateDir() : makeStateDir();
  run.onCleanup(() => removeDir(stateDir));
  const logFile = path.join(RESULTS_DIR, `${NAME}.server.log`);
  writeFileSync(logFile, "");
  if (options.restarts > 0) return restartRun(machine, project, stateDir, logFile);
  const vars = {
    ...BENCH_SECRETS,
    ...(options.schedulerShards === null ? {} : { SCHEDULER_SHARDS: String(options.schedulerShards) }),
  };
  const started = performance.now();
  const server = await startRuntime({ root: project.root, stateDir, vars, logFile, keepObjects: !options.evict });
  run.onCleanup(() => server.stop());
  const { url: base, workerdPid } = server;
  run.log(`edgebeat direct at ${base} (workerd ${workerdPid}) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const healthUrl = options.probe === "bench" ? await benchHealth() : `${base}/health`;
  const bench = { base, options, healthUrl, workerdPid, log: run.log };
  const rss = {
    idle: rssMiB(workerdPid),
    afterCreates: /** @type {number | null} */ (null),
    end: /** @type {number | null} */ (null),
  };
  const benchStarted = performance.now();

  run.log(`creating ${options.schedules} schedules (${options.due} due, paused until the due phase)`);
  const creates = await runCreates(bench);
  rss.afterCreates = rssMiB(workerdPid);
  run.log(`created: ${creates.perSecond}/s, p99 ${creates.latencyMs.p99} ms`);
  const lists = await runLists(bench);
  run.log(`first page p50 ${lists.firstPageMs.p50} ms, walk ${lists.walkS.p50} s`);
  const changes = options.changeRounds > 0 ? await runChanges(bench) : null;
  const due = options.due > 0 ? await runDue(bench) : null;
  rss.end = rssMiB(workerdPid);
  await server.stop();
  const dueLocal = options.localDue > 0 ? await localDefaultsDue(project.root, vars, logFile, healthUrl) : null;

  const result = {
    bench: NAME,
    date: new Date().toISOString(),
    machine: { ...machine, loadAverage1m: machineFacts().loadAverage1m },
    options,
    durationS: Math.round((performance.now() - benchStarted) / 1000),
    rssMiB: rss,
    creates,
    lists,
    changes,
    due,
    dueLocal,
    ok: creates.ok && lists.ok && (changes?.ok ?? true) && (due?.ok ?? true) && (dueLocal?.ok ?? true),
  };
  const { jsonPath, mdPath } = writeResults(NAME, result, renderResults(result), docsBlocks(result));
  console.log(`\n${summaryText(result)}\n\nwrote ${jsonPath}\n      ${mdPath}`);
  return result.ok ? 0 : 1;
}

/** A state directory in memory (/dev/shm) where there is one, else the system temp directory. */
function memoryStateDir() {
  if (!existsSync("/dev/shm")) return makeStateDir();
  return mkdtempSync(path.join("/dev/shm", "edgebeat-bench-state-"));
}

/**
 * The due phase again with workerd's local defaults, on a fresh runtime: state on disk (every
 * commit an fsync on the one thread) and idle objects evicted after 10 s (each topic constructed
 * again every slot of a 10 s schedule).
 * @param {string} root
 * @param {Record<string, string>} vars
 * @param {string} logFile
 * @param {string} healthUrl
 */
async function localDefaultsDue(root, vars, logFile, healthUrl) {
  const stateDir = makeStateDir();
  run.onCleanup(() => removeDir(stateDir));
  const server = await startRuntime({ root, stateDir, vars, logFile, keepObjects: false });
  run.onCleanup(() => server.stop());
  const local = { ...options, schedules: options.localDue, due: options.localDue };
  const bench = { base: server.url, options: local, healthUrl, workerdPid: server.workerdPid, log: run.log };
  run.log(`workerd's local defaults (state on disk, 10 s eviction): ${options.localDue} schedules, all due`);
  const creates = await runCreates(bench);
  const due = await runDue(bench);
  await server.stop();
  return { ...due, ok: creates.ok && due.ok };
}

/** `--probe bench`: a /health in this process, so the probes cost workerd only their fetch. */
async function benchHealth() {
  const server = createServer((_, response) =>
    response.writeHead(200, { "Content-Type": "application/json" }).end('{"ok":true}'),
  );
  await new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(undefined)));
  run.onCleanup(() => server.close());
  const address = /** @type {import("node:net").AddressInfo} */ (server.address());
  return `http://127.0.0.1:${address.port}/health`;
}

/**
 * The fault run (`--restarts K`) on wrangler dev, which restarts on the same state directory.
 * @param {any} machine
 * @param {any} project
 * @param {string} stateDir
 * @param {string} logFile
 */
async function restartRun(machine, project, stateDir, logFile) {
  /** @type {any} */
  let server = null;
  run.onCleanup(() => server?.stop());
  const started = performance.now();
  const restarts = await runRestarts({ project, stateDir, logFile, options, log: run.log, onServer: (s) => (server = s) });
  const result = {
    bench: NAME,
    date: new Date().toISOString(),
    machine: { ...machine, loadAverage1m: machineFacts().loadAverage1m },
    options,
    durationS: Math.round((performance.now() - started) / 1000),
    restarts,
    ok: restarts.ok,
  };
  const { jsonPath, mdPath } = writeResults(NAME, result, renderRestarts(result), restartsBlocks(result));
  console.log(`\n${restartsSummary(result)}\n\nwrote ${jsonPath}\n      ${mdPath}`);
  return result.ok ? 0 : 1;
}

run.main(main);
