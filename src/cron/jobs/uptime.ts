/** `uptime`: probes each URL in `PROBE_URLS`. A refused or timed-out probe is a result, not a failure. */
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

export const uptime = defineJob<UptimeValue, Env>({
  name: "uptime",
  topic: "uptime",
  schedule: "*/5 * * * *",
  timeoutMs: PROBE_TIMEOUT_MS + 2_000,
  async compute({ env, signal }) {
    return { probes: await Promise.all(listVar(env.PROBE_URLS).map((url) => probe(url, signal))) };
  },
});
