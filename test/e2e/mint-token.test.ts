/**
 * `npm run token`: prints only the token on stdout, and warns on stderr about a topic that is not
 * declared (asking a server's GET /topics, or, with none answering, TOPICS and PRIVATE_TOPICS).
 */
import { execFile } from "node:child_process";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../scripts/lib/ports.mjs";

const SCRIPT = fileURLToPath(new URL("../../scripts/mint-token.mjs", import.meta.url));
const SECRET = "mint-token-test-secret-of-32-bytes!";
const TOPICS = [
  { topic: "system", job: "system", schedule: "* * * * *", private: false },
  { topic: "ops", job: null, schedule: null, private: true },
];

/** Runs the script with `args` and this test's secret; resolves with its exit code, stdout and stderr. */
async function mint(args: string[]) {
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [SCRIPT, ...args], {
    env: { ...process.env, SUBSCRIBE_SECRET: SECRET },
    timeout: 10_000,
  });
  return { stdout, stderr };
}

async function topicsOf(stdout: string) {
  const { payload } = await jwtVerify(stdout.trim(), new TextEncoder().encode(SECRET));
  return payload.topics;
}

describe("scripts/mint-token.mjs", () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((request, response) => {
      response.writeHead(request.url === "/topics" ? 200 : 404, { "content-type": "application/json" });
      response.end(JSON.stringify(request.url === "/topics" ? { topics: TOPICS } : {}));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("prints the token alone, with no warning, for a declared private topic", async () => {
    const { stdout, stderr } = await mint(["--topic", "ops", "--server", url]);
    expect(stderr).toBe("");
    expect(stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    expect(await topicsOf(stdout)).toEqual(["ops"]);
  });

  it("warns about a topic the server does not declare, and one that is public", async () => {
    const { stdout, stderr } = await mint(["--topic", "opps", "--topic", "system", "--server", url]);
    expect(stderr).toBe(
      `warning: "opps" is not a declared topic of ${url} (GET /topics lists system, ops): it refuses it, token or not\n` +
        `warning: "system" is public on ${url}: its subscribers need no token\n`,
    );
    expect(await topicsOf(stdout)).toEqual(["opps", "system"]);
  });

  it("without a server, checks TOPICS and PRIVATE_TOPICS of wrangler.toml and says what it could not check", async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const { stdout, stderr } = await mint(["--topic", "ops", "--topic", "opps", "--server", closed]);
    expect(stderr).toBe(
      `warning: "opps" is in neither TOPICS nor PRIVATE_TOPICS, and no server answered at ${closed}/topics to list the jobs' topics: unless it is a job's topic, the server refuses it (--server URL asks another)\n`,
    );
    expect(await topicsOf(stdout)).toEqual(["ops", "opps"]);
  });
});
