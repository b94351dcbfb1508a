/**
 * How local tooling runs the wrangler CLI: in a project's root (this repo's unless told otherwise),
 * with that project's own wrangler, on this process's Node, in a watched process group of its own
 * (process-group.mjs). Also the one wrangler command a dev server needs before it starts: the D1
 * migrations, which `wrangler dev` does not apply.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "smol-toml";
import { startGroup } from "./process-group.mjs";

/** This repo's root, the default project: the directory holding its wrangler.toml. */
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const WRANGLER = "node_modules/wrangler/bin/wrangler.js";
const MIGRATE_TIMEOUT_MS = 60_000;

/** @typedef {(text: string, stream: "stdout" | "stderr") => void} Log */

/**
 * wrangler's environment: ours, without the `Request.cf` fetch (it needs the internet), and with
 * this process's Node first on PATH, so that wrangler.toml `[build] command = "node …"` runs on the
 * project's Node 22 even when the caller was started without npm (whose PATH already has it).
 */
function wranglerEnv(unset = /** @type {readonly string[]} */ ([])) {
  const PATH = [path.dirname(process.execPath), process.env.PATH].filter(Boolean).join(path.delimiter);
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, PATH, CLOUDFLARE_CF_FETCH_ENABLED: "false" };
  for (const name of unset) delete env[name];
  return env;
}

/**
 * Starts `wrangler ARGS…` in project `root` and in a process group of its own, with its output
 * going to `log`. The project's own wrangler runs if it has one installed, else this repo's.
 * `unsetEnv` names variables of ours that wrangler must not see (see startDevServer's secrets).
 * @param {string[]} args
 * @param {{ root?: string, log?: Log, unsetEnv?: readonly string[] }} [options]
 */
export function startWrangler(args, { root = ROOT, log, unsetEnv } = {}) {
  const own = path.join(root, WRANGLER);
  const wrangler = existsSync(own) ? own : path.join(ROOT, WRANGLER);
  return startGroup(process.execPath, [wrangler, ...args], { cwd: root, env: wranglerEnv(unsetEnv), log });
}

/**
 * Applies the migrations of every `[[d1_databases]]` in project `root`'s wrangler.toml to the
 * local state that `persistArgs` (`[]` or `["--persist-to", DIR]`) names; a no-op when they are
 * applied already.
 * @param {string[]} persistArgs
 * @param {{ root?: string, log?: Log }} [options]
 */
export async function applyD1Migrations(persistArgs, { root = ROOT, log } = {}) {
  const config = parse(readFileSync(path.join(root, "wrangler.toml"), "utf8"));
  const databases = /** @type {{ binding?: unknown, migrations_dir?: unknown }[]} */ (
    Array.isArray(config.d1_databases) ? config.d1_databases : []
  );
  for (const { binding, migrations_dir: dir = "migrations" } of databases) {
    if (typeof binding !== "string" || typeof dir !== "string" || !existsSync(path.join(root, dir))) continue;
    const migrate = startWrangler(["d1", "migrations", "apply", binding, "--local", ...persistArgs], { root, log });
    const timer = setTimeout(() => void migrate.stop(), MIGRATE_TIMEOUT_MS);
    const code = await migrate.exited;
    clearTimeout(timer);
    await migrate.stop(); // Anything it left running goes with it.
    if (code !== 0) {
      throw new Error(`wrangler d1 migrations apply ${binding} --local failed (exit ${code}):\n${migrate.output()}`);
    }
  }
}
