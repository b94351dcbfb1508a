#!/usr/bin/env node
/**
 * `npm run -s token -- --topic ops [--topic other] [--ttl 3600] [--server URL]`: prints a subscribe
 * token (HS256 JWT with `topics` and `exp`) signed with SUBSCRIBE_SECRET from the environment or
 * .dev.vars. It warns on stderr about a topic that is not declared, which the server refuses
 * whatever the token: the jobs' topics live in the TypeScript registry, which plain Node cannot
 * load, so it asks a running server's GET /topics; with none answering, it checks TOPICS and
 * PRIVATE_TOPICS of wrangler.toml (or .dev.vars) only, and says so.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { parse } from "smol-toml";
import { readDevVars } from "./lib/secrets.mjs";

const USAGE = "usage: npm run -s token -- --topic NAME [--topic NAME …] [--ttl SECONDS] [--server URL]";
const DEFAULT_SERVER = "http://127.0.0.1:8787";

const { values } = parseArgs({
  options: {
    topic: { type: "string", multiple: true },
    ttl: { type: "string", default: "3600" },
    server: { type: "string", default: DEFAULT_SERVER },
    help: { type: "boolean" },
  },
});
if (values.help || !values.topic?.length) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
const devVars = readDevVars();
const secret = process.env.SUBSCRIBE_SECRET ?? devVars.SUBSCRIBE_SECRET;
if (!secret) {
  console.error("No SUBSCRIBE_SECRET in the environment or .dev.vars: run `npm run secrets` first.");
  process.exit(1);
}
const ttl = Number(values.ttl);
if (!Number.isSafeInteger(ttl) || ttl < 1) {
  console.error(`--ttl must be a whole number of seconds, got "${values.ttl}"`);
  process.exit(2);
}
for (const warning of await topicWarnings(values.topic, values.server.replace(/\/+$/, ""))) console.error(`warning: ${warning}`);
const token = await new SignJWT({ topics: values.topic })
  .setProtectedHeader({ alg: "HS256" })
  .setIssuedAt()
  .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
  .sign(new TextEncoder().encode(secret));
console.log(token);

/**
 * What is wrong with minting a token for `topics`: undeclared ones, and public ones (which need none).
 * @param {string[]} topics
 * @param {string} server
 * @returns {Promise<string[]>}
 */
async function topicWarnings(topics, server) {
  const declared = await serverTopics(server);
  if (declared !== null) {
    const names = declared.map(({ topic }) => topic);
    return topics.flatMap((topic) => {
      const found = declared.find((candidate) => candidate.topic === topic);
      if (found === undefined) {
        return [
          `"${topic}" is not a declared topic of ${server} (GET /topics lists ${names.join(", ")}): it refuses it, token or not`,
        ];
      }
      return found.private ? [] : [`"${topic}" is public on ${server}: its subscribers need no token`];
    });
  }
  const vars = wranglerVars();
  const listed = (/** @type {string} */ name) => (devVars[name] ?? vars[name] ?? "").split(",").map((entry) => entry.trim());
  const known = new Set([...listed("TOPICS"), ...listed("PRIVATE_TOPICS")]);
  return topics
    .filter((topic) => !known.has(topic))
    .map(
      (topic) =>
        `"${topic}" is in neither TOPICS nor PRIVATE_TOPICS, and no server answered at ${server}/topics to list the jobs' topics: unless it is a job's topic, the server refuses it (--server URL asks another)`,
    );
}

/**
 * The declared topics of a running server, or null if none answers within a second.
 * @param {string} server
 * @returns {Promise<{ topic: string, private: boolean }[] | null>}
 */
async function serverTopics(server) {
  try {
    const response = await fetch(`${server}/topics`, { signal: AbortSignal.timeout(1_000) });
    if (!response.ok) return null;
    const { topics } = /** @type {{ topics: { topic: string, private: boolean }[] }} */ (await response.json());
    return Array.isArray(topics) ? topics : null;
  } catch {
    return null;
  }
}

/** @returns {Record<string, string | undefined>} wrangler.toml [vars] */
function wranglerVars() {
  const config = parse(readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8"));
  return /** @type {Record<string, string | undefined>} */ (config.vars ?? {});
}
