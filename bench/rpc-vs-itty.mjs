/**
 * Why native Durable Object RPC: the same publish through native RPC (`stub.publish(value)`) and
 * through itty-durable (the wrapper edgebeat's design once named, which routes a method call
 * through `fetch` with the arguments as JSON in a `do-content` header and the result as a JSON
 * response), in one run of one `wrangler dev`, on the fixture Worker in bench/fixtures/rpc-vs-itty/.
 *
 * Each round asks the fixture for `--calls` sequential publishes in each style (the order
 * alternates between rounds); the fixture times every call inside the Worker. Per style: calls/s
 * (calls / summed in-Worker time), per-call p50/p99/mean, and itty/native ratios; and the minified
 * bundle size itty-durable and itty-router add to a Worker (native RPC adds none: it is the
 * runtime's). Writes bench/results/rpc-vs-itty.{json,md} and the headline rows into docs/performance.md.
 */
import { cpSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { machineTable, table } from "./lib/markdown.mjs";
import { benchArgs, machineFacts, RESULTS_DIR, rerender, startRun, writeResults } from "./lib/run.mjs";
import { makeStateDir, removeDir, snapshotProject } from "./lib/server.mjs";
import { summarize } from "./lib/stats.mjs";

const NAME = "rpc-vs-itty";
const FIXTURE = fileURLToPath(new URL("./fixtures/rpc-vs-itty", import.meta.url));
const STYLES = /** @type {const} */ (["native", "itty"]);
const USAGE = `Usage: npm run bench:rpc -- [options]

  --calls N         sequential publishes per style per round (default 500)
  --rounds R        rounds, each running both styles, order alternating (default 5)
  --warmup N        untimed publishes per style before the rounds (default 200)
  --deadline-s S    hard deadline (default 300); exit 2 when hit
  --render-only     only rewrite bench/results/rpc-vs-itty.md and its docs/performance.md table from its .json`;

const args = benchArgs(
  USAGE,
  {
    calls: { type: "string", default: "500" },
    rounds: { type: "string", default: "5" },
    warmup: { type: "string", default: "200" },
    "deadline-s": { type: "string", default: "300" },
  },
  () => rerender(NAME, render, docsBlocks),
);
const CALLS = Number(args.calls);
const ROUNDS = Number(args.rounds);
const WARMUP = Number(args.warmup);
const DEADLINE_MS = Number(args["deadline-s"]) * 1000;
const intIn = (/** @type {number} */ x, /** @type {number} */ lo, /** @type {number} */ hi) =>
  Number.isInteger(x) && x >= lo && x <= hi;
if (!(intIn(CALLS, 1, 10_000) && intIn(ROUNDS, 1, 100) && intIn(WARMUP, 0, 10_000) && DEADLINE_MS > 0)) {
  console.error(`bad options (--calls and --warmup at most 10000, --rounds 1–100)\n\n${USAGE}`);
  process.exit(64);
}

const run = startRun(NAME, DEADLINE_MS);
const { log } = run;

/**
 * @param {string} url
 * @returns {Promise<any>}
 */
async function getJson(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  const body = await response.text();
  if (!response.ok) throw new Error(`GET ${url}: ${response.status} ${body.slice(0, 500)}`);
  return JSON.parse(body);
}

/** Minified (and gzipped) bytes that itty-durable with its itty-router imports adds to a Worker bundle. */
async function ittyBundleBytes() {
  const result = await build({
    stdin: { contents: `export { createDurable, proxyDurable } from "itty-durable";`, resolveDir: FIXTURE },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "neutral",
    mainFields: ["module", "main"],
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
  return { minified: code.length, gzip: gzipSync(code).length };
}

/** @param {number} x */
const round2 = (x) => Number(x.toFixed(2));

async function main() {
  const facts = machineFacts();
  // The project snapshot (for startDevServer) with the fixture copied into it, so an edit in the
  // working tree during the run cannot reload the Worker under the measurement.
  const project = await snapshotProject();
  run.onCleanup(() => removeDir(project.root));
  const fixtureDir = path.join(project.root, "bench-fixture");
  cpSync(FIXTURE, fixtureDir, { recursive: true });
  const stateDir = makeStateDir();
  run.onCleanup(() => removeDir(stateDir));
  const logFile = path.join(RESULTS_DIR, `${NAME}.server.log`);
  writeFileSync(logFile, "");

  /** @type {import("../scripts/lib/wrangler-dev.mjs").DevServer | null} */
  let server = null;
  run.onCleanup(() => server?.stop());
  server = await project.devServer.startDevServer({
    persistTo: stateDir,
    extraArgs: ["--config", path.join(fixtureDir, "wrangler.toml")],
    log: (/** @type {string} */ text) => writeFileSync(logFile, text, { flag: "a" }),
  });
  const base = server.url;
  log(`fixture up on ${base} (pgid ${server.pid}); ${ROUNDS} rounds × ${CALLS} calls per style`);

  const warm = await getJson(`${base}/warm`);
  if (WARMUP > 0) for (const style of STYLES) await getJson(`${base}/${style}?n=${WARMUP}`);
  log(`warm: ${JSON.stringify(warm)}; ${WARMUP} untimed calls per style done`);

  /** @type {{ round: number, style: string, n: number, totalMs: number, wallMs: number, callsPerSecond: number, firstSeq: number, lastSeq: number }[]} */
  const rounds = [];
  /** @type {Record<string, number[]>} */
  const perCall = { native: [], itty: [] };
  /** @type {string[]} */
  const problems = [];
  let valueBytes = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const order = r % 2 === 0 ? STYLES : [...STYLES].reverse();
    for (const style of order) {
      const t0 = performance.now();
      const answer = await getJson(`${base}/${style}?n=${CALLS}`);
      const wallMs = performance.now() - t0;
      if (answer.n !== CALLS || answer.perCallMs.length !== CALLS || answer.lastSeq - answer.firstSeq !== CALLS - 1) {
        problems.push(`round ${r + 1} ${style}: n ${answer.n}, seqs ${answer.firstSeq}..${answer.lastSeq}`);
      }
      perCall[style]?.push(...answer.perCallMs);
      valueBytes = answer.valueBytes;
      const callsPerSecond = Math.round(CALLS / (answer.totalMs / 1000));
      rounds.push({
        round: r + 1,
        style,
        n: CALLS,
        totalMs: answer.totalMs,
        wallMs: Math.round(wallMs),
        callsPerSecond,
        firstSeq: answer.firstSeq,
        lastSeq: answer.lastSeq,
      });
      log(`round ${r + 1} ${style}: ${CALLS} calls in ${answer.totalMs} ms (${callsPerSecond}/s)`);
    }
  }

  /** @type {Record<string, any>} */
  const styles = {};
  for (const style of STYLES) {
    const mine = rounds.filter((x) => x.style === style);
    const calls = mine.reduce((sum, x) => sum + x.n, 0);
    const totalMs = mine.reduce((sum, x) => sum + x.totalMs, 0);
    const perRound = mine.map((x) => x.callsPerSecond);
    styles[style] = {
      calls,
      totalMs,
      callsPerSecond: Math.round(calls / (totalMs / 1000)),
      callsPerSecondPerRound: { min: Math.min(...perRound), max: Math.max(...perRound) },
      meanMs: round2(totalMs / calls),
      perCallMs: summarize(perCall[style] ?? [], 2),
    };
  }
  const { native, itty } = styles;
  const ratios = {
    meanMs: round2(itty.meanMs / native.meanMs),
    p50: native.perCallMs.p50 > 0 ? round2(itty.perCallMs.p50 / native.perCallMs.p50) : null,
    p99: native.perCallMs.p99 > 0 ? round2(itty.perCallMs.p99 / native.perCallMs.p99) : null,
    callsPerSecond: round2(native.callsPerSecond / itty.callsPerSecond),
  };
  let bundle = null;
  try {
    bundle = { native: { minified: 0, gzip: 0 }, itty: await ittyBundleBytes() };
  } catch (error) {
    log(`bundle size skipped: ${error}`);
  }

  const result = {
    name: NAME,
    date: new Date().toISOString(),
    machine: { ...facts, loadAverage1m: machineFacts().loadAverage1m },
    parameters: { calls: CALLS, rounds: ROUNDS, warmup: WARMUP, valueBytes, fixture: "bench/fixtures/rpc-vs-itty" },
    styles,
    ratios,
    bundle,
    rounds,
    problems,
  };
  const { jsonPath, mdPath } = writeResults(NAME, result, render(result), docsBlocks(result));
  log(`native ${native.callsPerSecond}/s, p50 ${native.perCallMs.p50} ms, p99 ${native.perCallMs.p99} ms`);
  log(`itty   ${itty.callsPerSecond}/s, p50 ${itty.perCallMs.p50} ms, p99 ${itty.perCallMs.p99} ms`);
  log(`itty/native: mean ${ratios.meanMs}×, p50 ${ratios.p50}×, p99 ${ratios.p99}×; wrote ${jsonPath} and ${mdPath}`);
  if (problems.length > 0) console.error(`problems:\n${problems.join("\n")}`);
  return problems.length === 0 ? 0 : 1;
}

/** @param {any} r */
function render(r) {
  const row = (/** @type {string} */ style) => {
    const s = r.styles[style];
    return [
      style,
      s.calls,
      s.callsPerSecond,
      `${s.callsPerSecondPerRound.min}–${s.callsPerSecondPerRound.max}`,
      s.meanMs,
      s.perCallMs.p50,
      s.perCallMs.p90,
      s.perCallMs.p99,
      s.perCallMs.max,
    ];
  };
  return `# Native Durable Object RPC vs itty-durable

Generated by \`bench/rpc-vs-itty.mjs\` on ${r.date}; do not edit by hand. What the figures
show: [docs/performance.md](../../docs/performance.md).

${machineTable(r.machine)}

${table(
  ["parameter", "value"],
  [
    ["calls per style per round", r.parameters.calls],
    ["rounds (order alternates)", r.parameters.rounds],
    ["untimed warm-up calls per style", r.parameters.warmup],
    ["value (JSON bytes)", r.parameters.valueBytes],
    ["fixture", r.parameters.fixture],
  ],
)}

${table(
  ["style", "calls", "calls/s", "calls/s per round", "mean ms", "p50 ms", "p90 ms", "p99 ms", "max ms"],
  [row("native"), row("itty")],
)}

${table(
  ["itty / native", "value"],
  [
    ["mean per call", `${r.ratios.meanMs}×`],
    ["p50, p99 per call (whole ms)", `${r.ratios.p50 ?? "–"}×, ${r.ratios.p99 ?? "–"}×`],
    ["calls per second, native / itty", `${r.ratios.callsPerSecond}×`],
    [
      "bundle added, minified (gzip): itty-durable with itty-router / native RPC",
      r.bundle === null ? "not measured" : `${r.bundle.itty.minified} B (${r.bundle.itty.gzip} B) / 0`,
    ],
  ],
)}

## Rounds

${table(
  ["round", "style", "calls", "in-Worker ms", "HTTP wall ms", "calls/s", "seqs"],
  r.rounds.map((/** @type {any} */ x) => [
    x.round,
    x.style,
    x.n,
    x.totalMs,
    x.wallMs,
    x.callsPerSecond,
    `${x.firstSeq}–${x.lastSeq}`,
  ]),
)}
${r.problems.length === 0 ? "" : `\n## Problems\n\n${r.problems.map((/** @type {string} */ p) => `- ${p}`).join("\n")}\n`}`;
}

/**
 * The tables docs/performance.md shows, by block name.
 * @param {any} r
 */
function docsBlocks(r) {
  return { [NAME]: headline(r) };
}

/**
 * The headline figures: the `bench:rpc-vs-itty` block of docs/performance.md.
 * @param {any} r
 */
function headline(r) {
  const s = (/** @type {string} */ style) => {
    const x = r.styles[style];
    return `${x.callsPerSecond} calls/s, p50 ${x.perCallMs.p50} ms, p99 ${x.perCallMs.p99} ms`;
  };
  const date = r.date.slice(0, 10);
  return table(
    ["native RPC vs itty-durable (`npm run bench:rpc`)", "last run"],
    [
      ["native RPC publish", s("native")],
      ["itty-durable publish (fetch + JSON header)", s("itty")],
      ["itty / native, per call (mean, p99)", `${r.ratios.meanMs}×, ${r.ratios.p99 ?? "–"}×`],
      ...(r.bundle === null
        ? []
        : [["bundle added, minified (gzip)", `native 0, itty ${r.bundle.itty.minified} B (${r.bundle.itty.gzip} B)`]]),
      [
        "calls, machine, date",
        `${r.parameters.rounds} × ${r.parameters.calls} per style, ${r.machine.cores} cores, ${date}, commit ${r.machine.commit}`,
      ],
    ],
    ["l", "l"],
  );
}

run.main(main);
