/**
 * The SSE phase: `--sse-n` (default 1,000) Server-Sent Events subscribers of
 * `GET /topics/announcements/events` on edgebeat direct, measured by bench/fanout/phase.mjs as it
 * measures the WebSocket phases (same publishes, same memory and CPU samples), with
 * bench/fanout/sse-loadgen.mjs as the load generator. Its table sets it beside the WebSocket
 * phase of the same run at the same N. `--sse-only` runs just those two phases.
 */
import { machineTable, table } from "../lib/markdown.mjs";
import { ceilingFor, directAt, fmt, lossCell, notMeasured, ratioOf } from "./format.mjs";

/** The server's own cap (src/durable/streams.ts); the phase raises MAX_STREAMS when --sse-n is above it. */
const DEFAULT_MAX_STREAMS = 1_000;

export const USAGE = `
SSE phase (bench/fanout/sse.mjs):

  --sse-n N             Server-Sent Events subscribers of the SSE phase, direct, compared with the
                        WebSocket phase direct at the same N (default 1000; 0 skips it)
  --sse-only            run only the SSE phase and that WebSocket phase (--sizes is ignored);
                        results in bench/results/fanout-sse.{json,md}, docs table bench:fanout-sse`;

/**
 * Takes this phase's flags out of `argv` (so the fan-out bench's parser does not see them).
 * @param {string[]} argv process.argv, changed in place
 * @returns {{ n: number, only: boolean }}
 */
export function takeOptions(argv) {
  let n = 1000;
  let only = false;
  for (let i = 2; i < argv.length; ) {
    const arg = argv[i] ?? "";
    if (arg === "--sse-only") {
      only = true;
      argv.splice(i, 1);
    } else if (arg === "--sse-n" || arg.startsWith("--sse-n=")) {
      const inline = arg.includes("=");
      n = Number(inline ? arg.slice(arg.indexOf("=") + 1) : argv[i + 1]);
      argv.splice(i, inline ? 1 : 2);
    } else i++;
  }
  if (argv.includes("--help") || argv.includes("-h")) process.on("exit", () => console.log(USAGE));
  if (!Number.isInteger(n) || n < 0 || n > 8000) {
    console.error(`--sse-n must be an integer from 0 to 8000${USAGE}`);
    process.exit(64);
  }
  if (only && n === 0) {
    console.error(`--sse-only needs --sse-n above 0${USAGE}`);
    process.exit(64);
  }
  return { n, only };
}

/**
 * The SSE phase, and with `only` the WebSocket phase it is compared with, before it.
 * @param {{ n: number, only: boolean }} sse
 * @returns {import("./phase.mjs").PhaseSpec[]}
 */
export function plan({ n, only }) {
  if (n === 0) return [];
  /** @type {import("./phase.mjs").PhaseSpec[]} */
  const specs = only ? [{ name: `direct-${n}`, kind: "direct", n, role: "main" }] : [];
  return [...specs, { name: `sse-${n}`, kind: "direct", n, role: "sse" }];
}

/**
 * `bench` with targets for the SSE phase: the SSE load generator, and edgebeat direct with
 * MAX_STREAMS at least N (otherwise as bench/fanout/targets.mjs starts it).
 * @param {import("./phase.mjs").Bench} bench
 * @param {object} context
 * @param {number} context.n streams the phase opens
 * @returns {import("./phase.mjs").Bench}
 */
export function sseBench(bench, { n }) {
  const targets = {
    ...bench.targets,
    startLoadgen: () => bench.targets.startLoadgen("../fanout/sse-loadgen.mjs"),
    startEdgebeat: () =>
      bench.targets.startEdgebeat("direct", {
        vars: { SHARDS: "", BATCH: "", MAX_STREAMS: String(Math.max(n, DEFAULT_MAX_STREAMS)) },
      }),
  };
  return { ...bench, targets };
}

/**
 * SSE beside WebSockets, both edgebeat direct at the same N in the same run (and the ceiling, when
 * the run measured it).
 * @param {any} r
 */
export function sseTable(r) {
  const sse = r.phases.filter((/** @type {any} */ p) => p.role === "sse");
  if (sse.length === 0) return notMeasured("`--sse-n 0`");
  const withCeiling = sse.some((/** @type {any} */ s) => ceilingFor(r, s) !== null);
  const rows = sse.flatMap((/** @type {any} */ s) => {
    const ws = directAt(r, s.n) ?? null;
    const c = ceilingFor(r, s);
    return [
      ["subscribers", s.n, ws?.n ?? "–", c?.n ?? "–"],
      ...[
        ["delivered / expected", (/** @type {any} */ p) => lossCell(p)],
        ["connect all (s)", (/** @type {any} */ p) => fmt(p.connect.totalMs / 1000)],
        ["fan-out p50 (ms)", (/** @type {any} */ p) => fmt(p.fanoutMs.p50)],
        ["fan-out p99 (ms)", (/** @type {any} */ p) => fmt(p.fanoutMs.p99)],
        ["publish → receipt p50 (ms)", (/** @type {any} */ p) => fmt(p.latencyMs.p50)],
        ["publish → receipt p99 (ms)", (/** @type {any} */ p) => fmt(p.latencyMs.p99)],
        ["workerd RSS / subscriber (KiB)", (/** @type {any} */ p) => p.memory.runtimeKiBPerConn.afterPublishes],
        ["workerd CPU / publish (ms)", (/** @type {any} */ p) => p.cpu.runtimeMsPerPublish],
        ["load generator CPU / publish (ms)", (/** @type {any} */ p) => p.cpu.loadgenMsPerPublish],
        ["other processes while measuring (% of a core)", (/** @type {any} */ p) => p.cpu.othersPctOfCore ?? "–"],
      ].map(([name, get]) => {
        const cell = /** @type {(p: any) => unknown} */ (get);
        return [name, cell(s), ws === null ? "–" : cell(ws), c === null ? "–" : cell(c)];
      }),
      ["SSE fan-out p99 / WebSocket", ratioOf(s.fanoutMs.p99, ws?.fanoutMs.p99), "–", "–"],
    ];
  });
  const headers = ["SSE vs WebSocket, direct (`npm run bench`)", "SSE streams", "WebSockets", "ceiling (ws)"];
  const keep = withCeiling ? 4 : 3;
  return table(
    headers.slice(0, keep),
    rows.map((/** @type {unknown[]} */ row) => row.slice(0, keep)),
    /** @type {("l" | "r")[]} */ (["l", "r", "r", "r"]).slice(0, keep),
  );
}

/**
 * The line the bench prints for the SSE phase.
 * @param {any} r
 */
export function summaryLine(r) {
  return r.phases
    .filter((/** @type {any} */ p) => p.role === "sse")
    .map(
      (/** @type {any} */ p) =>
        `${String(p.n).padStart(5)} SSE streams, direct        fan-out p50 ${p.fanoutMs.p50} ms, p99 ${p.fanoutMs.p99}; ` +
        `RSS/stream ${p.memory.runtimeKiBPerConn.afterPublishes} KiB; CPU/publish ${p.cpu.runtimeMsPerPublish} ms; delivered ${p.delivery.delivered}/${p.delivery.expected}`,
    )
    .join("\n");
}

/**
 * The `bench:fanout-sse` block; none for a run without the SSE phase (`--sse-n 0`, or an older
 * run's JSON re-rendered), so the last run's table stays.
 * @param {any} r
 * @returns {Record<string, string>}
 */
export function docsBlocks(r) {
  if (!r.phases.some((/** @type {any} */ p) => p.role === "sse")) return {};
  return {
    "fanout-sse": `${sseTable(r)}\n\nRun of ${r.date.slice(0, 10)}, ${r.machine.cores} cores, commit ${r.machine.commit}.`,
  };
}

/** bench/results/fanout.md's section. @param {any} r */
export function section(r) {
  return `## Server-Sent Events beside WebSockets\n\n${sseTable(r)}`;
}

/** The whole of bench/results/fanout-sse.md, for `--sse-only`. @param {any} r */
export function renderResults(r) {
  return `# SSE beside WebSockets (\`npm run bench -- --sse-only\`)

Generated by \`bench/fanout.mjs --sse-only\` on ${r.date} (${r.durationS} s); do not edit by hand.
What it measures: [docs/performance.md](../../docs/performance.md).

${machineTable(r.machine)}

${sseTable(r)}
`;
}
