/**
 * The benchmarks' direct edgebeat runtime: the project's Worker in workerd through Miniflare's
 * programmatic API, listening on a direct socket into the Worker itself (`unsafeDirectSockets`).
 *
 * `wrangler dev` (and Miniflare's default port) put Miniflare's entry worker in front of every
 * request, in the same workerd as the user's code. That worker has its own compatibility flags, so
 * it negotiates permessage-deflate with the client whatever wrangler.toml says, and it adds one more
 * WebSocket pipe per socket. In production the Worker is the front door: a direct socket is the
 * nearest local equivalent, and the only place `no_web_socket_compression` can be seen to work.
 *
 * Started with bench/lib/child.mjs's `startChild(…, { detached: true })`: argv is
 * `<project root> <persist dir> <vars as JSON> [{"keepObjects": true} as JSON]` (the root may also be a bench fixture's directory,
 * with its own wrangler.toml); it bundles the project the way `wrangler deploy`
 * does (`--dry-run --outdir`), reads wrangler.toml with wrangler's own
 * `unstable_getMiniflareWorkerOptions`, applies the D1 migrations, and answers
 * `{ ready: true, url, workerdPid }`. The bench stops it by killing its process group (workerd too).
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { convertV4MiniflareOptions, Miniflare } from "miniflare";
import { parse } from "smol-toml";
import { unstable_getMiniflareWorkerOptions, unstable_splitSqlQuery } from "wrangler";

const [root = ".", persistTo = "", varsJson = "{}", runtimeJson = "{}"] = process.argv.slice(2);
/** @type {{ keepObjects?: boolean }} */
const runtime = JSON.parse(runtimeJson);
process.on("disconnect", () => process.exit(0));

// The bundle goes into the state directory, which the bench removes with everything else of this runtime.
const outdir = path.join(persistTo, "bundle");
const config = parse(readFileSync(path.join(root, "wrangler.toml"), "utf8"));
const wrangler = fileURLToPath(new URL("../../node_modules/wrangler/bin/wrangler.js", import.meta.url));
const PATH = [path.dirname(process.execPath), process.env.PATH].filter(Boolean).join(path.delimiter);
execFileSync(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir], {
  cwd: root,
  stdio: ["ignore", "ignore", "inherit"],
  env: { ...process.env, PATH, CLOUDFLARE_CF_FETCH_ENABLED: "false" },
});

/** @type {Record<string, string>} */
const vars = JSON.parse(varsJson);
// wrangler reads the required `[secrets]` from the environment (or a .dev.vars the snapshot lacks).
Object.assign(process.env, vars);
const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(root, "wrangler.toml"));
// Every bench route is `run_worker_first`; without assets the direct socket reaches the Worker itself
// instead of the asset router worker in front of it.
const { assets: _assets, ...worker } = /** @type {Record<string, any>} */ (workerOptions);
// `keepObjects`: idle objects stay in memory, as in production for at least 70 s (workerd evicts
// them after 10 s), so a schedule every 10 s does not construct its topic's object anew each slot.
if (runtime.keepObjects === true) {
  for (const [binding, object] of Object.entries(worker.durableObjects ?? {})) {
    worker.durableObjects[binding] = {
      ...(typeof object === "string" ? { className: object } : object),
      unsafePreventEviction: true,
    };
  }
}
// The Worker's own name (wrangler.toml `name`): miniflare addresses the worker by it (unsafeGetDirectURL).
const name = String(config.name);
const bundle = path.join(outdir, path.basename(String(config.main)).replace(/\.[cm]?[jt]s$/, ".js"));
const mf = new Miniflare(
  convertV4MiniflareOptions({
    resourcePersistencePath: persistTo,
    logRequests: false,
    workers: [
      {
        ...worker,
        name,
        modulesRoot: outdir,
        modules: [{ type: "ESModule", path: bundle }],
        bindings: { ...worker.bindings, ...vars },
        unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
      },
    ],
  }),
);
await mf.ready;
const url = (await mf.unsafeGetDirectURL(name)).origin;

const migrations = path.join(root, "migrations");
const db = existsSync(migrations) ? await mf.getD1Database("DB") : null;
for (const file of db === null
  ? []
  : readdirSync(migrations)
      .filter((name) => name.endsWith(".sql"))
      .sort()) {
  const statements = unstable_splitSqlQuery(readFileSync(path.join(migrations, file), "utf8"));
  await db?.batch(statements.map((sql) => db.prepare(sql)));
}

const children = execFileSync("ps", ["-o", "pid=,comm=", "--ppid", String(process.pid)], { encoding: "utf8" });
const workerdPid = Number(/^\s*(\d+)\s+workerd/m.exec(children)?.[1]);
process.send?.({ ready: true, url, workerdPid });
