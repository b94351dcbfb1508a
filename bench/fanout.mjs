/**
 * `npm run bench`: fan-out at speed and at scale. For N subscribers of /topics/announcements it
 * fires K publishes one at a time and measures how long until every subscriber has each, against
 * a plain `ws` broadcaster (the ceiling), then runs the other phases of the plan and the
 * sustained-rate probes. Each part lives in bench/fanout/; bench/README.md says what each measures.
 *
 * Results: bench/results/fanout.{json,md} and the tables in docs/performance.md; wrangler's
 * output: bench/results/fanout.server.log.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import * as batching from "./fanout/batching.mjs";
import * as before from "./fanout/before.mjs";
import * as deflate from "./fanout/deflate.mjs";
import * as floor from "./fanout/floor.mjs";
import { summaryText } from "./fanout/headline.mjs";
import { parseOptions } from "./fanout/options.mjs";
import { runPhase } from "./fanout/phase.mjs";
import * as profile from "./fanout/profile.mjs";
import { completions } from "./fanout/publishes.mjs";
import { docsBlocks, renderResults } from "./fanout/report.mjs";
import { runRecord } from "./fanout/run-record.mjs";
import * as scale from "./fanout/scale.mjs";
import * as shards from "./fanout/shards.mjs";
import * as sse from "./fanout/sse.mjs";
import { runSustained } from "./fanout/sustained.mjs";
import { targets } from "./fanout/targets.mjs";
import { monoMs } from "./lib/procs.mjs";
import { machineFacts, RESULTS_DIR, rerender, startRun, writeResults } from "./lib/run.mjs";
import { removeDir, snapshotProject } from "./lib/server.mjs";

// The SSE phase's flags come out of argv first; --sse-only writes its own result files.
const sseOptions = sse.takeOptions(process.argv);
const NAME = sseOptions.only ? "fanout-sse" : "fanout";
const render = sseOptions.only ? sse.renderResults : (/** @type {any} */ r) => `${renderResults(r)}\n${sse.section(r)}\n`;
const blocks = sseOptions.only ? sse.docsBlocks : (/** @type {any} */ r) => ({ ...docsBlocks(r), ...sse.docsBlocks(r) });
const options = parseOptions(() => console.log(summaryText(rerender(NAME, render, blocks))));
// --sse-only measures one N, whatever --sizes says.
if (sseOptions.only) Object.assign(options, { sizes: [sseOptions.n], largest: sseOptions.n });
const run = startRun(NAME, options.deadlineMs);

/** The short hash of a commit. @param {string} ref */
const commitOf = (ref) => execFileSync("git", ["rev-parse", "--short", ref], { encoding: "utf8" }).trim();

async function main() {
  const machine = machineFacts();
  // The files measured are the commit's, whatever the working tree holds.
  if (options.ref !== undefined) machine.commit = `${commitOf(options.ref)} (${options.ref}, git archive)`;
  const project = await snapshotProject(options.ref === undefined ? {} : { ref: options.ref });
  run.onCleanup(() => removeDir(project.root));
  const beforeProject = options.before === undefined ? null : await snapshotProject({ ref: options.before });
  if (beforeProject !== null) run.onCleanup(() => removeDir(beforeProject.root));
  const beforeCommit = options.before === undefined ? null : commitOf(options.before);
  const profileDir = mkdtempSync(path.join(tmpdir(), "edgebeat-bench-perf-"));
  run.onCleanup(() => removeDir(profileDir));
  const logFile = path.join(RESULTS_DIR, `${NAME}.server.log`);
  writeFileSync(logFile, "");
  /** Whatever target and load generator are running now, for cleanup. @type {Set<{ stop: () => Promise<void> }>} */
  const running = new Set();
  run.onCleanup(async () => {
    for (const thing of running) await thing.stop();
  });
  const done = completions();
  const starters = targets({ project, beforeProject, logFile, deadlineMs: options.deadlineMs, onEvent: done.onEvent, running });
  const bench = { options, targets: starters, done, profileDir, log: run.log };

  const profiled = profile.plan(options);
  const parts = sseOptions.only ? [] : [scale, deflate, before, floor, shards].flatMap((part) => part.plan(options));
  const plan = parts.concat(sseOptions.only ? [] : profiled.specs, sse.plan(sseOptions));
  const sseRun = sse.sseBench(bench, { n: sseOptions.n });
  const startedAt = monoMs();
  const phases = [];
  for (const spec of plan) phases.push(await runPhase(spec.role === "sse" ? sseRun : bench, spec));
  const probing = options.sustainedN > 0 && !sseOptions.only;
  const sustained = probing ? await runSustained(bench) : null;
  const sustainedBefore = probing && options.before !== undefined ? await runSustained(bench, { before: true }) : null;
  const rates = batching.batchedRates(options, sustained);
  const sustainedBatched = rates.length > 0 ? await runSustained(bench, { batchRate: options.batchRate, rates }) : null;

  const result = runRecord({
    options,
    machine,
    beforeCommit,
    profileNote: profiled.note,
    durationS: Math.round((monoMs() - startedAt) / 1000),
    phases,
    sustained,
    sustainedBefore,
    sustainedBatched,
  });
  Object.assign(result.parameters, { sse: sseOptions });
  const { jsonPath, mdPath } = writeResults(NAME, result, render(result), blocks(result));
  console.log(`\n${summaryText(result)}\n${sse.summaryLine(result)}\n\nwrote ${jsonPath}\n      ${mdPath}`);
  return result.ok ? 0 : 1;
}

run.main(main);
