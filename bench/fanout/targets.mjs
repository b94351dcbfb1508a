/**
 * What a phase measures and what it measures with, each started fresh: the ceiling (a plain `ws`
 * broadcaster), edgebeat direct (Miniflare on a direct socket), edgebeat through `wrangler dev`'s
 * public port, the bare Durable Object broadcast, and the load generator.
 */
import { fileURLToPath } from "node:url";
import { startChild } from "../lib/child.mjs";
import { monoMs } from "../lib/procs.mjs";
import { BENCH_SECRETS, makeStateDir, removeDir, startServer, workerdProcesses } from "../lib/server.mjs";
import { TOPIC } from "./options.mjs";

/** A Durable Object that does nothing but broadcast: what the runtime costs per socket by itself. */
const BARE_FIXTURE = fileURLToPath(new URL("../fixtures/bare-broadcast", import.meta.url));

/**
 * @typedef {object} Target
 * @property {"ceiling" | "direct" | "proxy"} kind
 * @property {string} base http://127.0.0.1:<port>
 * @property {number} runtimePid the process that serves the sockets (user workerd, or the ceiling)
 * @property {number | null} proxyPid wrangler's proxy workerd (edgebeat only)
 * @property {number | null} startMs
 * @property {() => Promise<void>} stop
 */

/**
 * @typedef {object} EdgebeatOptions
 * @property {boolean} [before] --before's build instead of the one measured
 * @property {number} [shards] the topic's shard count
 * @property {number} [batchRate] its BATCH rate (0: none)
 * @property {boolean} [bare] not edgebeat but bench/fixtures/bare-broadcast (the floor)
 * @property {Record<string, string>} [vars] more vars (e.g. the SSE phase's MAX_STREAMS)
 */

/**
 * Starters that register what they start in `running` (so cleanup can stop it) until it stops.
 * @param {object} context
 * @param {any} context.project the snapshot measured (lib/server.mjs)
 * @param {any} context.beforeProject --before's snapshot, or null
 * @param {string} context.logFile wrangler's output
 * @param {number} context.deadlineMs each child exits on its own by then
 * @param {(message: any) => void} context.onEvent the load generator's events
 * @param {Set<{ stop: () => Promise<void> }>} context.running
 */
export function targets({ project, beforeProject, logFile, deadlineMs, onEvent, running }) {
  /** @param {() => Promise<void>} stopIt */
  const tracked = (stopIt) => {
    const handle = {
      stop: async () => {
        running.delete(handle);
        await stopIt();
      },
    };
    running.add(handle);
    return handle.stop;
  };

  /** @param {string} [script] the load generator (the SSE phase's: ../fanout/sse-loadgen.mjs) */
  const startLoadgen = async (script = "loadgen.mjs") => {
    const child = await startChild(script, [String(deadlineMs)], { onEvent });
    return { ...child, stop: tracked(() => child.stop()) };
  };

  /** @param {boolean} deflate @returns {Promise<Target>} */
  const startCeiling = async (deflate) => {
    const started = monoMs();
    const child = await startChild("ceiling.mjs", [BENCH_SECRETS.PUBLISH_TOKEN, String(deadlineMs)]);
    const stop = tracked(() => child.stop());
    const port = child.hello.ports[deflate ? "deflate" : "plain"];
    const startMs = Math.round(monoMs() - started);
    return { kind: "ceiling", base: `http://127.0.0.1:${port}`, runtimePid: child.pid, proxyPid: null, startMs, stop };
  };

  /** @param {EdgebeatOptions} options @returns {Promise<Target>} */
  const startDirect = async ({ before = false, shards = 1, batchRate = 0, bare = false, vars: more = {} }) => {
    const started = monoMs();
    const stateDir = makeStateDir();
    const vars = {
      ...BENCH_SECRETS,
      SHARDS: shards > 1 ? `${TOPIC}:${shards}` : "",
      BATCH: batchRate > 0 ? `${TOPIC}:${batchRate}` : "",
      ...more,
    };
    const root = bare ? BARE_FIXTURE : (before ? beforeProject : project)?.root;
    if (root === undefined) throw new Error("no --before build to start: pass --before REF");
    const child = await startChild("runtime.mjs", [root, stateDir, JSON.stringify(vars)], {
      detached: true,
      readyTimeoutMs: 120_000,
    });
    const stop = tracked(async () => {
      await child.stop();
      removeDir(stateDir);
    });
    const { url, workerdPid } = child.hello;
    return { kind: "direct", base: url, runtimePid: workerdPid, proxyPid: null, startMs: Math.round(monoMs() - started), stop };
  };

  /** @returns {Promise<Target>} */
  const startProxied = async () => {
    const started = monoMs();
    const stateDir = makeStateDir();
    const port = await project.devServer.freePort();
    const server = await startServer(project.devServer, { port, stateDir, logFile });
    const stop = tracked(async () => {
      await server.stop();
      removeDir(stateDir);
    });
    const procs = workerdProcesses(server.pid, port);
    const user = procs.find((p) => p.role === "user");
    const proxy = procs.find((p) => p.role === "proxy");
    if (user === undefined || proxy === undefined) throw new Error(`expected two workerd processes in group ${server.pid}`);
    const startMs = Math.round(monoMs() - started);
    return { kind: "proxy", base: server.url, runtimePid: user.pid, proxyPid: proxy.pid, startMs, stop };
  };

  /**
   * @param {"direct" | "proxy"} kind
   * @param {EdgebeatOptions} [options] only for "direct"
   */
  const startEdgebeat = (kind, options = {}) => (kind === "direct" ? startDirect(options) : startProxied());

  return { startLoadgen, startCeiling, startEdgebeat };
}

/** @typedef {ReturnType<typeof targets>} Targets */
