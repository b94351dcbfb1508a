/**
 * `npm run bench`: fan-out at speed and at scale. For N subscribers of /topics/announcements it
 * fires K publishes, one at a time, and measures how long until every subscriber has each one, on
 * three targets started fresh for every N:
 *
 * - edgebeat through wrangler dev's public port (its proxy workerd; capped at 4,500 sockets,
 *   because the proxy needs ~4 fds per socket and dies near 5,000 under the 20,000-file limit),
 * - edgebeat direct: the Worker in workerd through Miniflare's API, on a direct socket into the
 *   Worker (bench/lib/runtime.mjs; past wrangler's proxy and Miniflare's entry worker, as in
 *   production where the Worker is the front door; ~2 fds per socket),
 * - the ceiling: a plain Node `ws` broadcaster (bench/lib/ceiling.mjs) in its own process, sending
 *   one pre-serialized frame of edgebeat's metric shape and size to every client.
 *
 * Subscribers are raw `ws` sockets in a load-generator process of their own (bench/lib/loadgen.mjs),
 * offering permessage-deflate as `ws` and browsers do by default. Latency is trigger → receive,
 * the trigger being the moment the bench sends the POST (one monotonic clock for all processes).
 * Then: memory per socket with and without permessage-deflate, the build before the hot-path change
 * (--before) and a bare Durable Object broadcast (the floor) at 1,000 and the largest N, 1 vs 2 vs
 * 4 shards at the largest N, and a sustained-rate probe (1,000 subscribers, direct, publishes at
 * rising rates until fan-out p99 ≥ 100 ms or a value is lost) for this build, the one before, and
 * this one with BATCH.
 *
 * Results: bench/results/fanout.{json,md}; wrangler's output: bench/results/fanout.server.log.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startChild } from "./lib/child.mjs";
import { machineTable, table } from "./lib/markdown.mjs";
import { cpuMs, fdCount, machineBusyMs, monoMs, threadCpuDelta, threadCpuMs, treeCpuMs } from "./lib/procs.mjs";
import { perfAvailable, startProfile, summarizeProfile } from "./lib/profile.mjs";
import { rssMiB } from "./lib/rss.mjs";
import { benchArgs, machineFacts, RESULTS_DIR, rerender, startRun, writeResults } from "./lib/run.mjs";
import { BENCH_SECRETS, makeStateDir, removeDir, snapshotProject, startServer, workerdProcesses } from "./lib/server.mjs";
import { sleep } from "./lib/sockets.mjs";
import { summarize } from "./lib/stats.mjs";

const NAME = "fanout";
const TOPIC = "announcements";
/** A Durable Object that does nothing but broadcast: what the runtime costs per socket by itself. */
const BARE_FIXTURE = fileURLToPath(new URL("./fixtures/bare-broadcast", import.meta.url));
/** The commit before `compatibility_flags = ["no_web_socket_compression"]`: the hot path's "before". */
const BEFORE_DEFAULT = "578e229";
const USAGE = `Usage: npm run bench -- [options]

  --sizes LIST          subscriber counts (default 100,1000,5000)
  --publishes K         publishes measured per N and target (default 20), after --warmup
  --warmup W            publishes before those, reported apart (default 1: the first broadcast
                        to fresh sockets allocates their buffers)
  --spacing-ms MS       at least this long from one publish to the next, and never before every
                        subscriber has the previous one (default 500)
  --proxy-cap N         most sockets through wrangler's proxy (default 4500; it dies near 5,000)
  --deflate-n N         subscribers for the memory comparison with and without permessage-deflate
                        (the ceiling with it, and --before's build; default 1000; 0 skips it)
  --before REF          the build before the hot-path change (default ${BEFORE_DEFAULT}: the last commit
                        that let workerd accept permessage-deflate), measured direct at --deflate-n
                        and at the largest of --sizes, and in the sustained probe ("" skips it)
 --batch-rate R        one more sustained probe on a topic that coalesces publishes above R per
                        second into batch frames (BATCH = "announcements:R"; default 25; 0 skips it), at the
                        rates of --rates from the first the probe without BATCH could not hold
  --shards LIST         shard counts measured direct at the largest of --sizes, besides 1
                        (default 2,4; "" skips them)
  --sustained-n N       subscribers of the sustained-rate probe, direct (default 1000; 0 skips it)
  --rates LIST          publishes per second, tried in order until one does not hold (default
                        20,30,40,60,80,120,160,240,320: steps of 1.5× or less; if the first
                        does not hold, half of it, then a quarter)
  --step-s S            seconds per rate (default 15)
  --profile-n N         one more direct phase of N subscribers with \`perf record\` on the user
                        runtime during its publishes (default: the largest of --sizes; 0 skips
                        it; skipped with a note when perf is missing or not allowed)
  --ref REF             measure the files of a commit (git archive REF) instead of the working
                        tree, e.g. --ref HEAD while others have uncommitted edits
  --batch N             sockets opened at once (default 100)
  --deadline-s S        hard deadline for the whole run; exit 2 when hit (default 1200)
  --render-only         only rewrite bench/results/fanout.md (and README's block) from the .json

Exit 0 when every subscriber got every publish exactly once, 1 when not, 2 on the deadline.`;

/** Sockets that do not say hello within this are failures. */
const OPEN_TIMEOUT_MS = 15_000;
/** A publish not at every subscriber this long after its trigger is given up on (and shows as lost). */
const COMPLETE_TIMEOUT_MS = 10_000;
/** Publishes with no subscriber, before each phase: the publish path without the sends. */
const IDLE_PUBLISHES = 10;
/** The sustained probe never has more POSTs than this in flight (it falls behind instead). */
const MAX_IN_FLIGHT = 64;
/** What a rate must do to hold. */
const HOLD_FANOUT_P99_MS = 100;

const args = benchArgs(
  USAGE,
  {
    sizes: { type: "string", default: "100,1000,5000" },
    publishes: { type: "string", default: "20" },
    warmup: { type: "string", default: "1" },
    "spacing-ms": { type: "string", default: "500" },
    "proxy-cap": { type: "string", default: "4500" },
    "deflate-n": { type: "string", default: "1000" },
    before: { type: "string", default: BEFORE_DEFAULT },
    shards: { type: "string", default: "2,4" },
    "batch-rate": { type: "string", default: "25" },
    "sustained-n": { type: "string", default: "1000" },
    rates: { type: "string", default: "20,30,40,60,80,120,160,240,320" },
    "step-s": { type: "string", default: "15" },
    batch: { type: "string", default: "100" },
    "profile-n": { type: "string", default: "" },
    ref: { type: "string" },
    "deadline-s": { type: "string", default: "1200" },
  },
  () => console.log(summaryText(rerender(NAME, render, readmeSummary))),
);
const list = (/** @type {string} */ text) => (text.trim() === "" ? [] : text.split(",").map((x) => Number(x.trim())));
const SIZES = list(args.sizes);
const RATES = list(args.rates);
const K = Number(args.publishes);
const WARMUP = Number(args.warmup);
const SPACING_MS = Number(args["spacing-ms"]);
const PROXY_CAP = Number(args["proxy-cap"]);
const DEFLATE_N = Number(args["deflate-n"]);
const SUSTAINED_N = Number(args["sustained-n"]);
const STEP_S = Number(args["step-s"]);
const BATCH = Number(args.batch);
const PROFILE_N = args["profile-n"] === "" ? Math.max(...SIZES) : Number(args["profile-n"]);
const REF = args.ref;
const BEFORE = args.before === "" ? undefined : args.before;
const SHARDS = list(args.shards);
const BATCH_RATE = Number(args["batch-rate"]);
const DEADLINE_MS = Number(args["deadline-s"]) * 1000;
const positive = [...SIZES, K, BATCH, STEP_S, DEADLINE_MS, ...RATES, ...SHARDS];
const nonNegative = [WARMUP, SPACING_MS, DEFLATE_N, SUSTAINED_N, PROXY_CAP, PROFILE_N, BATCH_RATE];
if (!positive.every((x) => Number.isFinite(x) && x > 0) || !nonNegative.every((x) => Number.isInteger(x) && x >= 0)) {
  console.error(`bad option value\n\n${USAGE}`);
  process.exit(64);
}
if (SIZES.length === 0 || !SHARDS.every((k) => Number.isInteger(k) && k >= 2 && k <= 64)) {
  console.error(`--sizes needs at least one size, and --shards counts from 2 to 64 (SHARDS' range)\n\n${USAGE}`);
  process.exit(64);
}
if (PROXY_CAP > 4500) {
  console.error("--proxy-cap above 4500: wrangler dev's proxy runs out of file descriptors near 5,000 sockets");
  process.exit(64);
}
if (Math.max(...SIZES, DEFLATE_N, SUSTAINED_N, PROFILE_N) > 8000) {
  console.error("at most 8,000 subscribers: the user runtime needs ~2 fds per socket under the 20,000-file limit");
  process.exit(64);
}

const run = startRun(NAME, DEADLINE_MS);
const { log } = run;
const round1 = (/** @type {number | null} */ x) => (x === null || !Number.isFinite(x) ? null : Math.round(x * 10) / 10);

/** The value every publish carries: the uptime job's shape (a realistic metric), numbered. */
const valueFor = (/** @type {number} */ n) => ({
  n,
  probes: [{ url: "http://localhost:8787/health", ok: true, status: 200, latencyMs: 4, error: null }],
});
const FRAME_BYTES = Buffer.byteLength(
  JSON.stringify({
    type: "metric",
    topic: TOPIC,
    seq: 1000,
    value: valueFor(1000),
    ts: Date.now(),
    runId: "post:direct-1000-20",
  }),
);

/**
 * @typedef {object} Target
 * @property {"ceiling" | "direct" | "proxy"} kind
 * @property {string} base http://127.0.0.1:<port>
 * @property {number} runtimePid the process that serves the sockets (user workerd, or the ceiling)
 * @property {number | null} proxyPid wrangler's proxy workerd (edgebeat only)
 * @property {number | null} startMs
 * @property {() => Promise<void>} stop
 */

async function main() {
  const facts = machineFacts();
  if (REF !== undefined) {
    // The files measured are the commit's, whatever the working tree holds.
    facts.commit = `${execFileSync("git", ["rev-parse", "--short", REF], { encoding: "utf8" }).trim()} (${REF}, git archive)`;
  }
  const project = await snapshotProject(REF === undefined ? {} : { ref: REF });
  run.onCleanup(() => removeDir(project.root));
  const beforeProject = BEFORE === undefined ? null : await snapshotProject({ ref: BEFORE });
  if (beforeProject !== null) run.onCleanup(() => removeDir(beforeProject.root));
  const beforeCommit =
    BEFORE === undefined ? null : execFileSync("git", ["rev-parse", "--short", BEFORE], { encoding: "utf8" }).trim();
  const profileDir = mkdtempSync(path.join(tmpdir(), "edgebeat-bench-perf-"));
  run.onCleanup(() => removeDir(profileDir));
  const logFile = path.join(RESULTS_DIR, `${NAME}.server.log`);
  writeFileSync(logFile, "");
  /** Whatever target and load generator are running now, for cleanup. */
  /** @type {Set<{ stop: () => Promise<void> }>} */
  const running = new Set();
  run.onCleanup(async () => {
    for (const thing of running) await thing.stop();
  });

  /** Completions the load generator reported: seq → when the last subscriber had it. */
  /** @type {Map<number, number>} */
  const completed = new Map();
  /** @type {Map<number, () => void>} */
  const waiters = new Map();
  const onEvent = (/** @type {any} */ message) => {
    if (message.event !== "complete") return;
    completed.set(message.seq, message.at);
    waiters.get(message.seq)?.();
  };
  /** @param {number} seq @param {number} timeoutMs */
  const whenComplete = (seq, timeoutMs) =>
    completed.has(seq)
      ? Promise.resolve(true)
      : new Promise((resolve) => {
          const timer = setTimeout(() => {
            waiters.delete(seq);
            resolve(false);
          }, timeoutMs);
          waiters.set(seq, () => {
            clearTimeout(timer);
            waiters.delete(seq);
            resolve(true);
          });
        });

  const startLoadgen = async () => {
    const child = await startChild("loadgen.mjs", [String(DEADLINE_MS)], { onEvent });
    running.add(child);
    return {
      ...child,
      stop: async () => {
        running.delete(child);
        await child.stop();
      },
    };
  };

  /** @returns {Promise<Target>} */
  const startCeiling = async (/** @type {boolean} */ deflate) => {
    const started = monoMs();
    const child = await startChild("ceiling.mjs", [BENCH_SECRETS.PUBLISH_TOKEN, String(DEADLINE_MS)]);
    running.add(child);
    const port = child.hello.ports[deflate ? "deflate" : "plain"];
    return {
      kind: "ceiling",
      base: `http://127.0.0.1:${port}`,
      runtimePid: child.pid,
      proxyPid: null,
      startMs: Math.round(monoMs() - started),
      stop: async () => {
        running.delete(child);
        await child.stop();
      },
    };
  };

  /** @returns {Promise<Target>} */
  /**
   * @param {"direct" | "proxy"} kind
   * @param {{ before?: boolean, shards?: number, batchRate?: number, bare?: boolean }} [options] `before`: --before's
   *   build; `shards`: the topic's shard count; `batchRate`: its BATCH rate (0: none); `bare`: not
   *   edgebeat but the bare Durable Object broadcast of bench/fixtures/bare-broadcast (the floor)
   */
  const startEdgebeat = async (kind, { before = false, shards = 1, batchRate = 0, bare = false } = {}) => {
    const started = monoMs();
    const stateDir = makeStateDir();
    if (kind === "direct") {
      const vars = {
        ...BENCH_SECRETS,
        SHARDS: shards > 1 ? `${TOPIC}:${shards}` : "",
        BATCH: batchRate > 0 ? `${TOPIC}:${batchRate}` : "",
      };
      const root = bare ? BARE_FIXTURE : (before ? beforeProject : project)?.root;
      if (root === undefined) throw new Error("no --before build to start");
      const child = await startChild("runtime.mjs", [root, stateDir, JSON.stringify(vars)], {
        detached: true,
        readyTimeoutMs: 120_000,
      });
      const stop = async () => {
        running.delete(handle);
        await child.stop();
        removeDir(stateDir);
      };
      const handle = { stop };
      running.add(handle);
      const { url, workerdPid } = child.hello;
      return { kind, base: url, runtimePid: workerdPid, proxyPid: null, startMs: Math.round(monoMs() - started), stop };
    }
    const port = await project.devServer.freePort();
    const server = await startServer(project.devServer, { port, stateDir, logFile });
    const stop = async () => {
      running.delete(handle);
      await server.stop();
      removeDir(stateDir);
    };
    const handle = { stop };
    running.add(handle);
    const procs = workerdProcesses(server.pid, port);
    const user = procs.find((p) => p.role === "user");
    const proxy = procs.find((p) => p.role === "proxy");
    if (user === undefined || proxy === undefined) throw new Error(`expected two workerd processes in group ${server.pid}`);
    return { kind, base: server.url, runtimePid: user.pid, proxyPid: proxy.pid, startMs: Math.round(monoMs() - started), stop };
  };

  /**
   * One publish: the trigger is read just before the POST goes out; resolves once every
   * subscriber has it (or COMPLETE_TIMEOUT_MS passed).
   * @param {string} topicUrl
   * @param {string} id
   * @param {number} n
   * @param {boolean} wait
   */
  const publish = async (topicUrl, id, n, wait) => {
    const body = JSON.stringify({ value: valueFor(n), id });
    const headers = { Authorization: `Bearer ${BENCH_SECRETS.PUBLISH_TOKEN}`, "Content-Type": "application/json" };
    const trigger = monoMs();
    /** @type {number | null} */
    let seq = null;
    /** @type {string | null} */
    let error = null;
    try {
      const response = await fetch(topicUrl, { method: "POST", headers, body, signal: AbortSignal.timeout(COMPLETE_TIMEOUT_MS) });
      const text = await response.text();
      if (response.status === 202) seq = JSON.parse(text).seq;
      else error = `${response.status} ${text.slice(0, 120)}`;
    } catch (e) {
      const cause = /** @type {{ cause?: { code?: string } }} */ (e).cause?.code;
      error = cause ?? (e instanceof Error ? e.name : String(e));
    }
    const rttMs = monoMs() - trigger;
    let complete = null;
    if (wait && seq !== null) complete = await whenComplete(seq, Math.max(100, COMPLETE_TIMEOUT_MS - rttMs));
    return { id, n, seq, trigger, rttMs: round1(rttMs), error, complete };
  };

  /** K publishes with no subscriber: the publish path alone. */
  const idlePublishes = async (/** @type {Target} */ target, /** @type {string} */ label) => {
    const topicUrl = `${target.base}/topics/${TOPIC}`;
    const results = [];
    for (let i = 1; i <= IDLE_PUBLISHES; i++) results.push(await publish(topicUrl, `${label}-idle-${i}`, i, false));
    const errors = results.filter((r) => r.error !== null);
    if (errors.length > 0) throw new Error(`${label}: idle publishes failed: ${errors[0]?.error}`);
    // The first one opens the HTTP connection and wakes the object: not counted.
    const publishMs = summarize(
      results.slice(1).map((r) => /** @type {number} */ (r.rttMs)),
      1,
    );
    // Reads on the same path: edgebeat's snapshot (the Worker, an RPC, SQL reads, no write); the ceiling's /stats.
    const readUrl = target.kind === "ceiling" ? `${target.base}/stats` : topicUrl;
    /** @type {number[]} */
    const reads = [];
    for (let i = 0; i <= IDLE_PUBLISHES; i++) {
      const t = monoMs();
      const response = await fetch(readUrl, { signal: AbortSignal.timeout(COMPLETE_TIMEOUT_MS) });
      await response.text();
      if (i > 0) reads.push(monoMs() - t);
    }
    return { publishMs, readMs: summarize(reads, 1) };
  };

  /** @param {Target} target @param {number} loadgenPid */
  const memory = (target, loadgenPid) => ({
    runtimeMiB: rssMiB(target.runtimePid),
    proxyMiB: target.proxyPid === null ? null : rssMiB(target.proxyPid),
    loadgenMiB: rssMiB(loadgenPid),
    runtimeFds: fdCount(target.runtimePid),
    proxyFds: target.proxyPid === null ? null : fdCount(target.proxyPid),
  });
  /** @param {Target} target @param {number} loadgenPid */
  const cpu = (target, loadgenPid) => ({
    runtime: cpuMs(target.runtimePid),
    proxy: target.proxyPid === null ? null : cpuMs(target.proxyPid),
    loadgen: cpuMs(loadgenPid),
    // Everything this bench started (and itself), and the whole machine: the difference is other work.
    ours: treeCpuMs(process.pid),
    machine: machineBusyMs(),
  });
  /**
   * CPU of processes that are not this bench's, as % of one core over `wallMs`.
   * @param {ReturnType<typeof cpu>} a
   * @param {ReturnType<typeof cpu>} b
   * @param {number} wallMs
   */
  const othersShare = (a, b, wallMs) => round1((Math.max(0, b.machine - a.machine - (b.ours - a.ours)) / wallMs) * 100);

  /**
   * One phase: a fresh target and load generator, N subscribers, W + K publishes one at a time.
   * `before`: --before's build instead of the one measured; `shards`: the topic's shard count;
   * `bare`: the bare Durable Object broadcast fixture instead of edgebeat.
   * @param {{ name: string, kind: Target["kind"], n: number, requested?: number, deflateServer?: boolean, role: string, profile?: boolean, before?: boolean, shards?: number, bare?: boolean }} spec
   */
  const phase = async ({
    name,
    kind,
    n,
    requested = n,
    deflateServer = false,
    role,
    profile = false,
    before: beforeBuild = false,
    shards = 1,
    bare = false,
  }) => {
    log(`${name}: starting (${kind}, ${n} subscribers)`);
    const target =
      kind === "ceiling" ? await startCeiling(deflateServer) : await startEdgebeat(kind, { before: beforeBuild, shards, bare });
    const loadgen = await startLoadgen();
    try {
      const idle = await idlePublishes(target, name);
      const before = memory(target, loadgen.pid);
      const wsUrl = `${target.base.replace("http", "ws")}/topics/${TOPIC}`;
      const topicUrl = `${target.base}/topics/${TOPIC}`;
      const open = await loadgen.request("open", {
        url: wsUrl,
        n,
        batchSize: BATCH,
        timeoutMs: OPEN_TIMEOUT_MS,
        deflate: true,
      });
      log(
        `${name}: ${open.opened}/${n} open in ${open.totalMs} ms (${open.failed} failed${open.firstError ? `: ${open.firstError}` : ""})`,
      );
      await sleep(1_000);
      const connected = memory(target, loadgen.pid);
      completed.clear();
      const { open: live } = await loadgen.request("reset");

      const warm = [];
      for (let w = 1; w <= WARMUP; w++) {
        warm.push(await publish(topicUrl, `${name}-warm-${w}`, w, true));
        await sleep(SPACING_MS);
      }
      const cpu0 = cpu(target, loadgen.pid);
      const threads0 = threadCpuMs(target.runtimePid);
      const perfFile = path.join(profileDir, `${name}.data`);
      const profiler = profile ? startProfile(target.runtimePid, perfFile) : null;
      if (profiler !== null) await sleep(300);
      const phaseStart = monoMs();
      /** @type {Awaited<ReturnType<typeof publish>>[]} */
      const publishes = [];
      for (let k = 1; k <= K; k++) {
        const result = await publish(topicUrl, `${name}-${k}`, WARMUP + k, true);
        publishes.push(result);
        // At least SPACING_MS from trigger to trigger, and a breath after the fan-out completed.
        const next = Math.max(result.trigger + SPACING_MS, monoMs() + 100);
        await sleep(next - monoMs());
      }
      const wallMs = monoMs() - phaseStart;
      const cpu1 = cpu(target, loadgen.pid);
      const threads = threadCpuDelta(threads0, threadCpuMs(target.runtimePid)).slice(0, 6);
      await profiler?.stop();
      const after = memory(target, loadgen.pid);
      const triggers = (/** @type {typeof publishes} */ list) =>
        list.filter((p) => p.seq !== null).map((p) => [/** @type {number} */ (p.seq), p.trigger]);
      const warmReport = await loadgen.request("report", { triggers: triggers(warm) });
      const report = await loadgen.request("report", { triggers: triggers(publishes) });

      const perPublish = publishes.map((p) => {
        const r = report.perPublish.find((/** @type {any} */ x) => x.seq === p.seq);
        return {
          seq: p.seq,
          rttMs: p.rttMs,
          error: p.error,
          firstMs: r?.firstMs ?? null,
          fanoutMs: r?.lastMs ?? null,
          p50Ms: r?.p50Ms ?? null,
          delivered: r?.delivered ?? 0,
          duplicated: r?.duplicated ?? 0,
        };
      });
      const accepted = publishes.filter((p) => p.seq !== null).length;
      // A POST that got no 202 is reported as a publish error, not as lost deliveries.
      const expected = accepted * live;
      const perConnKiB = (/** @type {number | null} */ a, /** @type {number | null} */ b) =>
        a === null || b === null || live === 0 ? null : Math.round(((b - a) * 1024) / live);
      const perPublishCpu = (/** @type {number | null} */ a, /** @type {number | null} */ b) =>
        a === null || b === null ? null : round1((b - a) / publishes.length);
      const wf = warm[0] === undefined ? null : warmReport.perPublish[0];
      const result = {
        name,
        role,
        kind,
        n,
        requested,
        capped: requested !== n,
        deflateServer,
        // What the handshakes negotiated, not what was configured: sockets with permessage-deflate in use.
        compressedSockets: open.compressed,
        build: bare ? "bare" : beforeBuild ? "before" : "measured",
        shards,
        targetStartMs: target.startMs,
        connect: {
          totalMs: open.totalMs,
          opened: open.opened,
          failed: open.failed,
          firstError: open.firstError,
          perSocketMs: open.connectMs,
        },
        idleRttMs: idle.publishMs,
        idleReadMs: idle.readMs,
        delivery: {
          subscribers: live,
          publishes: publishes.length,
          accepted,
          publishErrors: publishes.filter((p) => p.error !== null).map((p) => p.error),
          expected,
          delivered: report.delivered,
          lost: expected - report.delivered,
          duplicated: report.duplicated,
          incomplete: publishes.filter((p) => p.complete === false).length,
          drops: report.drops,
          otherFrames: report.otherFrames,
        },
        latencyMs: report.latencyMs,
        fanoutMs: summarize(
          perPublish.flatMap((p) => (p.fanoutMs === null ? [] : [p.fanoutMs])),
          1,
        ),
        firstMs: summarize(
          perPublish.flatMap((p) => (p.firstMs === null ? [] : [p.firstMs])),
          1,
        ),
        rttMs: summarize(
          perPublish.flatMap((p) => (p.rttMs === null ? [] : [p.rttMs])),
          1,
        ),
        warmup:
          wf === undefined || wf === null
            ? null
            : { rttMs: warm[0]?.rttMs ?? null, firstMs: wf.firstMs, fanoutMs: wf.lastMs, delivered: wf.delivered },
        memory: {
          before,
          connected,
          after,
          runtimeKiBPerConn: {
            connected: perConnKiB(before.runtimeMiB, connected.runtimeMiB),
            afterPublishes: perConnKiB(before.runtimeMiB, after.runtimeMiB),
          },
          proxyKiBPerConn: {
            connected: perConnKiB(before.proxyMiB, connected.proxyMiB),
            afterPublishes: perConnKiB(before.proxyMiB, after.proxyMiB),
          },
          loadgenKiBPerConn: {
            connected: perConnKiB(before.loadgenMiB, connected.loadgenMiB),
            afterPublishes: perConnKiB(before.loadgenMiB, after.loadgenMiB),
          },
        },
        cpu: {
          wallMs: Math.round(wallMs),
          runtimeMsPerPublish: perPublishCpu(cpu0.runtime, cpu1.runtime),
          proxyMsPerPublish: perPublishCpu(cpu0.proxy, cpu1.proxy),
          loadgenMsPerPublish: perPublishCpu(cpu0.loadgen, cpu1.loadgen),
          runtimeThreads: threads,
          othersPctOfCore: othersShare(cpu0, cpu1, wallMs),
        },
        profile: profiler === null ? null : summarizeProfile(perfFile),
        perPublish,
      };
      log(
        `${name}: fan-out p50 ${result.fanoutMs.p50} ms, p99 ${result.fanoutMs.p99}; latency p50 ${result.latencyMs.p50}, p99 ${result.latencyMs.p99}; ` +
          `delivered ${report.delivered}/${expected}, dup ${report.duplicated}; RSS/conn ${result.memory.runtimeKiBPerConn.afterPublishes} KiB; CPU/publish ${result.cpu.runtimeMsPerPublish} ms`,
      );
      return result;
    } finally {
      await loadgen.stop();
      await target.stop();
    }
  };

  /**
   * The sustained-rate probe: one server, SUSTAINED_N direct subscribers, publishes at each rate
   * for STEP_S seconds, open loop (on schedule, whether or not the previous one is done). With
   * `batchRate`, only `rates` (the ones a topic without BATCH could not hold) and no look below.
   */
  const sustained = async ({ before = false, batchRate = 0, rates = RATES } = {}) => {
    const label = before ? "sustained (before)" : batchRate > 0 ? `sustained (batch ${batchRate}/s)` : "sustained";
    log(`${label}: ${SUSTAINED_N} subscribers, direct; rates ${rates.join(", ")}/s, ${STEP_S} s each`);
    const target = await startEdgebeat("direct", { before, batchRate });
    const loadgen = await startLoadgen();
    try {
      await idlePublishes(target, "sustained");
      const wsUrl = `${target.base.replace("http", "ws")}/topics/${TOPIC}`;
      const topicUrl = `${target.base}/topics/${TOPIC}`;
      const open = await loadgen.request("open", {
        url: wsUrl,
        n: SUSTAINED_N,
        batchSize: BATCH,
        timeoutMs: OPEN_TIMEOUT_MS,
        deflate: true,
      });
      if (open.failed > 0) log(`${label}: ${open.failed} sockets failed to open: ${open.firstError}`);
      await sleep(1_000);
      // One broadcast first, so the first step does not pay for the sockets' first send.
      completed.clear();
      await loadgen.request("reset");
      await publish(topicUrl, "sustained-warm", 0, true);
      let n = 0;
      const step = async (/** @type {number} */ rate) => {
        completed.clear();
        const { open: live } = await loadgen.request("reset");
        const count = Math.max(1, Math.round(rate * STEP_S));
        const cpu0 = cpu(target, loadgen.pid);
        /** @type {Set<Promise<void>>} */
        const inFlight = new Set();
        /** @type {(Awaited<ReturnType<typeof publish>> & { lateMs: number })[]} */
        const results = [];
        const start = monoMs() + 20;
        for (let i = 0; i < count; i++) {
          const due = start + (i * 1000) / rate;
          const wait = due - monoMs();
          if (wait > 0) await sleep(wait);
          while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
          const lateMs = Math.max(0, monoMs() - due);
          n++;
          const p = publish(topicUrl, `sustained-${rate}-${i}`, n, false).then((r) => {
            results.push({ ...r, lateMs: /** @type {number} */ (round1(lateMs)) });
            inFlight.delete(p);
          });
          inFlight.add(p);
        }
        await Promise.all(inFlight);
        const seqs = results.flatMap((r) => (r.seq === null ? [] : [r.seq]));
        const drainStart = monoMs();
        await Promise.all(seqs.map((seq) => whenComplete(seq, COMPLETE_TIMEOUT_MS)));
        const drainMs = monoMs() - drainStart;
        const cpu1 = cpu(target, loadgen.pid);
        const report = await loadgen.request("report", {
          triggers: results.filter((r) => r.seq !== null).map((r) => [r.seq, r.trigger]),
        });
        const fanouts = report.perPublish.flatMap((/** @type {any} */ p) => (p.lastMs === null ? [] : [p.lastMs]));
        const accepted = results.filter((r) => r.seq !== null).length;
        const expected = accepted * live;
        const errors = results.filter((r) => r.error !== null).map((r) => r.error);
        const fanoutMs = summarize(fanouts, 1);
        const lost = expected - report.delivered;
        // Publishes per second as sent (trigger of the first to trigger of the last).
        const triggers = results.map((r) => r.trigger);
        const spanS = (Math.max(...triggers) - Math.min(...triggers)) / 1000;
        const achievedRate = count < 2 || spanS <= 0 ? rate : round1((count - 1) / spanS);
        const holds =
          errors.length === 0 &&
          lost === 0 &&
          report.duplicated === 0 &&
          report.drops === 0 &&
          (fanoutMs.p99 ?? Number.POSITIVE_INFINITY) < HOLD_FANOUT_P99_MS &&
          (achievedRate ?? 0) >= 0.95 * rate;
        const wallS = (monoMs() - start) / 1000;
        const result = {
          rate,
          publishes: count,
          subscribers: live,
          achievedRate,
          untriggeredSeqs: report.untriggeredSeqs,
          holds,
          fanoutMs,
          latencyMs: report.latencyMs,
          rttMs: summarize(
            results.flatMap((r) => (r.rttMs === null ? [] : [r.rttMs])),
            1,
          ),
          lateMs: summarize(
            results.map((r) => r.lateMs),
            1,
          ),
          drainMs: Math.round(drainMs),
          expected,
          delivered: report.delivered,
          lost,
          duplicated: report.duplicated,
          drops: report.drops,
          publishErrors: errors.length,
          errorKinds: [...new Set(errors)],
          runtimeCpuMsPerPublish: round1(((cpu1.runtime ?? 0) - (cpu0.runtime ?? 0)) / count),
          runtimeCpuShare: round1(((cpu1.runtime ?? 0) - (cpu0.runtime ?? 0)) / 10 / wallS),
          batchFramesPerSubscriber: live === 0 ? 0 : round1(report.batches / live),
          loadgenCpuShare: round1(((cpu1.loadgen ?? 0) - (cpu0.loadgen ?? 0)) / 10 / wallS),
          othersPctOfCore: othersShare(cpu0, cpu1, wallS * 1000),
        };
        log(
          `${label} ${rate}/s: fan-out p50 ${fanoutMs.p50} ms, p99 ${fanoutMs.p99}; delivered ${report.delivered}/${expected}, dup ${report.duplicated}, errors ${errors.length}; ` +
            `runtime CPU ${result.runtimeCpuShare}% of a core; ${holds ? "holds" : "does not hold"}`,
        );
        await sleep(1_000);
        return result;
      };
      const steps = [];
      for (const rate of rates) {
        const result = await step(rate);
        steps.push(result);
        if (!result.holds) break;
      }
      // If the first rate does not hold, look below it (half, then a quarter).
      if (batchRate === 0 && steps.length === 1 && steps[0]?.holds === false) {
        for (const rate of [RATES[0] / 2, RATES[0] / 4]) {
          const result = await step(rate);
          steps.push(result);
          if (result.holds) break;
        }
      }
      const held = steps.filter((s) => s.holds).map((s) => s.rate);
      return {
        build: before ? "before" : "measured",
        batchRate,
        subscribers: open.opened,
        compressedSockets: open.compressed,
        stepSeconds: STEP_S,
        holdRule: `fan-out p99 < ${HOLD_FANOUT_P99_MS} ms, nothing lost or duplicated, every POST accepted, and the bench kept ≥ 95% of the rate`,
        highestRateHeld: held.length === 0 ? null : Math.max(...held),
        steps,
      };
    } finally {
      await loadgen.stop();
      await target.stop();
    }
  };

  // The plan: per N the ceiling, direct and proxy (capped; with a ceiling at the cap too).
  /** @type {Parameters<typeof phase>[0][]} */
  const plan = [];
  for (const n of SIZES) {
    const proxyN = Math.min(n, PROXY_CAP);
    plan.push({ name: `ceiling-${n}`, kind: "ceiling", n, role: "main" });
    plan.push({ name: `direct-${n}`, kind: "direct", n, role: "main" });
    if (proxyN > 0) {
      if (proxyN !== n && !SIZES.includes(proxyN))
        plan.push({ name: `ceiling-${proxyN}`, kind: "ceiling", n: proxyN, role: "main" });
      plan.push({ name: `proxy-${n}`, kind: "proxy", n: proxyN, requested: n, role: "main" });
    }
  }
  const largest = Math.max(...SIZES);
  if (DEFLATE_N > 0) {
    if (!SIZES.includes(DEFLATE_N)) {
      plan.push({ name: `ceiling-${DEFLATE_N}`, kind: "ceiling", n: DEFLATE_N, role: "deflate" });
      plan.push({ name: `direct-${DEFLATE_N}`, kind: "direct", n: DEFLATE_N, role: "deflate" });
    }
    plan.push({ name: `ceiling-${DEFLATE_N}-deflate`, kind: "ceiling", n: DEFLATE_N, deflateServer: true, role: "deflate" });
  }
  // The hot path before its change, at the memory comparison's N and at the largest.
  if (BEFORE !== undefined) {
    for (const n of new Set([DEFLATE_N, largest].filter((x) => x > 0)))
      plan.push({ name: `before-direct-${n}`, kind: "direct", n, role: "before", before: true });
  }
  // The floor: a Durable Object that only broadcasts, at 1,000 and the largest N.
  for (const n of new Set([1000, largest].filter((x) => SIZES.includes(x))))
    plan.push({ name: `bare-direct-${n}`, kind: "direct", n, role: "floor", bare: true });
  for (const k of SHARDS)
    plan.push({ name: `direct-${largest}-shards-${k}`, kind: "direct", n: largest, role: "shards", shards: k });

  let profileNote = null;
  if (PROFILE_N > 0) {
    if (perfAvailable())
      plan.push({ name: `profile-direct-${PROFILE_N}`, kind: "direct", n: PROFILE_N, role: "profile", profile: true });
    else profileNote = "perf is not installed or may not sample here (perf_event_paranoid, a container): no profile";
  }

  const started = monoMs();
  const phases = [];
  for (const spec of plan) phases.push(await phase(spec));
  const sustainedResult = SUSTAINED_N > 0 ? await sustained() : null;
  const sustainedBefore = SUSTAINED_N > 0 && BEFORE !== undefined ? await sustained({ before: true }) : null;
  // Batching is for the rates one-by-one broadcasts cannot hold: from the first that failed.
  const firstFailed = sustainedResult?.steps.find((x) => !x.holds)?.rate;
  const batchedRates = firstFailed === undefined ? [] : RATES.filter((rate) => rate >= firstFailed);
  const sustainedBatched =
    SUSTAINED_N > 0 && BATCH_RATE > 0 && batchedRates.length > 0
      ? await sustained({ batchRate: BATCH_RATE, rates: batchedRates })
      : null;

  const lost = phases.reduce((sum, p) => sum + p.delivery.lost, 0);
  const duplicated = phases.reduce((sum, p) => sum + p.delivery.duplicated, 0);
  const probeSteps = [sustainedResult, sustainedBefore, sustainedBatched].flatMap((probe) => probe?.steps ?? []);
  const sustainedLost = probeSteps.reduce((sum, x) => sum + x.lost, 0);
  const sustainedDuplicated = probeSteps.reduce((sum, x) => sum + x.duplicated, 0);
  const ok =
    lost + duplicated + sustainedLost + sustainedDuplicated === 0 &&
    phases.every((p) => p.delivery.publishErrors.length === 0 && p.connect.failed === 0);
  const result = {
    bench: NAME,
    date: new Date().toISOString(),
    ok,
    durationS: Math.round((monoMs() - started) / 1000),
    machine: facts,
    parameters: {
      sizes: SIZES,
      publishes: K,
      warmup: WARMUP,
      spacingMs: SPACING_MS,
      proxyCap: PROXY_CAP,
      deflateN: DEFLATE_N,
      before: BEFORE === undefined ? null : { ref: BEFORE, commit: beforeCommit },
      shards: SHARDS,
      batchRate: BATCH_RATE,
      sustainedN: SUSTAINED_N,
      rates: RATES,
      stepSeconds: STEP_S,
      batch: BATCH,
      profileN: PROFILE_N,
      profileNote,
      source: REF === undefined ? "the working tree (snapshot)" : `${REF} (git archive)`,
      frameBytes: FRAME_BYTES,
      topic: TOPIC,
      client:
        "raw ws sockets (ws package) in one load-generator process; permessage-deflate offered (the ws and browser default) unless noted",
      ceiling:
        "Node ws server (bench/lib/ceiling.mjs) in its own process: one Buffer per publish sent to every client; permessage-deflate off (ws's default) unless noted",
    },
    totals: { lost, duplicated, sustainedLost, sustainedDuplicated },
    phases,
    sustained: sustainedResult,
    sustainedBefore,
    sustainedBatched,
  };
  const { jsonPath, mdPath } = writeResults(NAME, result, render(result), readmeSummary(result));
  console.log(`\n${summaryText(result)}\n\nwrote ${jsonPath}\n      ${mdPath}`);
  return ok ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Rendering (also used by --render-only)

/** @param {string} kind */
function kindLabel(kind) {
  return kind === "ceiling" ? "ceiling (ws)" : kind === "direct" ? "edgebeat direct" : "edgebeat via proxy";
}

/**
 * A phase's target, with what sets it apart: --before's build, shards, the ceiling with deflate.
 * @param {any} p
 */
function label(p) {
  if (p.build === "bare") return "bare DO broadcast, direct";
  if (p.build === "before") return `${kindLabel(p.kind)}, before`;
  if (p.shards > 1) return `${kindLabel(p.kind)}, ${p.shards} shards`;
  if (p.kind === "ceiling" && p.deflateServer) return "ceiling (ws), with deflate";
  return kindLabel(p.kind);
}

/**
 * Whether a phase's sockets compressed, as their handshakes negotiated it.
 * @param {any} p
 */
function deflateWord(p) {
  const n = p.compressedSockets ?? 0;
  return n === 0 ? "plain" : n === p.delivery.subscribers ? "compressed" : `${n} of ${p.delivery.subscribers} compressed`;
}

/** @param {any} r */
function mainPhases(r) {
  return r.phases.filter((/** @type {any} */ p) => p.role === "main" || (p.role === "deflate" && !p.deflateServer));
}

/**
 * The ceiling phase an edgebeat phase is compared with: the plain ceiling at the same N.
 * @param {any} r
 * @param {any} p
 */
function ceilingFor(r, p) {
  return r.phases.find((/** @type {any} */ c) => c.kind === "ceiling" && !c.deflateServer && c.n === p.n) ?? null;
}

/**
 * "value (×ratio)" for edgebeat, the bare value for the ceiling.
 * @param {number | null | undefined} value
 * @param {number | null | undefined} base
 * @param {boolean} isCeiling
 * @param {string} [unit]
 */
function vr(value, base, isCeiling, unit = "") {
  if (value === null || value === undefined) return "–";
  const shown = `${fmt(value)}${unit}`;
  if (isCeiling || base === null || base === undefined || base <= 0) return shown;
  return `${shown} (${ratio(value / base)})`;
}

/** @param {number} x */
function ratio(x) {
  return `${x >= 10 ? Math.round(x) : x.toFixed(1)}×`;
}

/** @param {number | null | undefined} x */
function fmt(x) {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  if (Math.abs(x) >= 100) return String(Math.round(x));
  if (Math.abs(x) >= 10) return x.toFixed(1).replace(/\.0$/, "");
  return String(Math.round(x * 100) / 100);
}

/** @param {any} p */
function lossCell(p) {
  const d = p.delivery;
  const bad = d.lost + d.duplicated > 0;
  const text = `${d.delivered} / ${d.expected}${d.lost || d.duplicated ? ` (lost ${d.lost}, dup ${d.duplicated})` : ""}`;
  return bad ? `**${text}**` : text;
}

/** @param {any} p */
function subscribersCell(p) {
  return p.capped ? `${p.n} (capped from ${p.requested})` : String(p.n);
}

/** @param {any} r */
function headlineRows(r) {
  return mainPhases(r).map((/** @type {any} */ p) => {
    const c = ceilingFor(r, p);
    const isC = p.kind === "ceiling";
    return [
      subscribersCell(p),
      kindLabel(p.kind),
      vr(p.connect.totalMs / 1000, c && c.connect.totalMs / 1000, isC, " s"),
      lossCell(p),
      vr(p.latencyMs.p50, c?.latencyMs.p50, isC),
      vr(p.latencyMs.p99, c?.latencyMs.p99, isC),
      vr(p.fanoutMs.p50, c?.fanoutMs.p50, isC),
      vr(p.fanoutMs.p99, c?.fanoutMs.p99, isC),
      vr(p.memory.runtimeKiBPerConn.afterPublishes, c?.memory.runtimeKiBPerConn.afterPublishes, isC),
      vr(p.cpu.runtimeMsPerPublish, c?.cpu.runtimeMsPerPublish, isC),
    ];
  });
}

/** @param {any} r */
function findings(r) {
  const main = mainPhases(r);
  /** @type {(kind: string) => any[]} */
  const by = (kind) =>
    main.filter((/** @type {any} */ p) => p.kind === kind).sort((/** @type {any} */ a, /** @type {any} */ b) => a.n - b.n);
  const direct = by("direct");
  const proxy = by("proxy");
  const ceiling = by("ceiling");
  const lines = [];

  // Per-send cost: the slope of fan-out p50 against N between the two largest of --sizes.
  /** @param {any[]} phases */
  const slope = (phases) => {
    const sized = phases.filter((p) => r.parameters.sizes.includes(p.requested ?? p.n));
    if (sized.length < 2) return null;
    const a = sized.at(-2);
    const b = sized.at(-1);
    return { from: a.n, to: b.n, us: ((b.fanoutMs.p50 - a.fanoutMs.p50) * 1000) / (b.n - a.n) };
  };
  /** @param {number | null} ms @param {number} n */
  const perSocket = (ms, n) => (ms === null ? "–" : fmt((ms * 1000) / n));
  const perSendRows = [...ceiling, ...direct, ...proxy].map((p) => [
    kindLabel(p.kind),
    p.n,
    fmt((p.fanoutMs.p50 * 1000) / p.n),
    perSocket(p.cpu.runtimeMsPerPublish, p.n),
    perSocket(p.cpu.proxyMsPerPublish, p.n),
    perSocket(p.cpu.loadgenMsPerPublish, p.n),
    p.fanoutMs.p50 > 0 && p.cpu.runtimeMsPerPublish !== null
      ? `${Math.round((p.cpu.runtimeMsPerPublish / p.fanoutMs.p50) * 100)}%`
      : "–",
  ]);
  const sd = slope(direct);
  const sc = slope(ceiling);
  const sp = slope(proxy);
  const bigD = direct.at(-1);
  const bigC = ceiling.find((/** @type {any} */ c) => c.n === bigD?.n);
  const cpuRatio =
    bigD && bigC && bigC.cpu.runtimeMsPerPublish > 0 ? bigD.cpu.runtimeMsPerPublish / bigC.cpu.runtimeMsPerPublish : null;
  lines.push(`### Per-send cost

Fan-out time and CPU divided by the number of sockets (µs per socket, per publish). "Busy" is the
serving process's CPU per publish over the fan-out p50: 100% would mean its one thread (the object
and all its sockets are served by one) is on a CPU for the whole fan-out. Below that, it waits:
on this 2-core machine the load generator (which also inflates every frame that arrives
compressed) and the kernel's loopback TCP work compete with it for the CPUs.

${table(["target", "N", "fan-out p50 / N", "serving process CPU / N", "proxy CPU / N", "load generator CPU / N", "busy"], perSendRows)}

${
  sd !== null && sc !== null
    ? `Marginal cost from ${sd.from} to ${sd.to} subscribers (slope of fan-out p50): edgebeat direct ${fmt(sd.us)} µs per socket, ` +
      `the ceiling ${fmt(sc.us)} µs${sp !== null ? `, via the proxy ${fmt(sp.us)} µs (${sp.from} → ${sp.to})` : ""}: ` +
      `${ratio(sd.us / Math.max(sc.us, 0.01))} the ceiling's per-socket time, direct.`
    : ""
}${
  cpuRatio !== null && bigD && bigC
    ? ` In CPU, a publish to ${bigD.n} sockets costs the user runtime ${fmt(bigD.cpu.runtimeMsPerPublish)} ms ` +
      `(${perSocket(bigD.cpu.runtimeMsPerPublish, bigD.n)} µs per socket) against ${fmt(bigC.cpu.runtimeMsPerPublish)} ms ` +
      `(${perSocket(bigC.cpu.runtimeMsPerPublish, bigC.n)} µs) for the ceiling: ${ratio(cpuRatio)}. The load generator spends ` +
      `${perSocket(bigD.cpu.loadgenMsPerPublish, bigD.n)} µs per frame on edgebeat's frames (${deflateWord(bigD)}) and ` +
      `${perSocket(bigC.cpu.loadgenMsPerPublish, bigC.n)} µs on the ceiling's (${deflateWord(bigC)}).`
    : ""
}

Connecting (batches of ${r.parameters.batch}, each socket done at its \`hello\`): ${[...ceiling, ...direct, ...proxy]
    .filter((/** @type {any} */ p) => p.n >= 1000)
    .map(
      (/** @type {any} */ p) =>
        `${kindLabel(p.kind)} ${p.n} in ${fmt(p.connect.totalMs / 1000)} s (${Math.round(p.n / (p.connect.totalMs / 1000))}/s)`,
    )
    .join(", ")}. Each edgebeat subscriber goes through the Worker (routing, validation) and the object's \`fetch\`
(accept, attachment, the join frames from SQLite) on the same one thread that does the sends.`);

  // Proxy overhead.
  const pairs = proxy.map((p) => ({
    p,
    d: direct.find((/** @type {any} */ x) => x.n === p.n) ?? direct.find((/** @type {any} */ x) => x.n === p.requested),
  }));
  lines.push(`### The proxy's overhead (wrangler dev's public port vs the runtime's own port)

${table(
  [
    "N (proxy / direct)",
    "fan-out p50 proxy / direct",
    "fan-out p50 / N proxy / direct (µs)",
    "latency p99 proxy / direct",
    "POST round trip p50 proxy / direct",
    "proxy workerd CPU / publish",
    "proxy workerd RSS / socket",
  ],
  pairs.map(({ p, d }) => [
    `${p.n} / ${d?.n ?? "–"}`,
    `${fmt(p.fanoutMs.p50)} / ${d ? fmt(d.fanoutMs.p50) : "–"} ms${d && d.n === p.n ? ` (${ratio(p.fanoutMs.p50 / d.fanoutMs.p50)})` : ""}`,
    `${fmt((p.fanoutMs.p50 * 1000) / p.n)} / ${d ? fmt((d.fanoutMs.p50 * 1000) / d.n) : "–"}`,
    `${fmt(p.latencyMs.p99)} / ${d ? fmt(d.latencyMs.p99) : "–"} ms`,
    `${fmt(p.rttMs.p50)} / ${d ? fmt(d.rttMs.p50) : "–"} ms`,
    `${p.cpu.proxyMsPerPublish ?? "–"} ms`,
    `${p.memory.proxyKiBPerConn.afterPublishes ?? "–"} KiB`,
  ]),
)}

Every frame crosses two workerd processes on the proxy route: the runtime writes it to the proxy's
socket, the proxy reads it and writes it again to the client's. The proxy works on the other core,
in parallel with the runtime's one busy thread, so it adds CPU (the column above), memory per
socket and connect time (see the headline) more than fan-out time; on two cores it competes with
the load generator. Where proxy and direct differ by N (the cap), compare the per-socket column.`);

  // The publish path: storage write and RPC before the broadcast.
  const rows = [...ceiling, ...direct, ...proxy].map((p) => [
    kindLabel(p.kind),
    p.n,
    fmt(p.idleReadMs.p50),
    fmt(p.idleRttMs.p50),
    fmt(p.firstMs.p50),
    fmt(p.fanoutMs.p50),
    fmt(p.rttMs.p50),
    p.kind === "ceiling" ? "–" : fmt((Math.max(0, p.firstMs.p50 - p.idleRttMs.p50) * 1000) / p.n),
    p.kind === "ceiling" ? "–" : fmt((Math.max(0, p.fanoutMs.p50 - p.firstMs.p50) * 1000) / p.n),
  ]);
  const d0 = direct.find((/** @type {any} */ p) => p.n >= 1000) ?? direct.at(-1);
  const c0 = ceiling.find((/** @type {any} */ c) => c.n === d0?.n);
  const late = direct.filter((/** @type {any} */ p) => p.n >= 1000 && p.rttMs.p50 >= 0.75 * p.fanoutMs.p50);
  lines.push(`### The publish path: Worker, RPC, storage write, then the sends (p50, ms)

With nobody subscribed, a read (edgebeat: \`GET /topics/announcements\`, the Worker, an RPC and SQL
reads; the ceiling: \`GET /stats\`) and a publish (edgebeat: the Worker, the bearer check, zod, the
RPC, the object's SQLite transaction — insert the frame, prune history and dedupe keys, counters —
and the alarm check) cost what the first two columns say; the difference is about what the write
adds. With N subscribers the object then calls \`send\` for every socket in one synchronous loop;
the output gate holds those frames until the write is durable, so for edgebeat the first
subscriber has the frame only after the whole loop ran: "(first − publish) / N" estimates the JS
loop's cost per socket (\`getWebSockets()\` and \`send\`), and "(fan-out − first) / N" the runtime
writing the queued frames out, socket by socket (the ceiling writes as it loops, so neither applies).

${table(
  [
    "target",
    "N",
    "read, no subscribers",
    "publish, no subscribers",
    "first subscriber has it",
    "last subscriber has it (fan-out)",
    "POST round trip",
    "(first − publish) / N, µs",
    "(fan-out − first) / N, µs",
  ],
  rows,
)}

${
  d0 && c0
    ? `At ${d0.n} subscribers the first subscriber has a publish ${fmt(d0.firstMs.p50)} ms after the trigger on edgebeat direct against ` +
      `${fmt(c0.firstMs.p50)} ms on the ceiling; the whole publish path with nobody listening costs ${fmt(d0.idleRttMs.p50)} ms against ` +
      `${fmt(c0.idleRttMs.p50)} ms, of which the write is about ${fmt(Math.max(0, d0.idleRttMs.p50 - d0.idleReadMs.p50))} ms ` +
      `(publish − read). That is fixed per publish; the fan-out at ${d0.n} is ${fmt(d0.fanoutMs.p50)} ms, so at this size the ` +
      `storage write is ${Math.round((Math.max(0, d0.idleRttMs.p50 - d0.idleReadMs.p50) / d0.fanoutMs.p50) * 100)}% of it and the sends are the rest.`
    : ""
}${
  late.length > 0
    ? ` The POST round trip is about as long as the fan-out (${late.map((/** @type {any} */ p) => `${fmt(p.rttMs.p50)} vs ${fmt(p.fanoutMs.p50)} ms at ${p.n}`).join(", ")}, direct): ` +
      "the RPC's answer leaves the object's thread behind most of the frames it queued, and that thread is busy with one " +
      "publish's sends for about its CPU per publish, which bounds the publish rate of one topic (see the sustained rate)."
    : ""
}`);

  // Memory with and without deflate.
  const deflatePhases = r.phases.filter(
    (/** @type {any} */ p) =>
      (p.role === "main" || p.role === "deflate" || p.role === "before") &&
      p.n === r.parameters.deflateN &&
      (p.kind === "direct" || p.kind === "ceiling"),
  );
  if (deflatePhases.length > 0) {
    lines.push(`### Memory per socket, with and without permessage-deflate (${r.parameters.deflateN} subscribers)

RSS growth of each process divided by the sockets: "connected" once every socket has its hello,
"after publishes" after ${r.parameters.warmup} + ${r.parameters.publishes} broadcasts (the first send on a compressed socket
allocates its compressor).

${table(
  [
    "target",
    "sockets compressed (negotiated)",
    "server KiB / socket connected",
    "after publishes",
    "client KiB / socket after publishes",
    "fan-out p50",
    "server CPU / publish",
    "client CPU / publish",
  ],
  deflatePhases.map((/** @type {any} */ p) => [
    label(p),
    `${p.compressedSockets ?? "–"} of ${p.delivery.subscribers}`,
    p.memory.runtimeKiBPerConn.connected,
    p.memory.runtimeKiBPerConn.afterPublishes,
    p.memory.loadgenKiBPerConn.afterPublishes,
    `${fmt(p.fanoutMs.p50)} ms`,
    `${p.cpu.runtimeMsPerPublish} ms`,
    `${p.cpu.loadgenMsPerPublish} ms`,
  ]),
)}${deflateText(deflatePhases)}`);
  }

  // Where the runtime's CPU goes: the profiled phase (perf), else the busiest threads of the largest direct phase.
  const profiled = r.phases.find((/** @type {any} */ p) => p.profile);
  const big = profiled ?? direct.at(-1);
  if (big !== undefined) {
    const total = big.cpu.runtimeThreads.reduce((/** @type {number} */ sum, /** @type {any} */ t) => sum + t.ms, 0);
    const threadsTable = table(
      ["thread", "CPU ms", "share"],
      big.cpu.runtimeThreads.map((/** @type {any} */ t) => [
        `${t.name} (${t.tid})`,
        t.ms,
        `${Math.round((t.ms / Math.max(1, total)) * 100)}%`,
      ]),
    );
    const profileText =
      profiled === undefined
        ? (r.parameters.profileNote ?? "No profile was taken (`--profile-n 0`).")
        : `\`perf record -F 999\` on the user workerd during those publishes (${profiled.profile.samples} samples, every thread; the phase's own figures are in "Every phase", as \`${profiled.name}\`). Share of samples by kind of work:

${table(
  ["kind of work", "share"],
  profiled.profile.kinds.map((/** @type {any} */ k) => [k.kind, `${k.pct}%`]),
)}

The busiest functions:

${table(
  ["share", "where", "function"],
  profiled.profile.top.map((/** @type {any} */ t) => [`${t.pct}%`, t.dso, `\`${t.sym}\``]),
  ["r", "l", "l"],
)}${profileSummary(r, profiled)}`;
    lines.push(`### Where the runtime's CPU goes (${big.n} subscribers, direct)

CPU of each thread of the user workerd over the ${big.delivery.publishes} measured publishes (${big.cpu.wallMs} ms of wall time;
${big.cpu.runtimeMsPerPublish} ms of CPU per publish, ${fmt((big.cpu.runtimeMsPerPublish * 1000) / big.n)} µs per socket):

${threadsTable}

${profileText}`);
  }
  return lines.join("\n\n");
}

/**
 * The profile read in a few sentences: what is per-socket machinery inside workerd, what is
 * compression, what is the kernel; and how the profiled run compares with the same N unprofiled.
 * @param {any} r
 * @param {any} profiled
 */
function profileSummary(r, profiled) {
  const share = (/** @type {RegExp} */ re) =>
    profiled.profile.kinds
      .filter((/** @type {any} */ k) => re.test(k.kind))
      .reduce((/** @type {number} */ s, /** @type {any} */ k) => s + k.pct, 0);
  const machinery = share(/WebSocket send path|kj promises|HTTP I\/O|allocator|V8|other workerd|libc/);
  const zlib = share(/compression/);
  const kernel = share(/kernel/);
  const twin = r.phases.find((/** @type {any} */ p) => p.kind === "direct" && p.role === "main" && p.n === profiled.n);
  const perSocket = (profiled.cpu.runtimeMsPerPublish * 1000) / profiled.n;
  let text =
    `\n\nRead together: about ${Math.round(machinery)}% of the runtime's CPU is workerd's per-socket machinery around each \`send\` ` +
    `(the WebSocket object, the pipe and pump behind every hibernatable socket, kj promises, the HTTP layer, V8, the allocator), ` +
    (zlib >= 1
      ? `${Math.round(zlib)}% is compressing the frame once per socket (permessage-deflate), and `
      : "nothing is compression (permessage-deflate is declined), and ") +
    `${Math.round(kernel)}% is the kernel ` +
    `(one write per socket over loopback TCP, and scheduling). At ${fmt(perSocket)} µs of CPU per socket, that is ` +
    `${fmt((perSocket * Math.round(machinery)) / 100)} µs of machinery, ${zlib >= 1 ? `${fmt((perSocket * Math.round(zlib)) / 100)} µs of zlib and ` : ""}` +
    `${fmt((perSocket * Math.round(kernel)) / 100)} µs of kernel per socket per publish. The object's own loop (\`getWebSockets()\` and the \`send\` calls, JavaScript into ` +
    `workerd) takes about ${fmt(((profiled.firstMs.p50 - profiled.idleRttMs.p50) * 1000) / profiled.n)} µs per socket of that ` +
    "(first subscriber − publish with no subscribers, over N); the rest happens after it, writing the frames out.";
  if (twin !== undefined) {
    const spread = Math.abs(profiled.fanoutMs.p50 - twin.fanoutMs.p50) / Math.max(1, twin.fanoutMs.p50);
    text +=
      ` The profiled run repeats \`${twin.name}\`: CPU per publish ${fmt(profiled.cpu.runtimeMsPerPublish)} against ` +
      `${fmt(twin.cpu.runtimeMsPerPublish)} ms, fan-out p50 ${fmt(profiled.fanoutMs.p50)} against ${fmt(twin.fanoutMs.p50)} ms and ` +
      `p99 ${fmt(profiled.fanoutMs.p99)} against ${fmt(twin.fanoutMs.p99)} ms` +
      (spread > 0.2
        ? ": on two shared cores the CPU per publish repeats closely, the fan-out time much less (it depends on when the " +
          "runtime gets a CPU), so CPU per socket is the steadier figure."
        : ", so sampling at 999 Hz changed little.");
  }
  return text;
}

/**
 * What permessage-deflate costs, from the deflate comparison's phases.
 * @param {any[]} phases
 */
function deflateText(phases) {
  const on = phases.find((p) => p.kind === "direct" && p.compressedSockets > 0);
  const off = phases.find((p) => p.kind === "direct" && p.compressedSockets === 0);
  const plain = phases.find((p) => p.kind === "ceiling" && !p.deflateServer);
  const zipped = phases.find((p) => p.kind === "ceiling" && p.deflateServer);
  if (on === undefined || off === undefined) return "";
  const kib = (/** @type {any} */ p) => p.memory.runtimeKiBPerConn.afterPublishes;
  const us = (/** @type {number} */ ms) => fmt((ms * 1000) / on.n);
  let text =
    `\n\nOn edgebeat (${on.build === "before" ? "the build before the change" : "this build"} with it, ${off.build === "before" ? "the build before the change" : "this build"} without), permessage-deflate costs ${kib(on) - kib(off)} KiB per socket in the runtime (${kib(on)} against ${kib(off)}), ` +
    `${us(on.cpu.runtimeMsPerPublish - off.cpu.runtimeMsPerPublish)} µs of runtime CPU per socket per publish ` +
    `(${fmt(on.cpu.runtimeMsPerPublish)} against ${fmt(off.cpu.runtimeMsPerPublish)} ms), and ` +
    `${us(on.cpu.loadgenMsPerPublish - off.cpu.loadgenMsPerPublish)} µs per frame in the client, which inflates; ` +
    `fan-out p50 ${fmt(on.fanoutMs.p50)} against ${fmt(off.fanoutMs.p50)} ms. Without it, a socket still costs the runtime ${kib(off)} KiB ` +
    `(the ceiling: ${plain === undefined ? "–" : kib(plain)} KiB).`;
  if (zipped !== undefined) {
    text +=
      ` Node's \`ws\` with permessage-deflate pays about the same, ${kib(zipped)} KiB per socket over its plain ` +
      `${plain === undefined ? "–" : kib(plain)} KiB: the cost is zlib's, not workerd's — one compressor per socket kept ` +
      "between messages (context takeover), whose state for the default 32 KiB window and memLevel 8 is about 256 KiB " +
      "(zlib's formula: 2^(windowBits+2) + 2^(memLevel+9) bytes).";
  }
  return text;
}

/** @param {any} r */
function render(r) {
  const s = r.sustained;
  const pct = (/** @type {any} */ x) => [x.p50, x.p90, x.p99, x.max];
  return `# Fan-out at speed and at scale

Generated by \`bench/fanout.mjs\` on ${r.date} (${r.durationS} s); do not edit by hand.

${machineTable(r.machine)}

${table(
  ["parameter", "value"],
  [
    ["subscribers (N)", r.parameters.sizes.join(", ")],
    ["publishes per N and target (K), after warm-up", `${r.parameters.publishes}, after ${r.parameters.warmup}`],
    ["spacing", `≥ ${r.parameters.spacingMs} ms trigger to trigger, and only once every subscriber has the previous one`],
    ["frame", `${r.parameters.frameBytes} bytes, edgebeat's \`metric\` frame (the value has the uptime job's shape)`],
    ["topic", `/topics/${r.parameters.topic}`],
    ["subscribers", r.parameters.client],
    ["ceiling", r.parameters.ceiling],
    [
      "proxy route",
      `wrangler dev's public port, at most ${r.parameters.proxyCap} sockets (its proxy workerd needs ~4 fds per socket and dies near 5,000 under the 20,000-file limit)`,
    ],
    [
      "direct route",
      "a direct socket into the Worker (Miniflare's `unsafeDirectSockets`, bench/lib/runtime.mjs): past wrangler's proxy and Miniflare's entry worker, the bundle `wrangler deploy --dry-run` builds, wrangler.toml read by wrangler's `unstable_getMiniflareWorkerOptions`",
    ],
    [
      "before",
      r.parameters.before === null
        ? "not measured"
        : `${r.parameters.before.ref} (${r.parameters.before.commit}): the build before the hot-path change, direct`,
    ],
    [
      "shards",
      r.parameters.shards.length === 0
        ? "not measured"
        : `1, ${r.parameters.shards.join(", ")} at ${Math.max(...r.parameters.sizes)}, direct`,
    ],
  ],
  ["l", "l"],
)}

Every target is started fresh for every phase (edgebeat: a new runtime with an empty state, direct
or \`wrangler dev\`; the ceiling: a new process), and so is the load generator, so memory deltas
start from a clean process.

## Headline

Edgebeat's figures with their ratio to the ceiling at the same N (× the ceiling's value; lower is
better for all). Latency is trigger (the POST is sent) → a subscriber receives it, over every
delivery; fan-out is per publish, trigger → the last subscriber has it, p50/p99 over the K
publishes (with K = ${r.parameters.publishes}, p99 is the slowest). RSS / socket is the serving
process's growth (user workerd, or the ceiling process) divided by N, after the publishes (KiB); CPU
/ publish is its utime + stime over the publishes divided by K (ms; /proc ticks are 10 ms, so ±${fmt(10 / r.parameters.publishes)} ms).
At 100 sockets the RSS figure is mostly noise (a garbage collection can make it negative).

${table(
  [
    "N",
    "target",
    "connect all",
    "delivered / expected",
    "latency p50 (ms)",
    "latency p99 (ms)",
    "fan-out p50 (ms)",
    "fan-out p99 (ms)",
    "RSS / socket (KiB)",
    "CPU / publish (ms)",
  ],
  headlineRows(r),
)}

${othersText(r)}Lost ${r.totals.lost}, duplicated ${r.totals.duplicated} over every phase of this run (these and the before and shard phases below)${
    r.sustained === null
      ? ""
      : `; lost ${r.totals.sustainedLost}, duplicated ${r.totals.sustainedDuplicated} in the sustained probes`
  }.${
    r.phases.some((/** @type {any} */ p) => p.capped)
      ? ` Through the proxy, N is capped at ${r.parameters.proxyCap}; that row is compared with a ceiling run at ${r.parameters.proxyCap}.`
      : ""
  }

## Sustained rate

${
  s === null
    ? "Not run (`--sustained-n 0`)."
    : `${sustainedIntro(s)}

${stepsTable(s)}

**Highest rate that held: ${heldText(s)}** (${s.subscribers} subscribers: ${s.highestRateHeld === null ? "–" : `${s.highestRateHeld * s.subscribers} deliveries per second`}).${sustainedContext(r)}`
}

${hotPathSection(r)}

${floorSection(r)}

${shardsSection(r)}

${batchingSection(r)}

## Where the time goes

${findings(r)}

## Every phase

${table(
  [
    "phase",
    "N",
    "start",
    "connect p50 / p99 / all",
    "warm-up fan-out",
    "POST round trip p50 / p99",
    "first p50",
    "latency p50 / p90 / p99 / max",
    "fan-out p50 / p99 / max",
    "RSS MiB before → connected → after (runtime)",
    "proxy MiB",
    "load gen MiB",
    "CPU / publish runtime · proxy · load gen",
    "other processes (% of a core)",
    "drops",
  ],
  r.phases.map((/** @type {any} */ p) => [
    p.name,
    p.n,
    `${p.targetStartMs} ms`,
    `${p.connect.perSocketMs.p50} / ${p.connect.perSocketMs.p99} ms / ${p.connect.totalMs} ms`,
    p.warmup === null ? "–" : `${p.warmup.fanoutMs} ms`,
    `${p.rttMs.p50} / ${p.rttMs.p99}`,
    p.firstMs.p50,
    pct(p.latencyMs).join(" / "),
    [p.fanoutMs.p50, p.fanoutMs.p99, p.fanoutMs.max].join(" / "),
    `${p.memory.before.runtimeMiB} → ${p.memory.connected.runtimeMiB} → ${p.memory.after.runtimeMiB}`,
    p.memory.before.proxyMiB === null ? "–" : `${p.memory.before.proxyMiB} → ${p.memory.after.proxyMiB}`,
    `${p.memory.before.loadgenMiB} → ${p.memory.after.loadgenMiB}`,
    `${p.cpu.runtimeMsPerPublish} · ${p.cpu.proxyMsPerPublish ?? "–"} · ${p.cpu.loadgenMsPerPublish}`,
    p.cpu.othersPctOfCore ?? "–",
    p.delivery.drops,
  ]),
)}
`;
}

/**
 * How much CPU processes other than the bench's own took while it measured (a busy machine skews
 * every figure; other people's test runs, for one).
 * @param {any} r
 */
function othersText(r) {
  const shares = [
    ...r.phases.map((/** @type {any} */ p) => p.cpu.othersPctOfCore),
    ...[r.sustained, r.sustainedBefore, r.sustainedBatched]
      .flatMap((probe) => probe?.steps ?? [])
      .map((/** @type {any} */ x) => x.othersPctOfCore),
  ].filter((/** @type {unknown} */ x) => typeof x === "number");
  if (shares.length === 0) return "";
  const worst = Math.max(...shares);
  return worst >= 10
    ? `**Other processes on the machine used up to ${worst}% of a core while this run measured** (see "other processes" in Every phase): those phases' figures are skewed by it. `
    : `Other processes on the machine used at most ${worst}% of a core while this run measured. `;
}

/**
 * What one publish at a time costs at the probe's N (from the main phases), to read the rates against.
 * @param {any} r
 */
function sustainedContext(r) {
  const s = r.sustained;
  const alone = r.phases.find(
    (/** @type {any} */ p) => p.kind === "direct" && p.n === s.subscribers && (p.role === "main" || p.role === "deflate"),
  );
  if (alone === undefined) return "";
  const perSecond = alone.cpu.runtimeMsPerPublish > 0 ? Math.floor(1000 / alone.cpu.runtimeMsPerPublish) : null;
  return (
    ` For reference, one publish at a time to ${alone.n} direct subscribers has a fan-out p50 of ${fmt(alone.fanoutMs.p50)} ms ` +
    `(p99 ${fmt(alone.fanoutMs.p99)} ms) and costs the runtime ${fmt(alone.cpu.runtimeMsPerPublish)} ms of CPU` +
    (perSecond === null ? "." : `, so its one thread saturates near ${perSecond} publishes per second at this N.`)
  );
}

/** @param {any} s a sustained probe */
function sustainedIntro(s) {
  return `${s.subscribers} subscribers, direct, deflate offered (negotiated on ${s.compressedSockets ?? "–"} of them); publishes on schedule (open loop, at most ${MAX_IN_FLIGHT} POSTs in flight) for ${s.stepSeconds} s per rate. A rate holds when ${s.holdRule}.`;
}

/**
 * The runtime's share of a core at the first rate both probes ran: the steadier comparison, since
 * "highest rate held" moves in whole steps of the ladder.
 * @param {any} before
 * @param {any} after
 */
function sameRateText(before, after) {
  const step = after.steps.find((/** @type {any} */ x) =>
    before.steps.some((/** @type {any} */ y) => y.rate === x.rate && y.publishErrors === 0),
  );
  const twin = step && before.steps.find((/** @type {any} */ y) => y.rate === step.rate);
  return step && twin
    ? `; at ${step.rate}/s the runtime used ${twin.runtimeCpuShare}% of a core before and ${step.runtimeCpuShare}% after (fan-out p99 ${fmt(twin.fanoutMs.p99)} → ${fmt(step.fanoutMs.p99)} ms)`
    : "";
}

/** @param {any} s a sustained probe */
function heldText(s) {
  return s.highestRateHeld === null ? "none of those tried" : `${s.highestRateHeld}/s`;
}

/** @param {any} s a sustained probe */
function stepsTable(s) {
  return table(
    [
      "rate (/s)",
      "achieved",
      "publishes",
      "delivered / expected",
      "lost",
      "dup",
      "POST errors",
      "fan-out p50",
      "fan-out p99",
      "latency p99",
      "POST round trip p99",
      "runtime CPU (% of a core)",
      "other processes (% of a core)",
      "holds",
    ],
    s.steps.map((/** @type {any} */ x) => [
      x.rate,
      x.achievedRate,
      x.publishes,
      `${x.delivered} / ${x.expected}`,
      x.lost,
      x.duplicated,
      x.publishErrors,
      `${fmt(x.fanoutMs.p50)} ms`,
      `${fmt(x.fanoutMs.p99)} ms`,
      `${fmt(x.latencyMs.p99)} ms`,
      `${fmt(x.rttMs.p99)} ms`,
      x.runtimeCpuShare,
      x.othersPctOfCore ?? "–",
      x.holds ? "yes" : "**no**",
    ]),
  );
}

/**
 * The hot-path change measured: --before's build against this one, direct, at the same N and in
 * the sustained probe.
 * @param {any} r
 */
function hotPathSection(r) {
  const before = r.parameters.before;
  const pairs = r.phases
    .filter((/** @type {any} */ p) => p.role === "before")
    .map((/** @type {any} */ b) => ({
      b,
      a: mainPhases(r).find((/** @type {any} */ p) => p.kind === "direct" && p.n === b.n),
    }))
    .filter((/** @type {any} */ x) => x.a !== undefined);
  if (before === null || pairs.length === 0) return '## The hot path, before and after\n\nNot measured (`--before ""`).';
  const rows = pairs.flatMap(({ a, b }) =>
    [b, a].map((p) => {
      const c = ceilingFor(r, p);
      return [
        p.n,
        p.build === "before" ? `before (${before.commit})` : `after (${r.machine.commit})`,
        deflateWord(p),
        vr(p.fanoutMs.p50, c?.fanoutMs.p50, false),
        vr(p.fanoutMs.p99, c?.fanoutMs.p99, false),
        vr(p.latencyMs.p99, c?.latencyMs.p99, false),
        fmt(p.cpu.runtimeMsPerPublish),
        p.memory.runtimeKiBPerConn.afterPublishes,
        fmt(p.cpu.loadgenMsPerPublish),
        `${p.connect.totalMs / 1000} s`,
      ];
    }),
  );
  const sb = r.sustainedBefore;
  const sa = r.sustained;
  const big = pairs.at(-1);
  const gain = (/** @type {(p: any) => number} */ get) => ratio(get(big.b) / Math.max(0.01, get(big.a)));
  return `## The hot path, before and after

The change: \`compatibility_flags = ["no_web_socket_compression"]\` in wrangler.toml, so the Worker
declines permessage-deflate, which browsers (and \`ws\`) offer on every socket. With it accepted,
workerd keeps one zlib compressor per socket and compresses every frame once per socket; declined,
a broadcast writes the same bytes to every socket, and each browser saves an inflate. Frames are
small JSON (${r.parameters.frameBytes} bytes) on a push feed, so bandwidth is not what limits a topic; the
runtime's CPU and memory per socket are. "Before" is ${before.ref === before.commit ? before.commit : `${before.ref} (${before.commit})`}, the same code with the
flag absent, measured in this run on the same direct route (ratios: × the ceiling at that N).

${table(
  [
    "N",
    "build",
    "frames",
    "fan-out p50 (ms)",
    "fan-out p99 (ms)",
    "latency p99 (ms)",
    "runtime CPU / publish (ms)",
    "runtime KiB / socket",
    "load generator CPU / publish (ms)",
    "connect all",
  ],
  rows,
)}

At ${big.a.n} subscribers the change cuts fan-out p99 ${gain((p) => p.fanoutMs.p99)} (${fmt(big.b.fanoutMs.p99)} → ${fmt(big.a.fanoutMs.p99)} ms), the runtime's CPU per publish ${gain((p) => p.cpu.runtimeMsPerPublish)} and its memory per socket ${gain((p) => p.memory.runtimeKiBPerConn.afterPublishes)}.${
    sa && sb
      ? ` Sustained, ${sa.subscribers} subscribers: the highest rate that held went from ${heldText(sb)} to ${heldText(sa)}${sameRateText(sb, sa)}.

The sustained probe on the build before the change:

${stepsTable(sb)}`
      : ""
  }

Locally only a direct socket shows this: through \`wrangler dev\` (and Miniflare's default port),
Miniflare's entry worker sits in front of the Worker in the same workerd and negotiates
permessage-deflate with the client itself, whatever the Worker's flags say, so the proxy rows
above are still compressed (${r.phases
    .filter((/** @type {any} */ p) => p.kind === "proxy")
    .map((/** @type {any} */ p) => `${p.n}: ${deflateWord(p)}`)
    .join(", ")}). In production the Worker is the front door and its flag decides.`;
}

/**
 * edgebeat against a Durable Object that does nothing but broadcast, and both against the ceiling.
 * @param {any} r
 */
function floorSection(r) {
  const bare = r.phases.filter((/** @type {any} */ p) => p.role === "floor");
  if (bare.length === 0)
    return "## The floor: a bare Durable Object broadcast\n\nNot measured (needs 1,000 or the largest N in --sizes).";
  const rows = bare.flatMap((/** @type {any} */ b) => {
    const c = ceilingFor(r, b);
    const e = mainPhases(r).find((/** @type {any} */ p) => p.kind === "direct" && p.n === b.n);
    return [c, b, e]
      .filter((p) => p)
      .map((p) => [
        p.n,
        label(p),
        vr(p.fanoutMs.p50, c?.fanoutMs.p50, p.kind === "ceiling"),
        vr(p.fanoutMs.p99, c?.fanoutMs.p99, p.kind === "ceiling"),
        fmt(p.firstMs.p50),
        fmt(p.cpu.runtimeMsPerPublish),
        fmt((p.cpu.runtimeMsPerPublish * 1000) / p.n),
        p.memory.runtimeKiBPerConn.afterPublishes,
      ]);
  });
  const big = bare.at(-1);
  const edge = mainPhases(r).find((/** @type {any} */ p) => p.kind === "direct" && p.n === big.n);
  const ceiling = ceilingFor(r, big);
  const verdict =
    edge && ceiling
      ? ` At ${big.n} subscribers the bare object's fan-out p99 is ${ratio(big.fanoutMs.p99 / ceiling.fanoutMs.p99)} the ceiling's and edgebeat's ` +
        `${ratio(edge.fanoutMs.p99 / ceiling.fanoutMs.p99)}; in CPU per socket, ${fmt((big.cpu.runtimeMsPerPublish * 1000) / big.n)} µs against ` +
        `${fmt((edge.cpu.runtimeMsPerPublish * 1000) / edge.n)} µs (the ceiling: ${fmt((ceiling.cpu.runtimeMsPerPublish * 1000) / ceiling.n)} µs). ` +
        "What separates the bare object from the ceiling is workerd's per-socket cost, which no code in the object can remove; what separates edgebeat from the bare object is edgebeat's own work."
      : "";
  return `## The floor: a bare Durable Object broadcast

\`bench/fixtures/bare-broadcast\`: one Durable Object that accepts hibernatable sockets and, on a
POST, sends one frame of the same shape to each of them: no storage, no validation, no history, no
shards. Same runtime, same direct route, same load generator.

${table(
  [
    "N",
    "target",
    "fan-out p50 (ms)",
    "fan-out p99 (ms)",
    "first subscriber p50 (ms)",
    "runtime CPU / publish (ms)",
    "CPU / socket (µs)",
    "runtime KiB / socket",
  ],
  rows,
)}
${verdict}`;
}

/**
 * The sustained probe on a topic with BATCH, against the same probe without.
 * @param {any} r
 */
function batchingSection(r) {
  const b = r.sustainedBatched;
  const s = r.sustained;
  if (!b || !s) return "## Batching\n\nNot measured (`--batch-rate 0` or `--sustained-n 0`, or every rate held without BATCH).";
  const interval = fmt(1000 / b.batchRate);
  const perSub = b.steps.map((/** @type {any} */ x) => `${x.rate}/s: ${x.batchFramesPerSubscriber}`).join(", ");
  const pays = (b.highestRateHeld ?? 0) > (s.highestRateHeld ?? 0);
  return `## Batching

The sustained probe again, on a topic with \`BATCH = "${r.parameters.topic}:${b.batchRate}"\`: a publish that comes
within ${interval} ms of the topic's last broadcast is stored at once and reaches subscribers with the
flush (the first publish past the interval, or the object's alarm when publishing stops), together
with the others of that interval in one \`batch\` frame. Each value's latency then includes its
wait for the flush (up to ${interval} ms). The probe runs the rates the topic without BATCH could not
hold (from ${b.steps[0]?.rate ?? "–"}/s up), where batching is meant to help.

${stepsTable(b)}

\`batch\` frames per subscriber in each step: ${perSub}. **Highest rate that held: ${heldText(b)}** with
batching, against ${heldText(s)} without (same build, same ${s.subscribers} subscribers, same hold rule). ${
    pays
      ? "Batching pays once publishes outrun what one object can send one by one: the CPU of a broadcast is per socket, not per byte, so a batch of k values costs about what one value does."
      : "In this run batching did not raise the rate that holds."
  }`;
}

/**
 * How the shards' CPU per publish compares with one object's, against the spread of one build
 * between phases (the profiled phase repeats the unsharded one).
 * @param {any} one
 * @param {any[]} sharded
 */
function shardsSpread(one, sharded) {
  if (one === undefined) return "";
  const base = one.cpu.runtimeMsPerPublish;
  const shares = sharded.map((p) => `${p.shards} shards ${Math.round((p.cpu.runtimeMsPerPublish / base) * 100)}%`);
  const extremes = sharded.map((p) => Math.abs(p.cpu.runtimeMsPerPublish / base - 1));
  const within = Math.max(...extremes) <= 0.2;
  return (
    `Runtime CPU per publish against one object's: ${shares.join(", ")}` +
    (within
      ? ", within the spread of one build between phases of a run (up to a fifth): the K RPCs per publish cost too little to see here.\n\n"
      : ".\n\n")
  );
}

/**
 * 1 vs K shards at the largest N, direct.
 * @param {any} r
 */
function shardsSection(r) {
  const sharded = r.phases.filter((/** @type {any} */ p) => p.role === "shards");
  if (sharded.length === 0) return '## Shards\n\nNot measured (`--shards ""`).';
  const n = sharded[0].n;
  const one = mainPhases(r).find((/** @type {any} */ p) => p.kind === "direct" && p.n === n);
  const phases = [...(one === undefined ? [] : [one]), ...sharded];
  const c = ceilingFor(r, sharded[0]);
  return `## Shards: 1 vs ${sharded.map((/** @type {any} */ p) => p.shards).join(" vs ")} at ${n} subscribers

The topic's owner and its K shard objects, direct, the subscribers spread over the shards by the
Worker (at random); each publish is stored by the owner and handed to every shard in one RPC each,
in parallel, and each shard sends it to its own sockets (ratios: × the ceiling at ${n}).

${table(
  [
    "shards",
    "fan-out p50 (ms)",
    "fan-out p99 (ms)",
    "first subscriber p50 (ms)",
    "POST round trip p50 (ms)",
    "runtime CPU / publish (ms)",
    "runtime KiB / socket",
    "delivered / expected",
  ],
  phases.map((p) => [
    p.shards,
    vr(p.fanoutMs.p50, c?.fanoutMs.p50, false),
    vr(p.fanoutMs.p99, c?.fanoutMs.p99, false),
    fmt(p.firstMs.p50),
    fmt(p.rttMs.p50),
    fmt(p.cpu.runtimeMsPerPublish),
    p.memory.runtimeKiBPerConn.afterPublishes,
    lossCell(p),
  ]),
)}

${shardsSpread(one, sharded)}What this can and cannot show: locally every object runs in the one user workerd, on one thread
for all of them (see "Where the runtime's CPU goes"), so K shards share the CPU that one object had
and the sends are the same work in the same place. What sharding adds could show here (K RPCs per
publish, one more hop before the first send), and what it buys cannot: in production each object
may run on its own thread and machine, so the sends of K shards run in parallel. The production
model is in README's "Sharding hot topics".`;
}

/** @param {any} r */
function summaryText(r) {
  const lines = [
    `fan-out: ${r.parameters.sizes.join(", ")} subscribers × ${r.parameters.publishes} publishes, ${r.machine.cores} cores, node ${r.machine.node}`,
  ];
  for (const p of [
    ...mainPhases(r),
    ...r.phases.filter((/** @type {any} */ x) => x.role === "before" || x.role === "shards" || x.role === "floor"),
  ]) {
    const c = ceilingFor(r, p);
    const x = (/** @type {number} */ v, /** @type {number | undefined} */ b) =>
      p.kind === "ceiling" || !b ? "" : ` (${ratio(v / b)})`;
    lines.push(
      `${String(p.n).padStart(5)} ${label(p).padEnd(26)} fan-out p50 ${p.fanoutMs.p50} ms${x(p.fanoutMs.p50, c?.fanoutMs.p50)}, p99 ${p.fanoutMs.p99}${x(p.fanoutMs.p99, c?.fanoutMs.p99)}; ` +
        `latency p99 ${p.latencyMs.p99}${x(p.latencyMs.p99, c?.latencyMs.p99)}; RSS/socket ${p.memory.runtimeKiBPerConn.afterPublishes} KiB; CPU/publish ${p.cpu.runtimeMsPerPublish} ms; ` +
        `delivered ${p.delivery.delivered}/${p.delivery.expected}`,
    );
  }
  if (r.sustained !== null)
    lines.push(`sustained (${r.sustained.subscribers} direct): highest rate held ${r.sustained.highestRateHeld ?? "none"}/s`);
  if (r.sustainedBatched)
    lines.push(
      `sustained, batch ${r.sustainedBatched.batchRate}/s (${r.sustainedBatched.subscribers} direct): highest rate held ${r.sustainedBatched.highestRateHeld ?? "none"}/s`,
    );
  if (r.sustainedBefore)
    lines.push(
      `sustained, before (${r.sustainedBefore.subscribers} direct): highest rate held ${r.sustainedBefore.highestRateHeld ?? "none"}/s`,
    );
  lines.push(
    r.ok
      ? "OK: nothing lost or duplicated"
      : `PROBLEM: lost ${r.totals.lost}, duplicated ${r.totals.duplicated} (see the phases in the JSON)`,
  );
  return lines.join("\n");
}

/**
 * The headline rows README.md shows between its bench:fanout markers.
 * @param {any} r
 */
function readmeSummary(r) {
  const main = mainPhases(r);
  const sizes = [...new Set(main.filter((/** @type {any} */ p) => p.kind === "direct").map((/** @type {any} */ p) => p.n))].sort(
    (a, b) => a - b,
  );
  const cell = (/** @type {string} */ kind, /** @type {(p: any) => number} */ get) =>
    sizes
      .map((n) => {
        const p = main.find((/** @type {any} */ x) => x.kind === kind && (x.requested ?? x.n) === n);
        if (p === undefined) return "–";
        const c = ceilingFor(r, p);
        const base = c === null ? null : get(c);
        return `${fmt(get(p))} ms${base ? ` (${ratio(get(p) / base)})` : ""}`;
      })
      .join(" / ");
  const largest = Math.max(...sizes);
  const after = main.find((/** @type {any} */ p) => p.kind === "direct" && p.n === largest);
  const before = r.phases.find((/** @type {any} */ p) => p.role === "before" && p.n === largest);
  const sharded = r.phases.filter((/** @type {any} */ p) => p.role === "shards");
  const proxyCapped = main.some((/** @type {any} */ p) => p.capped);
  const rows = [
    ["subscribers", `${sizes.join(" / ")}${proxyCapped ? ` (via the proxy at most ${r.parameters.proxyCap})` : ""}`],
    ["fan-out p50, direct (× ceiling)", cell("direct", (p) => p.fanoutMs.p50)],
    ["fan-out p99, direct (× ceiling)", cell("direct", (p) => p.fanoutMs.p99)],
    ["fan-out p50, via wrangler's proxy (× ceiling)", cell("proxy", (p) => p.fanoutMs.p50)],
    ["trigger → receive p99, direct (× ceiling)", cell("direct", (p) => p.latencyMs.p99)],
    [
      "lost, duplicated",
      `${r.totals.lost}, ${r.totals.duplicated}${r.sustained === null ? "" : ` (sustained probe: ${r.totals.sustainedLost}, ${r.totals.sustainedDuplicated})`}`,
    ],
  ];
  if (r.sustained !== null) {
    rows.push([
      `sustained, ${r.sustained.subscribers} direct: highest rate with fan-out p99 < ${HOLD_FANOUT_P99_MS} ms and no loss`,
      r.sustained.highestRateHeld === null ? "none tried held" : `${r.sustained.highestRateHeld} publishes/s`,
    ]);
  }
  const afterCeiling = after === undefined ? null : ceilingFor(r, after);
  if (after && afterCeiling) {
    const x = after.fanoutMs.p99 / afterCeiling.fanoutMs.p99;
    rows.push([
      `goal: fan-out p99 at ${largest} direct at most 1.5× the ceiling`,
      `${ratio(x)} (${fmt(after.fanoutMs.p99)} vs ${fmt(afterCeiling.fanoutMs.p99)} ms): ${x <= 1.5 ? "met" : "**not met**"}`,
    ]);
    rows.push([
      `runtime memory per socket, ${largest} direct`,
      `${after.memory.runtimeKiBPerConn.afterPublishes} KiB (the ceiling: ${afterCeiling.memory.runtimeKiBPerConn.afterPublishes} KiB)`,
    ]);
  }
  if (r.sustained !== null) {
    const held = r.sustained.highestRateHeld ?? 0;
    rows.push([
      `goal: at least 20 publishes/s to ${r.sustained.subscribers} with fan-out p99 < ${HOLD_FANOUT_P99_MS} ms, no loss`,
      `${heldText(r.sustained)} held: ${held >= 20 ? "met" : "**not met**"}`,
    ]);
  }
  if (before && after) {
    const c = ceilingFor(r, after);
    const x = (/** @type {number} */ v) => (c ? ` (${ratio(v / c.fanoutMs.p99)})` : "");
    rows.push([
      `hot path before → after (declining permessage-deflate), ${largest} direct`,
      `fan-out p99 ${fmt(before.fanoutMs.p99)}${x(before.fanoutMs.p99)} → ${fmt(after.fanoutMs.p99)} ms${x(after.fanoutMs.p99)}; ` +
        `runtime ${before.memory.runtimeKiBPerConn.afterPublishes} → ${after.memory.runtimeKiBPerConn.afterPublishes} KiB per socket` +
        (r.sustainedBefore && r.sustained ? `; sustained ${heldText(r.sustainedBefore)} → ${heldText(r.sustained)}` : ""),
    ]);
  }
  if (r.sustainedBatched && r.sustained) {
    rows.push([
      `sustained, ${r.sustained.subscribers} direct, with BATCH ${r.sustainedBatched.batchRate}/s (from the first rate failed without it)`,
      `${heldText(r.sustainedBatched)} (without: ${heldText(r.sustained)})`,
    ]);
  }
  const floor = r.phases.find((/** @type {any} */ p) => p.role === "floor" && p.n === largest);
  if (floor && after && afterCeiling) {
    rows.push([
      `fan-out p99 at ${largest} direct, a bare Durable Object broadcast (the floor) / edgebeat`,
      `${fmt(floor.fanoutMs.p99)} ms (${ratio(floor.fanoutMs.p99 / afterCeiling.fanoutMs.p99)}) / ${fmt(after.fanoutMs.p99)} ms (${ratio(after.fanoutMs.p99 / afterCeiling.fanoutMs.p99)})`,
    ]);
  }
  if (sharded.length > 0 && after) {
    rows.push([
      `fan-out p99 at ${largest} direct, 1 / ${sharded.map((/** @type {any} */ p) => p.shards).join(" / ")} shards (one local process)`,
      [after, ...sharded].map((/** @type {any} */ p) => `${fmt(p.fanoutMs.p99)} ms`).join(" / "),
    ]);
  }
  rows.push(["machine, date", `${r.machine.cores} cores, ${r.date.slice(0, 10)}, commit ${r.machine.commit}`]);
  return table(["fan-out (`npm run bench`)", "last run"], rows, ["l", "l"]);
}

run.main(main);
