/** Per-file `wrangler dev` for end-to-end tests: a free port, a fresh state directory, the uptime job probing itself. */
import { readFileSync } from "node:fs";
import { parse } from "smol-toml";
import { afterAll, afterEach, beforeAll } from "vitest";
import { freePort } from "../../scripts/lib/ports.mjs";
import { makeStateDir as makeTempDir, removeDir } from "../../scripts/lib/state-dir.mjs";
import { type DevServer, startDevServer } from "../../scripts/lib/wrangler-dev.mjs";
import { type E2eSocket, openSocket } from "./socket";

/** The secrets every end-to-end server gets (never the developer's .dev.vars). */
export const E2E_SECRETS = {
  PUBLISH_TOKEN: "e2e-publish-token",
  SUBSCRIBE_SECRET: "e2e-subscribe-secret-of-32-bytes!!",
  ADMIN_TOKEN: "e2e-admin-token",
};

/** wrangler.toml's `[vars]` value of `name` ("" when unset). */
export function configuredVar(name: string): string {
  const config = parse(readFileSync(new URL("../../wrangler.toml", import.meta.url), "utf8")) as {
    vars?: Record<string, unknown>;
  };
  return String(config.vars?.[name] ?? "");
}

/** wrangler.toml's TOPICS and `count` more (`extra-0` …): more posted topics than a browser opens connections per origin over HTTP/1.1. */
export function moreTopics(count: number): { TOPICS: string } {
  return {
    TOPICS: [configuredVar("TOPICS"), ...Array.from({ length: count }, (_, i) => `extra-${i}`)].filter(Boolean).join(","),
  };
}

/** A new empty directory for `--persist-to`. */
export async function makeStateDir(): Promise<string> {
  return makeTempDir("edgebeat-e2e-");
}

/** Removes a state directory and all in it (nothing when it is undefined). */
export async function removeStateDir(dir: string | undefined): Promise<void> {
  removeDir(dir);
}

/** The tail of wrangler's output from the servers this test file started. */
let output = "";

/**
 * Starts `wrangler dev` persisting to `persistTo`, with PROBE_URLS and FEED_URL set to its own
 * /health: on a free port, or on `port` (to restart a server where its clients will look for it).
 */
export async function startServer(
  persistTo: string,
  vars: Record<string, string> = {},
  options: { port?: number } = {},
): Promise<DevServer> {
  const port = options.port ?? (await freePort());
  const log = (text: string) => {
    output = (output + text).slice(-10_000);
  };
  const own = `http://127.0.0.1:${port}/health`;
  return startDevServer({ port, persistTo, vars: { PROBE_URLS: own, FEED_URL: own, ...vars }, secrets: E2E_SECRETS, log });
}

/** After a failed test, prints wrangler's recent output: reloads, job runs and errors explain most failures. */
export function printServerOutputOnFailure(): void {
  afterEach((context) => {
    if (context.task.result?.state === "fail") console.error(`wrangler dev output (tail):\n${output}`);
  });
}

/** GETs `path` and returns the status with the parsed JSON body. */
export async function getJson(server: DevServer, path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}${path}`, { signal: AbortSignal.timeout(5_000) });
  return { status: response.status, body: await response.json() };
}

/**
 * One dev server for a whole test file, on fresh state, started before its tests and always
 * stopped after them, with its sockets closed and its state removed. `vars` may be computed in
 * a beforeAll of the file's own that runs first (say, a feed's port).
 */
export function setUpServer(vars: () => Record<string, string> = () => ({})) {
  let server: DevServer | undefined;
  let stateDir: string | undefined;
  const sockets: E2eSocket[] = [];
  printServerOutputOnFailure();
  beforeAll(async () => {
    stateDir = await makeStateDir();
    server = await startServer(stateDir, vars());
  });
  afterAll(async () => {
    for (const socket of sockets) socket.ws.close();
    await server?.stop();
    await removeStateDir(stateDir);
  });
  const current = (): DevServer => {
    if (server === undefined) throw new Error("the dev server is not running");
    return server;
  };
  return {
    get server(): DevServer {
      return current();
    },
    /** Opens a socket on the file's server; it is closed after the file's tests. */
    async subscribe(path: string): Promise<E2eSocket> {
      const socket = await openSocket(current().url, path);
      sockets.push(socket);
      return socket;
    },
  };
}
