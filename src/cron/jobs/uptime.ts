/**
 * `uptime`: probes URLs. Its static schedule probes each URL in `PROBE_URLS`; a runtime schedule
 * (`PUT /schedules/:id` with `{"job": "uptime", "params": {"url": …}}`) probes its one URL, so each
 * customer's site gets its own schedule and topic. A refused or timed-out probe is a result, not a failure.
 */
import { z } from "zod";
import type { ProbeResult, UptimeValue } from "../../client/protocol";
import { listVar } from "../../config";
import { defineJob } from "../../edgebeat";

/** One probe may take this long before it counts as down. */
export const PROBE_TIMEOUT_MS = 5_000;

async function probe(url: string, signal: AbortSignal): Promise<ProbeResult> {
  const started = Date.now();
  try {
    const response = await fetch(url, {
      method: "GET",
      redirect: "manual",
      signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]),
    });
    // Only the status matters; release the body so the connection is not held open.
    await response.body?.cancel();
    return { url, ok: response.ok, status: response.status, latencyMs: Date.now() - started, error: null };
  } catch (error) {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { url, ok: false, status: null, latencyMs: Date.now() - started, error: reason };
  }
}

/** A runtime schedule's params: the one http(s) URL it probes. */
const probeParams = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }).max(2048, "must be at most 2048 characters"),
});

export const uptime = defineJob<UptimeValue, Env, z.output<typeof probeParams>>({
  name: "uptime",
  topic: "uptime",
  schedule: "*/5 * * * *",
  params: probeParams,
  timeoutMs: PROBE_TIMEOUT_MS + 2_000,
  async compute({ env, signal, params }) {
    const urls = params === null ? listVar(env.PROBE_URLS) : [params.url];
    return { probes: await Promise.all(urls.map((url) => probe(url, signal))) };
  },
});
