/**
 * `npm run bench:storm`: the deploy case. N subscribers (the project's own client library) hold
 * /topics/announcements; the server is restarted the way a deploy does it (the whole wrangler dev
 * process group killed, so every socket drops, then started again on the same port and state);
 * a publisher keeps publishing throughout. Measures how the library's full-jitter backoff spreads
 * the reconnects, how long until every subscriber is live again, and whether every subscriber
 * ends with every seq exactly once, in order.
 *
 * Results: bench/results/reconnect-storm.{json,md}; wrangler's output: reconnect-storm.server.log.
 */
import { writeFileSync } from "node:fs";
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

const NAME = "reconnect-storm";
const TOPIC = "announcements";
const USAGE = `Usage: npm run bench:storm -- [options]

  --subscribers N     subscribers through the public port (default 2000; at most 4500)
  --before N          values published and delivered before the restart (default 20)
  --after N           values published once every subscriber is live again (default 20)
  --interval-ms MS    pause between publishes from the restart on (default 250)
  --bucket-ms MS      histogram bucket (default 250)
  --deadline-s S      hard deadline for the whole run; exit 2 when hit (default 300)
  --render-only       only rewrite bench/results/reconnect-storm.md and its docs/performance.md table from its .json`;

const args = benchArgs(
  USAGE,
  {
    subscribers: { type: "string", default: "2000" },
    before: { type: "string", default: "20" },
    after: { type: "string", default: "20" },
    "interval-ms": { type: "string", default: "250" },
    "bucket-ms": { type: "string", default: "250" },
    "deadline-s": { type: "string", default: "300" },
  },
  () => console.log(summaryText(rerender(NAME, render, docsBlocks))),
);
const N = Number(args.subscribers);
const BEFORE = Number(args.before);
const AFTER = Number(args.after);
const INTERVAL_MS = Number(args["interval-ms"]);
const BUCKET_MS = Number(args["bucket-ms"]);
const DEADLINE_MS = Number(args["deadline-s"]) * 1000;
for (const [name, value] of Object.entries({ N, BEFORE, AFTER, INTERVAL_MS, BUCKET_MS, DEADLINE_MS })) {
  if (!Number.isInteger(value) || value < (name === "N" || name === "BUCKET_MS" ? 1 : 0)) {
    console.error(`bad option value for ${name}\n\n${USAGE}`);
    process.exit(64);
  }
}
if (N > 4500) {
  console.error("--subscribers above 4500: wrangler dev's proxy runs out of file descriptors near 5,000 sockets");
  process.exit(64);
}

const run = startRun(NAME, DEADLINE_MS);
const { log } = run;
const ms = (/** @type {number} */ x) => Math.round(x);

async function main() {
  const facts = machineFacts();
  // The server and the client library both come from one snapshot of the project (see lib/server.mjs).
  const project = await snapshotProject();
  run.onCleanup(() => removeDir(project.root));
  const { subscribe, DEFAULT_BACKOFF } = await loadClientLibrary(project.root);
  log(`client library bundled; backoff ${JSON.stringify(DEFAULT_BACKOFF)} (its default)`);

  const stateDir = makeStateDir();
  run.onCleanup(() => removeDir(stateDir));
  const port = await project.devServer.freePort();
  const logFile = path.join(RESULTS_DIR, `${NAME}.server.log`);
  writeFileSync(logFile, "");
  const base = `http://127.0.0.1:${port}`;
  const topicUrl = `${base}/topics/${TOPIC}`;

  /** @type {import("../scripts/lib/wrangler-dev.mjs").DevServer | null} */
  let server = null;
  run.onCleanup(() => server?.stop());
  let started = performance.now();
  server = await startServer(project.devServer, { port, stateDir, logFile });
  const firstStartMs = ms(performance.now() - started);
  log(`wrangler dev up on ${base} in ${firstStartMs} ms (pgid ${server.pid})`);

  // Every connection attempt any subscriber makes, by time.
  /** @type {number[]} */
  const attempts = [];
  /** @type {import("./lib/subscribers.mjs").Tracked[]} */
  const subscribers = [];
  run.onCleanup(() => {
    for (const s of subscribers) s.close();
  });
  started = performance.now();
  const { failures } = await openInBatches(
    N,
    async (i) => {
      const tracked = trackedSubscriber(subscribe, topicUrl, i, { onAttempt: (at) => attempts.push(at) });
      subscribers.push(tracked);
      await tracked.live();
    },
    { onBatch: (opened, failed) => opened % 1000 === 0 && log(`${opened} live, ${failed} failed`) },
  );
  const openMs = ms(performance.now() - started);
  if (failures.length > 0) throw new Error(`${failures.length} subscribers never went live: ${failures[0]?.error}`);
  log(`${N} subscribers live in ${openMs} ms`);

  // expected[seq] = the n published with it; publishes[] = what each publish took.
  /** @type {number[]} */
  const expected = [0];
  /** @type {{ n: number, seq: number, duplicate: boolean, attempts: number, errors: string[], ms: number, at: number }[]} */
  const publishes = [];
  let n = 0;
  const publishOne = async () => {
    n++;
    const at = performance.now();
    const result = await publishUntilAccepted(topicUrl, { value: { n }, id: `storm-${n}`, token: BENCH_SECRETS.PUBLISH_TOKEN });
    publishes.push({ n, at, ...result });
    expected[result.seq] ??= n;
  };
  for (let i = 0; i < BEFORE; i++) await publishOne();
  await waitFor(`all subscribers at seq ${BEFORE}`, () => subscribers.every((s) => s.lastSeq === BEFORE), 30_000);
  log(`${BEFORE} values delivered to every subscriber before the restart`);

  const workerd = workerdProcesses(server.pid, port);
  const rssBefore = Object.fromEntries(workerd.map((p) => [p.role, rssMiB(p.pid)]));

  // The publisher runs from now until AFTER values after every subscriber is live again.
  /** @type {number | null} */
  let lastN = null;
  const publisher = (async () => {
    while (lastN === null || n < lastN) {
      await publishOne();
      await sleep(INTERVAL_MS);
    }
  })().then(
    () => null,
    (/** @type {unknown} */ error) => error,
  );
  await sleep(1_000);

  // The deploy: kill the whole group (every socket drops), start again on the same port and state.
  const killAt = performance.now();
  await server.stop();
  server = null;
  const stoppedAt = performance.now();
  log(`server killed (${ms(stoppedAt - killAt)} ms); restarting`);
  server = await startServer(project.devServer, { port, stateDir, logFile });
  const readyAt = performance.now();
  log(`server back after ${ms(readyAt - killAt)} ms down`);

  const liveAgain = (/** @type {import("./lib/subscribers.mjs").Tracked} */ s) =>
    s.events.some((e) => e.at > killAt && e.state === "live");
  await waitFor(
    "every subscriber live again",
    () => subscribers.every((s) => liveAgain(s) || s.state === "closed"),
    DEADLINE_MS,
    100,
  ).catch((error) => log(String(error)));
  const allLiveAt = performance.now();
  log(`${subscribers.filter(liveAgain).length}/${N} live again ${ms(allLiveAt - readyAt)} ms after the server was back`);

  lastN = n + AFTER;
  const publishError = await publisher;
  if (publishError !== null) throw publishError;
  const K = n;
  log(`${K} values published; waiting for every subscriber to have seq ${K}`);
  await waitFor(`all subscribers at seq ${K}`, () => subscribers.every((s) => s.lastSeq >= K), 60_000).catch((error) =>
    log(String(error)),
  );
  const rssAfter = Object.fromEntries(workerdProcesses(server.pid, port).map((p) => [p.role, rssMiB(p.pid)]));

  // Per subscriber: when it noticed the drop, when it was live again, how many attempts it took.
  const per = subscribers.map((s) => {
    const after = s.events.filter((e) => e.at >= killAt - 5);
    const drop = after.find((e) => e.state === "reconnecting");
    const socketClosed = s.closes.find((at) => at >= killAt - 5);
    const live = after.find((e) => e.state === "live");
    // The attempt that succeeded: the last one started before the subscriber went live.
    const winning = live === undefined ? undefined : s.attempts.filter((at) => at <= live.at).at(-1);
    return {
      index: s.index,
      dropAt: drop === undefined ? null : drop.at - killAt,
      socketClosedAt: socketClosed === undefined ? null : socketClosed - killAt,
      liveAt: live === undefined ? null : live.at - killAt,
      winningAttemptAt: winning === undefined ? null : winning - killAt,
      failedAttempts: after.filter((e) => e.state === "reconnecting" && e.detail === "could not connect").length,
      closed: s.state === "closed" ? (s.events.at(-1)?.detail ?? "closed") : null,
      drops: s.events.filter((e) => e.state === "reconnecting" && e.detail !== "could not connect").length,
      ...integrity(s, expected),
    };
  });
  const back = per.filter((p) => p.liveAt !== null && p.dropAt !== null);
  const downMs = readyAt - killAt;
  const reconnect = summarize(back.map((p) => /** @type {number} */ (p.liveAt) - /** @type {number} */ (p.dropAt)));
  const sinceReady = summarize(back.map((p) => /** @type {number} */ (p.liveAt) - downMs));
  const attemptsPer = summarize(per.map((p) => p.failedAttempts + 1));
  // wrangler dev's proxy listens before the runtime is ready and holds upgrades until it is:
  // attempts started before /health answered that still succeeded.
  const held = back.filter((p) => p.winningAttemptAt !== null && p.winningAttemptAt < downMs);
  const upgradeMs = summarize(
    back.map((p) => /** @type {number} */ (p.liveAt) - /** @type {number} */ (p.winningAttemptAt ?? p.liveAt)),
  );

  // The histogram: per bucket after the kill, connection attempts started and subscribers gone live.
  const lastLive = Math.max(0, ...back.map((p) => /** @type {number} */ (p.liveAt)));
  const buckets = Math.ceil((lastLive + 1) / BUCKET_MS);
  const histogram = Array.from({ length: buckets }, (_, b) => ({
    fromMs: b * BUCKET_MS,
    attempts: 0,
    live: 0,
    cumulativeLive: 0,
    server: (b + 1) * BUCKET_MS <= downMs ? "down" : b * BUCKET_MS >= downMs ? "up" : "back",
  }));
  for (const at of attempts) {
    const b = Math.floor((at - killAt) / BUCKET_MS);
    const bucket = histogram[b];
    if (b >= 0 && bucket !== undefined) bucket.attempts++;
  }
  for (const p of back) {
    const bucket = histogram[Math.floor(/** @type {number} */ (p.liveAt) / BUCKET_MS)];
    if (bucket !== undefined) bucket.live++;
  }
  let cumulative = 0;
  for (const bucket of histogram) {
    cumulative += bucket.live;
    bucket.cumulativeLive = cumulative;
  }

  const totals = {
    subscribers: N,
    expectedPerSubscriber: K,
    delivered: per.reduce((sum, p) => sum + p.delivered, 0),
    expected: N * K,
    lost: per.reduce((sum, p) => sum + p.lost, 0),
    duplicated: per.reduce((sum, p) => sum + p.duplicated, 0),
    wrongValue: per.reduce((sum, p) => sum + p.wrongValue, 0),
    outOfOrder: per.reduce((sum, p) => sum + p.outOfOrder, 0),
    extra: per.reduce((sum, p) => sum + p.extra, 0),
    resets: per.reduce((sum, p) => sum + p.resets, 0),
    subscribersComplete: per.filter((p) => p.lost === 0 && p.duplicated === 0 && p.outOfOrder === 0 && p.wrongValue === 0).length,
    subscribersClosed: per.filter((p) => p.closed !== null).length,
    subscribersNotBack: N - back.length,
    subscribersDroppedMoreThanOnce: per.filter((p) => p.drops > 1).length,
  };
  const publishing = {
    values: K,
    duringRestart: publishes.filter((p) => p.errors.length > 0).length,
    failedAttempts: publishes.reduce((sum, p) => sum + p.errors.length, 0),
    duplicateAnswers: publishes.filter((p) => p.duplicate).length,
    seqsMatchPublishOrder: publishes.every((p) => p.seq === p.n),
    errorKinds: [...new Set(publishes.flatMap((p) => p.errors))],
  };
  const lastSeqOnServer = publishes.at(-1)?.seq ?? null;
  const timing = {
    firstStartMs,
    openMs,
    killMs: ms(stoppedAt - killAt),
    restartMs: ms(readyAt - stoppedAt),
    serverDownMs: ms(downMs),
    firstLiveAfterKillMs: back.length === 0 ? null : ms(Math.min(...back.map((p) => /** @type {number} */ (p.liveAt)))),
    allLiveAfterKillMs: back.length === N ? ms(lastLive) : null,
    allLiveAfterServerBackMs: back.length === N ? ms(lastLive - downMs) : null,
    socketClosedMs: summarize(per.flatMap((p) => (p.socketClosedAt === null ? [] : [p.socketClosedAt]))),
    dropNoticedMs: summarize(back.map((p) => /** @type {number} */ (p.dropAt))),
    reconnectMs: reconnect,
    liveSinceServerBackMs: sinceReady,
    attemptsPerSubscriber: attemptsPer,
    winningAttemptMs: upgradeMs,
    heldUntilServerBack: held.length,
    heldWentLiveMs: summarize(held.map((p) => /** @type {number} */ (p.liveAt))),
  };
  const ok =
    totals.lost === 0 &&
    totals.duplicated === 0 &&
    totals.outOfOrder === 0 &&
    totals.wrongValue === 0 &&
    totals.extra === 0 &&
    totals.subscribersNotBack === 0 &&
    lastSeqOnServer === K;

  const result = {
    bench: NAME,
    date: new Date().toISOString(),
    ok,
    machine: facts,
    parameters: {
      subscribers: N,
      values: K,
      before: BEFORE,
      after: AFTER,
      intervalMs: INTERVAL_MS,
      bucketMs: BUCKET_MS,
      backoff: DEFAULT_BACKOFF,
      route: "public port (wrangler's proxy)",
      client: "src/client/subscribe.ts bundled with esbuild, ws WebSocket",
    },
    timing,
    totals,
    publishing,
    rssMiB: { beforeRestart: rssBefore, end: rssAfter, client: rssMiB("self") },
    histogram,
    problems: per.filter((p) => p.lost + p.duplicated + p.outOfOrder + p.wrongValue + p.extra > 0 || p.closed !== null),
    perSubscriber: per.map((p) => ({
      index: p.index,
      dropAt: p.dropAt === null ? null : ms(p.dropAt),
      socketClosedAt: p.socketClosedAt === null ? null : ms(p.socketClosedAt),
      liveAt: p.liveAt === null ? null : ms(p.liveAt),
      attempts: p.failedAttempts + 1,
      winningAttemptAt: p.winningAttemptAt === null ? null : ms(p.winningAttemptAt),
      delivered: p.delivered,
      lost: p.lost,
      duplicated: p.duplicated,
    })),
  };
  const markdown = render(result);
  const { jsonPath, mdPath } = writeResults(NAME, result, markdown, docsBlocks(result));
  console.log(`\n${summaryText(result)}\n\nwrote ${jsonPath}\n      ${mdPath}`);
  return ok ? 0 : 1;
}

/** @param {any} r */
function summaryText(r) {
  const t = r.timing;
  const o = r.totals;
  return [
    `reconnect storm: ${r.parameters.subscribers} subscribers, ${r.parameters.values} values, ${r.machine.cores} cores, node ${r.machine.node}`,
    `server down ${t.serverDownMs} ms (kill ${t.killMs} ms + migrations and wrangler dev start ${t.restartMs} ms)`,
    `reconnect (drop → live): p50 ${t.reconnectMs.p50} ms, p90 ${t.reconnectMs.p90}, p99 ${t.reconnectMs.p99}, max ${t.reconnectMs.max}`,
    `after the server was back: p50 ${t.liveSinceServerBackMs.p50} ms, p90 ${t.liveSinceServerBackMs.p90}, p99 ${t.liveSinceServerBackMs.p99}; all live ${t.allLiveAfterServerBackMs ?? "never"} ms`,
    `attempts per subscriber: p50 ${t.attemptsPerSubscriber.p50}, max ${t.attemptsPerSubscriber.max}; ${t.heldUntilServerBack} went live through an attempt started before /health answered (held by wrangler's proxy; live at ${t.heldWentLiveMs.min}–${t.heldWentLiveMs.max} ms after the kill)`,
    `delivered ${o.delivered}/${o.expected}, lost ${o.lost}, duplicated ${o.duplicated}, out of order ${o.outOfOrder}, wrong value ${o.wrongValue}, resets ${o.resets}, closed ${o.subscribersClosed}, not back ${o.subscribersNotBack}`,
    `publishes: ${r.publishing.values}, ${r.publishing.duringRestart} needed retries (${r.publishing.failedAttempts} failed attempts), duplicate answers ${r.publishing.duplicateAnswers}`,
    r.ok ? "OK: every subscriber got every seq exactly once, in order" : "PROBLEM: see `problems` in the JSON",
  ].join("\n");
}

/** @param {any} r */
function render(r) {
  const t = r.timing;
  const o = r.totals;
  const maxBucket = Math.max(1, ...r.histogram.map((/** @type {any} */ b) => Math.max(b.attempts, b.live)));
  const bar = (/** @type {number} */ x) => "█".repeat(Math.round((x / maxBucket) * 30));
  const pct = (/** @type {any} */ s) => [s.p50, s.p90, s.p99, s.max];
  return `# Reconnect storm (the deploy case)

Generated by \`bench/reconnect-storm.mjs\` on ${r.date}; do not edit by hand. What the figures
show: [docs/performance.md](../../docs/performance.md).

${machineTable(r.machine)}

${table(
  ["parameter", "value"],
  [
    ["subscribers (N)", r.parameters.subscribers],
    ["values published (K)", r.parameters.values],
    ["before the restart / after all were back", `${r.parameters.before} / ${r.parameters.after}`],
    ["publish interval from the restart on", `${r.parameters.intervalMs} ms`],
    [
      "client backoff (library default, full jitter)",
      `base ${r.parameters.backoff.baseMs} ms, max ${r.parameters.backoff.maxMs} ms`,
    ],
    ["route", r.parameters.route],
  ],
)}

## Server

${table(
  ["step", "ms"],
  [
    ["kill the process group (every socket drops)", t.killMs],
    ["restart: D1 migrations + wrangler dev until `/health` answers 200", t.restartMs],
    ["**server down**", `**${t.serverDownMs}**`],
  ],
)}

## Clients

${table(
  ["measure", "p50", "p90", "p99", "max"],
  [
    ["socket closed (`ws` close event, after the kill)", ...pct(t.socketClosedMs)],
    ["drop noticed by the library (after the kill)", ...pct(t.dropNoticedMs)],
    ["**drop → live again**", ...pct(t.reconnectMs)],
    ["live again, counted from the server being back", ...pct(t.liveSinceServerBackMs)],
    ["connection attempts per subscriber", ...pct(t.attemptsPerSubscriber)],
    ["successful attempt: start → live", ...pct(t.winningAttemptMs)],
  ],
)}

${table(
  ["going live", "value"],
  [
    [
      "subscribers live through an attempt started before `/health` answered (held by wrangler's proxy)",
      `${t.heldUntilServerBack} of ${o.subscribers}`,
    ],
    [
      "those went live, after the kill (ms, min–max, p50)",
      `${t.heldWentLiveMs.min}–${t.heldWentLiveMs.max}, p50 ${t.heldWentLiveMs.p50}`,
    ],
    ["first subscriber live, after the kill (ms)", t.firstLiveAfterKillMs],
    [
      `**all ${o.subscribers - o.subscribersNotBack}/${o.subscribers} live**, after the kill (ms)`,
      `**${t.allLiveAfterKillMs ?? "never"}**`,
    ],
    ["all live, after the server was back (ms)", `**${t.allLiveAfterServerBackMs ?? "–"}**`],
  ],
)}

## Delivery

${table(
  ["measure", "value"],
  [
    ["delivered / expected", `${o.delivered} / ${o.expected}`],
    ["lost", o.lost],
    ["duplicated", o.duplicated],
    ["out of order", o.outOfOrder],
    ["wrong value for its seq", o.wrongValue],
    ["resets", o.resets],
    ["subscribers with every seq exactly once, in order", `${o.subscribersComplete} / ${o.subscribers}`],
    ["subscribers closed for good / not back", `${o.subscribersClosed} / ${o.subscribersNotBack}`],
    ["publishes that needed retries (failed attempts)", `${r.publishing.duringRestart} (${r.publishing.failedAttempts})`],
    ["publish answers `duplicate: true` (retry of an applied publish)", r.publishing.duplicateAnswers],
    ["seq = publish order for every value", r.publishing.seqsMatchPublishOrder ? "yes" : "**no**"],
  ],
)}

## Reconnects over time (${r.parameters.bucketMs} ms buckets, from the kill)

${table(
  ["from (ms)", "server", "connection attempts", "went live", "live so far", ""],
  collapseQuiet(r.histogram).map((/** @type {any} */ b) => [
    b.toMs === undefined ? b.fromMs : `${b.fromMs}–${b.toMs + r.parameters.bucketMs}`,
    b.server,
    b.attempts,
    b.live,
    `${b.cumulativeLive} (${Math.round((b.cumulativeLive / o.subscribers) * 100)}%)`,
    bar(b.live),
  ]),
  ["r", "l", "r", "r", "r", "l"],
)}
`;
}

/**
 * Merges runs of buckets with no attempts and nobody going live into one row (`toMs` set).
 * @param {any[]} histogram
 */
function collapseQuiet(histogram) {
  /** @type {any[]} */
  const rows = [];
  for (const bucket of histogram) {
    const previous = rows.at(-1);
    const quiet = bucket.attempts === 0 && bucket.live === 0;
    if (quiet && previous?.quiet && previous.server === bucket.server) previous.toMs = bucket.fromMs;
    else rows.push({ ...bucket, quiet });
  }
  return rows;
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
 * The headline figures: the `bench:reconnect-storm` block of docs/performance.md.
 * @param {any} r
 */
function headline(r) {
  const t = r.timing;
  const s = (/** @type {number} */ ms) => `${(ms / 1000).toFixed(1)} s`;
  return table(
    ["reconnect storm (`npm run bench:storm`)", "last run"],
    [
      ["subscribers, values published", `${r.parameters.subscribers}, ${r.parameters.values}`],
      ["delivered / expected", `${r.totals.delivered} / ${r.totals.expected}`],
      ["lost, duplicated, out of order", `${r.totals.lost}, ${r.totals.duplicated}, ${r.totals.outOfOrder}`],
      ["server down (kill + restart)", s(t.serverDownMs)],
      ["drop → live again, p50 / p99 / max", `${s(t.reconnectMs.p50)} / ${s(t.reconnectMs.p99)} / ${s(t.reconnectMs.max)}`],
      ["all live, after the server was back", s(t.allLiveAfterServerBackMs)],
      ["live through an upgrade wrangler's proxy held", `${t.heldUntilServerBack} of ${r.parameters.subscribers}`],
      ["machine, date", `${r.machine.cores} cores, ${r.date.slice(0, 10)}, commit ${r.machine.commit}`],
    ],
    ["l", "l"],
  );
}
