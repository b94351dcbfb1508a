/**
 * `npm run bench:soak`: a steady load for a long time. One publish per second (`--rate`) to
 * /topics/announcements with 1,000 subscribers (the project's own client library) for 10 minutes
 * (`--minutes`). Reports delivered/expected per subscriber and in total, delivery latency, and
 * the memory of both workerd processes (the user runtime serving the Durable Object, and
 * wrangler's proxy) and of this client process at the start, the middle and the end.
 *
 * Results: bench/results/soak.{json,md}; wrangler's output: bench/results/soak.server.log.
 */
import { readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { loadClientLibrary } from "./lib/client.mjs";
import { machineTable, table } from "./lib/markdown.mjs";
import { publishUntilAccepted } from "./lib/publish.mjs";
import { rssMiB } from "./lib/rss.mjs";
import { benchArgs, machineFacts, RESULTS_DIR, rerender, startRun, writeResults } from "./lib/run.mjs";
import { BENCH_SECRETS, makeStateDir, removeDir, snapshotProject, startServer, workerdProcesses } from "./lib/server.mjs";
import { openInBatches, sleep, waitFor } from "./lib/sockets.mjs";
import { summarize } from "./lib/stats.mjs";
import { integrity, trackedSubscriber } from "./lib/subscribers.mjs";

const NAME = "soak";
const TOPIC = "announcements";
const USAGE = `Usage: npm run bench:soak -- [options]

  --minutes M       how long to publish (default 10)
  --subscribers N   subscribers through the public port (default 1000; at most 4500)
  --rate R          publishes per second (default 1)
  --sample-s S      memory sample interval (default 30)
  --render-only     only rewrite bench/results/soak.md and its docs/performance.md table from its .json

The hard deadline is --minutes + 3 minutes; exit 2 when hit.`;

const args = benchArgs(
  USAGE,
  {
    minutes: { type: "string", default: "10" },
    subscribers: { type: "string", default: "1000" },
    rate: { type: "string", default: "1" },
    "sample-s": { type: "string", default: "30" },
  },
  () => console.log(summaryText(rerender(NAME, render, docsBlocks))),
);
const MINUTES = Number(args.minutes);
const N = Number(args.subscribers);
const RATE = Number(args.rate);
const SAMPLE_MS = Number(args["sample-s"]) * 1000;
if (!(MINUTES > 0 && RATE > 0 && SAMPLE_MS > 0 && Number.isInteger(N) && N >= 1 && N <= 4500)) {
  console.error(`bad options (--subscribers must be 1–4500, the others positive)\n\n${USAGE}`);
  process.exit(64);
}
const K = Math.max(1, Math.round(MINUTES * 60 * RATE));
const DEADLINE_MS = (MINUTES + 3) * 60_000;

const run = startRun(NAME, DEADLINE_MS);
const { log } = run;

/** @param {number} pid */
function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

async function main() {
  const facts = machineFacts();
  // The server and the client library both come from one snapshot of the project (see lib/server.mjs).
  const project = await snapshotProject();
  run.onCleanup(() => removeDir(project.root));
  const { subscribe } = await loadClientLibrary(project.root);
  const stateDir = makeStateDir();
  run.onCleanup(() => removeDir(stateDir));
  const port = await project.devServer.freePort();
  const logFile = path.join(RESULTS_DIR, `${NAME}.server.log`);
  writeFileSync(logFile, "");
  const topicUrl = `http://127.0.0.1:${port}/topics/${TOPIC}`;

  /** @type {import("../scripts/lib/wrangler-dev.mjs").DevServer | null} */
  let server = null;
  run.onCleanup(() => server?.stop());
  server = await startServer(project.devServer, { port, stateDir, logFile });
  const pgid = server.pid;
  log(`wrangler dev up on port ${port} (pgid ${pgid}); ${N} subscribers, ${K} values over ${MINUTES} min`);

  const t0 = performance.now();
  /** @type {{ label: string, atS: number, published: number, workerd: Record<string, { pid: number, rssMiB: number | null, fds: number | null }>, clientRssMiB: number | null }[]} */
  const samples = [];
  let published = 0;
  const sample = (/** @type {string} */ label) => {
    const workerd = Object.fromEntries(
      workerdProcesses(pgid, port).map((p) => [p.role, { pid: p.pid, rssMiB: rssMiB(p.pid), fds: fdCount(p.pid) }]),
    );
    const entry = { label, atS: Math.round((performance.now() - t0) / 1000), published, workerd, clientRssMiB: rssMiB("self") };
    samples.push(entry);
    log(
      `${label}: published ${published}/${K}; RSS user ${workerd.user?.rssMiB} MiB, proxy ${workerd.proxy?.rssMiB} MiB, client ${entry.clientRssMiB} MiB`,
    );
    return entry;
  };
  sample("idle (no subscribers)");

  // Delivery latency of every frame (receive time − the topic object's `ts`), preallocated.
  const latencies = new Float64Array(N * K + N);
  let latencyCount = 0;
  const onDeliver = (/** @type {{ ts: number }} */ frame) => {
    if (latencyCount < latencies.length) latencies[latencyCount++] = Date.now() - frame.ts;
  };
  /** @type {import("./lib/subscribers.mjs").Tracked[]} */
  const subscribers = [];
  run.onCleanup(() => {
    for (const s of subscribers) s.close();
  });
  const openedAt = performance.now();
  const { failures } = await openInBatches(N, async (i) => {
    const tracked = trackedSubscriber(subscribe, topicUrl, i, { onDeliver });
    subscribers.push(tracked);
    await tracked.live();
  });
  if (failures.length > 0) throw new Error(`${failures.length} subscribers never went live: ${failures[0]?.error}`);
  const openMs = Math.round(performance.now() - openedAt);
  log(`${N} subscribers live in ${openMs} ms`);
  const liveSince = performance.now();
  sample("start");

  // Memory samples every SAMPLE_MS while publishing.
  const sampler = setInterval(() => sample("during"), SAMPLE_MS);
  run.onCleanup(() => clearInterval(sampler));

  /** @type {number[]} */
  const expected = [0];
  /** @type {{ n: number, seq: number, ms: number, attempts: number, lateMs: number }[]} */
  const publishes = [];
  const publishStart = performance.now();
  for (let n = 1; n <= K; n++) {
    const due = publishStart + ((n - 1) / RATE) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const lateMs = Math.max(0, Math.round(performance.now() - due));
    const result = await publishUntilAccepted(topicUrl, { value: { n }, id: `soak-${n}`, token: BENCH_SECRETS.PUBLISH_TOKEN });
    published = n;
    publishes.push({ n, seq: result.seq, ms: result.ms, attempts: result.attempts, lateMs });
    expected[result.seq] ??= n;
  }
  clearInterval(sampler);
  const publishEnd = performance.now();
  log(`published ${K} values in ${Math.round((publishEnd - publishStart) / 1000)} s; waiting for delivery`);
  await waitFor(`every subscriber at seq ${K}`, () => subscribers.every((s) => s.lastSeq >= K), 60_000).catch((error) =>
    log(String(error)),
  );
  const drainMs = Math.round(performance.now() - publishEnd);
  sample("end");

  // The middle: the sample taken closest to half-way through publishing.
  const during = samples.filter((s) => s.label === "during");
  const half = (publishStart - t0 + (publishEnd - publishStart) / 2) / 1000;
  const middle = during.reduce(
    (best, s) => (best === null || Math.abs(s.atS - half) < Math.abs(best.atS - half) ? s : best),
    /** @type {(typeof samples)[number] | null} */ (null),
  );
  const start = samples.find((s) => s.label === "start");
  const end = samples.at(-1);

  const per = subscribers.map((s) => {
    const drops = s.events.filter((e) => e.at > liveSince && e.state === "reconnecting" && e.detail !== "could not connect");
    return {
      index: s.index,
      ...integrity(s, expected),
      drops: drops.length,
      dropReasons: [...new Set(drops.map((e) => e.detail))],
      dropAtS: drops.map((e) => Math.round((e.at - t0) / 1000)),
      state: s.state,
    };
  });
  const perDelivered = per.map((p) => p.delivered);
  const totals = {
    subscribers: N,
    expectedPerSubscriber: K,
    delivered: per.reduce((sum, p) => sum + p.delivered, 0),
    expected: N * K,
    lost: per.reduce((sum, p) => sum + p.lost, 0),
    duplicated: per.reduce((sum, p) => sum + p.duplicated, 0),
    outOfOrder: per.reduce((sum, p) => sum + p.outOfOrder, 0),
    wrongValue: per.reduce((sum, p) => sum + p.wrongValue, 0),
    extra: per.reduce((sum, p) => sum + p.extra, 0),
    resets: per.reduce((sum, p) => sum + p.resets, 0),
    subscribersComplete: per.filter((p) => p.lost === 0 && p.duplicated === 0 && p.outOfOrder === 0 && p.wrongValue === 0).length,
    subscribersThatDropped: per.filter((p) => p.drops > 0).length,
    drops: per.reduce((sum, p) => sum + p.drops, 0),
    dropReasons: [...new Set(per.flatMap((p) => p.dropReasons))],
    deliveredPerSubscriber: summarize(perDelivered),
  };
  const ok =
    totals.lost === 0 &&
    totals.duplicated === 0 &&
    totals.outOfOrder === 0 &&
    totals.wrongValue === 0 &&
    totals.extra === 0 &&
    publishes.at(-1)?.seq === K;
  const result = {
    bench: NAME,
    date: new Date().toISOString(),
    ok,
    machine: facts,
    parameters: {
      minutes: MINUTES,
      subscribers: N,
      ratePerSecond: RATE,
      values: K,
      sampleSeconds: SAMPLE_MS / 1000,
      route: "public port (wrangler's proxy)",
      client: "src/client/subscribe.ts bundled with esbuild, ws WebSocket",
    },
    timing: {
      openMs,
      publishSeconds: Math.round((publishEnd - publishStart) / 1000),
      drainMs,
      publishMs: summarize(publishes.map((p) => p.ms)),
      publishLateMs: summarize(publishes.map((p) => p.lateMs)),
      publishRetries: publishes.reduce((sum, p) => sum + p.attempts - 1, 0),
      deliveryLatencyMs: summarize(latencies.subarray(0, latencyCount)),
    },
    totals,
    memory: {
      start: start ?? null,
      middle,
      end: end ?? null,
      samples,
    },
    problems: per.filter((p) => p.lost + p.duplicated + p.outOfOrder + p.wrongValue + p.extra + p.drops > 0),
    perSubscriber: per.map((p) => ({
      index: p.index,
      delivered: p.delivered,
      expected: p.expected,
      lost: p.lost,
      duplicated: p.duplicated,
      drops: p.drops,
    })),
  };
  const { jsonPath, mdPath } = writeResults(NAME, result, render(result), docsBlocks(result));
  console.log(`\n${summaryText(result)}\n\nwrote ${jsonPath}\n      ${mdPath}`);
  return ok ? 0 : 1;
}

/**
 * The memory columns of one sample: user runtime, proxy and client RSS, and fds of user / proxy.
 * @param {any} s
 */
function mem(s) {
  return s === null || s === undefined
    ? ["–", "–", "–", "–"]
    : [s.workerd.user?.rssMiB, s.workerd.proxy?.rssMiB, s.clientRssMiB, `${s.workerd.user?.fds} / ${s.workerd.proxy?.fds}`];
}

/** @param {any} r */
function summaryText(r) {
  const o = r.totals;
  const t = r.timing;
  const m = r.memory;
  return [
    `soak: ${r.parameters.subscribers} subscribers × ${r.parameters.values} values (${r.parameters.ratePerSecond}/s for ${r.parameters.minutes} min), ${r.machine.cores} cores, node ${r.machine.node}`,
    `delivered ${o.delivered}/${o.expected}; per subscriber min ${o.deliveredPerSubscriber.min}, max ${o.deliveredPerSubscriber.max} of ${o.expectedPerSubscriber}; lost ${o.lost}, duplicated ${o.duplicated}, out of order ${o.outOfOrder}, resets ${o.resets}`,
    `subscribers complete ${o.subscribersComplete}/${o.subscribers}; ${o.subscribersThatDropped} dropped during the soak (${o.drops} drops${o.dropReasons.length > 0 ? `: ${o.dropReasons.join(", ")}` : ""})`,
    `delivery latency p50 ${t.deliveryLatencyMs.p50} ms, p99 ${t.deliveryLatencyMs.p99}, max ${t.deliveryLatencyMs.max}; publish round trip p50 ${t.publishMs.p50} ms, p99 ${t.publishMs.p99}`,
    ...[
      ["start", m.start],
      ["middle", m.middle],
      ["end", m.end],
    ].map(([label, s]) => {
      const [user, proxy, client] = mem(s);
      return `RSS ${label}: workerd user ${user} MiB, proxy ${proxy} MiB, client ${client} MiB`;
    }),
    r.ok ? "OK: every subscriber got every seq exactly once, in order" : "PROBLEM: see `problems` in the JSON",
  ].join("\n");
}

/** @param {any} r */
function render(r) {
  const o = r.totals;
  const t = r.timing;
  const m = r.memory;
  const pct = (/** @type {any} */ s) => [s.p50, s.p90, s.p99, s.max];
  return `# Soak

Generated by \`bench/soak.mjs\` on ${r.date}; do not edit by hand. What the figures
show: [docs/performance.md](../../docs/performance.md).

${machineTable(r.machine)}

${table(
  ["parameter", "value"],
  [
    ["subscribers (N)", r.parameters.subscribers],
    ["publishes per second", r.parameters.ratePerSecond],
    ["minutes", r.parameters.minutes],
    ["values published (K)", r.parameters.values],
    ["route", r.parameters.route],
    ["client", r.parameters.client],
  ],
)}

## Delivery

${table(
  ["measure", "value"],
  [
    ["**delivered / expected (total)**", `**${o.delivered} / ${o.expected}**`],
    [
      "delivered per subscriber (min / p50 / max, of K)",
      `${o.deliveredPerSubscriber.min} / ${o.deliveredPerSubscriber.p50} / ${o.deliveredPerSubscriber.max} of ${o.expectedPerSubscriber}`,
    ],
    ["subscribers with every seq exactly once, in order", `${o.subscribersComplete} / ${o.subscribers}`],
    ["lost", o.lost],
    ["duplicated", o.duplicated],
    ["out of order", o.outOfOrder],
    ["wrong value for its seq", o.wrongValue],
    ["resets", o.resets],
    ["subscribers that dropped during the soak (drops)", `${o.subscribersThatDropped} (${o.drops})`],
    ["publish retries", t.publishRetries],
    ["last subscriber complete after the last publish", `${t.drainMs} ms`],
  ],
)}

${table(
  ["latency (ms)", "p50", "p90", "p99", "max"],
  [
    ["delivery (receive − the topic object's ts)", ...pct(t.deliveryLatencyMs)],
    ["publish round trip (POST → 202)", ...pct(t.publishMs)],
    ["publish start behind schedule", ...pct(t.publishLateMs)],
  ],
)}

## Memory (VmRSS, MiB)

${table(
  [
    "when",
    "at (s)",
    "published",
    "workerd user (the Topic object)",
    "workerd proxy (public port)",
    "client (this process)",
    "open fds user / proxy",
  ],
  [
    ...r.memory.samples
      .filter((/** @type {any} */ s) => s.label !== "during")
      .slice(0, 1)
      .map((/** @type {any} */ s) => [s.label, s.atS, s.published, ...mem(s)]),
    ["**start**", m.start?.atS, m.start?.published, ...mem(m.start)],
    ["**middle**", m.middle?.atS, m.middle?.published, ...mem(m.middle)],
    ["**end**", m.end?.atS, m.end?.published, ...mem(m.end)],
  ],
)}

<details><summary>Every sample</summary>

${table(
  ["when", "at (s)", "published", "workerd user", "workerd proxy", "client", "open fds user / proxy"],
  r.memory.samples.map((/** @type {any} */ s) => [s.label, s.atS, s.published, ...mem(s)]),
)}

</details>
`;
}

run.main(main);

/**
 * The tables docs/performance.md shows, by block name.
 * @param {any} r
 */
function docsBlocks(r) {
  return { [NAME]: headline(r) };
}

/**
 * The headline figures: the `bench:soak` block of docs/performance.md.
 * @param {any} r
 */
function headline(r) {
  const mem = r.memory;
  const rss = (/** @type {any} */ sample) => `${Math.round(sample.workerd.user.rssMiB)} MiB`;
  return table(
    ["soak (`npm run bench:soak`)", "last run"],
    [
      [
        "subscribers × values (rate)",
        `${r.parameters.subscribers} × ${r.parameters.values} (${r.parameters.ratePerSecond}/s for ${r.parameters.minutes} min)`,
      ],
      ["delivered / expected", `${r.totals.delivered} / ${r.totals.expected}`],
      ["lost, duplicated, out of order", `${r.totals.lost}, ${r.totals.duplicated}, ${r.totals.outOfOrder}`],
      [
        "delivery latency p50 / p99 / max",
        `${r.timing.deliveryLatencyMs.p50} / ${r.timing.deliveryLatencyMs.p99} / ${r.timing.deliveryLatencyMs.max} ms`,
      ],
      ["runtime RSS start / middle / end", `${rss(mem.start)} / ${rss(mem.middle)} / ${rss(mem.end)}`],
      ["machine, date", `${r.machine.cores} cores, ${r.date.slice(0, 10)}, commit ${r.machine.commit}`],
    ],
    ["l", "l"],
  );
}
