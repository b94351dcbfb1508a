/**
 * A real `wrangler dev` for `npm start`, the end-to-end tests and the benchmarks: on a known port
 * of 127.0.0.1, its D1 migrations applied first, resolved once `GET /health` answers 200. It runs
 * in a watched process group (process-group.mjs): `stop()` kills all of it, since killing wrangler's
 * node alone leaves both workerd processes serving, and it dies with the process that started it.
 */
import path from "node:path";
import { freePort } from "./ports.mjs";
import { writeSecretsFile } from "./secrets.mjs";
import { isServing, waitFor } from "./wait.mjs";
import { applyD1Migrations, startWrangler } from "./wrangler.mjs";

const READY_TIMEOUT_MS = 60_000;

/**
 * @typedef {object} DevServerOptions
 * @property {string} [root] The project to serve: the directory holding its wrangler.toml; this repo when omitted.
 * @property {number} [port] Port to listen on (127.0.0.1); a free one when omitted.
 * @property {string} [persistTo] `--persist-to` directory; the repo's `.wrangler/state` when omitted.
 * @property {Record<string, string>} [vars] Passed as `--var NAME:VALUE`, overriding wrangler.toml `[vars]`.
 * @property {Record<string, string>} [secrets] Secrets such as PUBLISH_TOKEN, given to wrangler in an env file instead of .dev.vars.
 * @property {string[]} [extraArgs] More `wrangler dev` arguments.
 * @property {(text: string, stream: "stdout" | "stderr") => void} [log] Receives wrangler's output as it arrives.
 */

/**
 * @typedef {object} DevServer
 * @property {string} url Base URL without a trailing slash, e.g. `http://127.0.0.1:8787`.
 * @property {number} port
 * @property {number} pid The process group id (its leader is the group's watchdog).
 * @property {Promise<number | null>} exited Resolves with wrangler's exit code once it exits, for any reason.
 * @property {() => Promise<void>} stop SIGKILLs the process group; resolves once none of it is left.
 */

/**
 * Applies the D1 migrations, then starts `wrangler dev` and resolves once it serves `/health`; on
 * a timeout or an early exit it kills the group and rejects with the tail of wrangler's output.
 * @param {DevServerOptions} [options]
 * @returns {Promise<DevServer>}
 */
export async function startDevServer({ root, port, persistTo, vars = {}, secrets, extraArgs = [], log } = {}) {
  const listenPort = port ?? (await freePort());
  const url = `http://127.0.0.1:${listenPort}`;
  // wrangler runs in the project root; a relative directory means one relative to the caller's cwd.
  const persistArgs = persistTo === undefined ? [] : ["--persist-to", path.resolve(persistTo)];
  await applyD1Migrations(persistArgs, { root, log });
  const args = ["dev", "--port", String(listenPort), "--ip", "127.0.0.1", ...persistArgs];
  for (const [name, value] of Object.entries(vars)) args.push("--var", `${name}:${value}`);
  const secretsFile = secrets === undefined ? null : writeSecretsFile(secrets);
  if (secretsFile !== null) args.push("--env-file", secretsFile.file);
  args.push(...extraArgs);

  // With [secrets] required, wrangler reads the environment too, and a variable there beats the env
  // file: a PUBLISH_TOKEN exported in the caller's shell would replace the one this server was given.
  const group = startWrangler(args, { root, log, unsetEnv: secrets === undefined ? [] : Object.keys(secrets) });
  let hasExited = false;
  group.exited.then(() => {
    hasExited = true;
  });
  const stop = async () => {
    secretsFile?.remove();
    await group.stop();
  };
  const server = { url, port: listenPort, pid: group.pid, exited: group.exited, stop };
  try {
    await waitFor(
      () => `${url}/health to answer 200:\n${group.output()}`,
      async () => {
        if (hasExited) throw new Error(`wrangler dev exited before ${url}/health answered 200:\n${group.output()}`);
        return isServing(`${url}/health`);
      },
      READY_TIMEOUT_MS,
      200,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return server;
}

/**
 * Fires a Cron Trigger on a dev server the way the platform would: `time` becomes
 * `controller.scheduledTime` (epoch ms).
 * @param {string} url The server's base URL.
 * @param {string} cron
 * @param {number} scheduledTime
 * @returns {Promise<{ status: number, body: string }>}
 */
export async function fireCron(url, cron, scheduledTime) {
  const endpoint = `${url}/cdn-cgi/local/scheduled?cron=${encodeURIComponent(cron)}&time=${scheduledTime}`;
  const response = await fetch(endpoint, { signal: AbortSignal.timeout(30_000) });
  return { status: response.status, body: await response.text() };
}
