/**
 * `npm run bench:longpoll`: one long-poll client (`GET /topics/announcements/history?since=<last>&wait=25`,
 * again as soon as each answer arrives) against a topic published at 1/s for `--seconds`. Every
 * value must be seen exactly once; added latency is receipt − the metric's `ts` (the server's
 * clock at publish, the same wall clock as the client's on one machine), and POST sent → receipt
 * on the monotonic clock. Goal: median added latency under 50 ms locally.
 *
 * The Worker runs direct (bench/lib/runtime.mjs: Miniflare on a direct socket). Results:
 * bench/results/longpoll.{json,md} and the `bench:longpoll` table in docs/performance.md.
 */
import { startChild } from "./lib/child.mjs";
import { machineTable, table } from "./lib/markdown.mjs";
import { monoMs } from "./lib/procs.mjs";
import { benchArgs, machineFacts, rerender, startRun, writeResults } from "./lib/run.mjs";
import { BENCH_SECRETS, makeStateDir, removeDir, snapshotProject } from "./lib/server.mjs";
import { sleep } from "./lib/sockets.mjs";
import { summarize } from "./lib/stats.mjs";

const NAME = "longpoll";
const TOPIC = "announcements";
const GOAL_MEDIAN_MS = 50;

const USAGE = `Usage: npm run bench:longpoll -- [options]

  --seconds N           publish once a second for N seconds (default 60)
  --wait S              the long-poll's wait, seconds (default 25; the server allows at most 30)
  --interval-ms MS      time between publishes (default 1000)
  --deadline-s S        hard deadline for the whole run; exit 2 when hit (default: seconds + 180)
  --render-only         only rewrite bench/results/longpoll.md and its docs/performance.md table from the .json

Exit 0 when every value was seen exactly once, 1 when not, 2 on the deadline.`;

const args = benchArgs(
  USAGE,
  {
    seconds: { type: "string", default: "60" },
    wait: { type: "string", default: "25" },
    "interval-ms": { type: "string", default: "1000" },
    "deadline-s": { type: "string", default: "" },
  },
  () => rerender(NAME, renderResults, (r) => ({ longpoll: docsTable(r) })),
);
const seconds = Number(args.seconds);
const waitS = Number(args.wait);
const intervalMs = Number(args["interval-ms"]);
const deadlineMs = (args["deadline-s"] === "" ? seconds + 180 : Number(args["deadline-s"])) * 1000;
if (![seconds, intervalMs, deadlineMs].every((x) => Number.isFinite(x) && x > 0) || !(waitS >= 1 && waitS <= 30)) {
  console.error(`bad option value\n\n${USAGE}`);
  process.exit(64);
}
const run = startRun(NAME, deadlineMs);

/**
 * The client: polls until `stop()`, noting each metric's receipt once per delivery.
 * @param {string} topicUrl
 */
function longPollClient(topicUrl) {
  /** @type {{ seq: number, n: number, ts: number, wallAt: number, monoAt: number }[]} */
  const received = [];
  const polls = { answered: 0, empty: 0, errors: /** @type {string[]} */ ([]), heldMs: /** @type {number[]} */ ([]) };
  const abort = new AbortController();
  let since = 0;
  const loop = (async () => {
    while (!abort.signal.aborted) {
      const started = monoMs();
      try {
        const response = await fetch(`${topicUrl}/history?since=${since}&wait=${waitS}`, { signal: abort.signal });
        const text = await response.text();
        const monoAt = monoMs();
        const wallAt = Date.now();
        if (response.status !== 200) throw new Error(`${response.status} ${text.slice(0, 120)}`);
        const page = JSON.parse(text);
        polls.answered++;
        polls.heldMs.push(monoAt - started);
        if (page.messages.length === 0) polls.empty++;
        for (const m of page.messages) {
          received.push({ seq: m.seq, n: m.value.n, ts: m.ts, wallAt, monoAt });
          since = Math.max(since, m.seq);
        }
      } catch (error) {
        if (abort.signal.aborted) break;
        polls.errors.push(error instanceof Error ? error.message : String(error));
        await sleep(1_000);
      }
    }
  })();
  return {
    received,
    polls,
    since: () => since,
    stop: async () => {
      abort.abort();
      await loop;
    },
  };
}

async function main() {
  const machine = machineFacts();
  const project = await snapshotProject();
  run.onCleanup(() => removeDir(project.root));
  const stateDir = makeStateDir();
  const runtime = await startChild("runtime.mjs", [project.root, stateDir, JSON.stringify(BENCH_SECRETS)], {
    detached: true,
    readyTimeoutMs: 120_000,
  });
  run.onCleanup(async () => {
    await runtime.stop();
    removeDir(stateDir);
  });
  const topicUrl = `${runtime.hello.url}/topics/${TOPIC}`;
  const headers = { Authorization: `Bearer ${BENCH_SECRETS.PUBLISH_TOKEN}`, "Content-Type": "application/json" };
  const client = longPollClient(topicUrl);
  await sleep(1_000);
  run.log(`publishing every ${intervalMs} ms for ${seconds} s; the client polls with wait=${waitS}`);

  /** @type {{ n: number, seq: number | null, sentAt: number, error: string | null }[]} */
  const published = [];
  const count = Math.round((seconds * 1000) / intervalMs);
  const start = monoMs();
  for (let n = 1; n <= count; n++) {
    await sleep(start + (n - 1) * intervalMs - monoMs());
    const sentAt = monoMs();
    try {
      const body = JSON.stringify({ value: { n }, id: `longpoll-${n}` });
      const response = await fetch(topicUrl, { method: "POST", headers, body, signal: AbortSignal.timeout(10_000) });
      const text = await response.text();
      published.push(
        response.status === 202
          ? { n, seq: JSON.parse(text).seq, sentAt, error: null }
          : { n, seq: null, sentAt, error: `${response.status} ${text.slice(0, 120)}` },
      );
    } catch (error) {
      published.push({ n, seq: null, sentAt, error: error instanceof Error ? error.message : String(error) });
    }
  }
  const lastSeq = Math.max(0, ...published.map((p) => p.seq ?? 0));
  for (const until = monoMs() + 30_000; client.since() < lastSeq && monoMs() < until; ) await sleep(50);
  await client.stop();

  const result = record(machine, published, client);
  const { jsonPath, mdPath } = writeResults(NAME, result, renderResults(result), { longpoll: docsTable(result) });
  run.log(
    `seen ${result.delivery.seenOnce}/${result.delivery.published} once, lost ${result.delivery.lost}, duplicated ${result.delivery.duplicated}; ` +
      `added latency p50 ${result.addedMs.p50} ms, p99 ${result.addedMs.p99} (goal p50 < ${GOAL_MEDIAN_MS}: ${result.goalMet ? "met" : "not met"})`,
  );
  console.log(`wrote ${jsonPath}\n      ${mdPath}`);
  return result.ok ? 0 : 1;
}

/**
 * @param {any} machine
 * @param {{ n: number, seq: number | null, sentAt: number, error: string | null }[]} published
 * @param {ReturnType<typeof longPollClient>} client
 */
function record(machine, published, client) {
  const accepted = published.filter((p) => p.seq !== null);
  /** @type {Map<number, number>} */
  const times = new Map();
  for (const r of client.received) times.set(r.n, (times.get(r.n) ?? 0) + 1);
  const seenOnce = accepted.filter((p) => times.get(p.n) === 1).length;
  const lost = accepted.filter((p) => !times.has(p.n)).length;
  const duplicated = [...times.values()].reduce((sum, k) => sum + Math.max(0, k - 1), 0);
  const unknown = client.received.filter((r) => !accepted.some((p) => p.n === r.n)).length;
  const firsts = new Map(client.received.toReversed().map((r) => [r.n, r]));
  const sent = new Map(accepted.map((p) => [p.n, p.sentAt]));
  const added = [...firsts.values()].map((r) => r.wallAt - r.ts);
  const sentToReceipt = [...firsts.values()].flatMap((r) => (sent.has(r.n) ? [r.monoAt - (sent.get(r.n) ?? 0)] : []));
  const addedMs = summarize(added, 1);
  const ok = lost + duplicated + unknown === 0 && accepted.length === published.length && client.polls.errors.length === 0;
  return {
    bench: NAME,
    date: new Date().toISOString(),
    ok,
    goalMet: addedMs.p50 !== null && addedMs.p50 < GOAL_MEDIAN_MS,
    machine,
    parameters: { seconds, intervalMs, waitS, topic: TOPIC, target: "edgebeat direct (bench/lib/runtime.mjs)" },
    delivery: {
      published: published.length,
      accepted: accepted.length,
      publishErrors: published.flatMap((p) => p.error ?? []),
      seenOnce,
      lost,
      duplicated,
      unknown,
    },
    addedMs,
    sentToReceiptMs: summarize(sentToReceipt, 1),
    polls: { ...client.polls, heldMs: summarize(client.polls.heldMs, 0), errors: client.polls.errors.slice(0, 10) },
    pollErrors: client.polls.errors.length,
  };
}

/** @param {any} r */
function docsTable(r) {
  const d = r.delivery;
  const rows = [
    [
      `values published (1 every ${r.parameters.intervalMs} ms, ${r.parameters.seconds} s)`,
      `${d.accepted} of ${d.published} accepted`,
    ],
    [
      "seen exactly once / lost / duplicated",
      `${d.seenOnce} / ${d.lost} / ${d.duplicated}${d.unknown > 0 ? ` (+${d.unknown} never published)` : ""}`,
    ],
    [
      "added latency (receipt − metric `ts`) p50 / p90 / p99 / max (ms)",
      [r.addedMs.p50, r.addedMs.p90, r.addedMs.p99, r.addedMs.max].join(" / "),
    ],
    ["POST sent → receipt p50 / p99 (ms)", `${r.sentToReceiptMs.p50} / ${r.sentToReceiptMs.p99}`],
    [`polls answered (wait=${r.parameters.waitS}) / empty / errors`, `${r.polls.answered} / ${r.polls.empty} / ${r.pollErrors}`],
    [`goal: median added latency < ${GOAL_MEDIAN_MS} ms, every value once`, r.goalMet && r.ok ? "met" : "**not met**"],
    ["machine, date", `${r.machine.cores} cores, ${r.date.slice(0, 10)}, commit ${r.machine.commit}`],
  ];
  return table(["long-poll (`npm run bench:longpoll`)", "last run"], rows, ["l", "l"]);
}

/** @param {any} r */
function renderResults(r) {
  return `# Long-poll at 1 publish/s

Generated by \`bench/longpoll.mjs\` on ${r.date}; do not edit by hand. What it measures:
[docs/performance.md](../../docs/performance.md).

${machineTable(r.machine)}

${docsTable(r)}
`;
}

run.main(main);
