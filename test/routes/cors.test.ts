/** CORS on the read endpoints: the origins ALLOWED_ORIGINS admits (here https://dash.example) can read, refusals included. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { JOBS } from "../../src/cron/jobs";
import { fetchWorker } from "../helpers/socket";

const ALLOWED = "https://dash.example";
const topic = JOBS[0]?.topic ?? "";

describe("CORS", () => {
  it("lets an allowed origin read /topics, a snapshot, its history and /jobs", async () => {
    expect(env.ALLOWED_ORIGINS).toBe(ALLOWED);
    for (const path of ["/topics", `/topics/${topic}`, `/topics/${topic}/history`, "/jobs", "/health"]) {
      const response = await fetchWorker(path, { headers: { Origin: ALLOWED } });
      expect(response.status, path).toBe(200);
      expect(response.headers.get("Access-Control-Allow-Origin"), path).toBe(ALLOWED);
      await response.body?.cancel();
    }
  });

  it("gives an allowed origin the refusals too, so a client can tell them from an outage", async () => {
    const response = await fetchWorker("/topics/not-declared", { headers: { Origin: ALLOWED } });
    expect(response.status).toBe(404);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe(ALLOWED);
    expect(await response.json()).toEqual({ error: { code: "unknown_topic", message: 'No topic "not-declared" is declared.' } });
  });

  it("answers a preflight for reads, and tells another origin nothing", async () => {
    const preflight = await fetchWorker("/topics", {
      method: "OPTIONS",
      headers: { Origin: ALLOWED, "Access-Control-Request-Method": "GET" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toBe("GET,HEAD");
    const other = await fetchWorker("/topics", { headers: { Origin: "https://elsewhere.example" } });
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
    await other.body?.cancel();
  });
});
