/**
 * `pulse`: a sub-minute job. Every 10 s its topic's alarm runs it, and it reports how late that
 * alarm fired: a live measure of the platform's timer precision. Its minute cron is the watchdog.
 */
import type { PulseValue } from "../../client/protocol";
import { defineJob } from "../../edgebeat";

export const pulse = defineJob<PulseValue>({
  name: "pulse",
  topic: "pulse",
  schedule: "* * * * *",
  every: "10s",
  timeoutMs: 2_000,
  retry: { attempts: 2, baseMs: 250, maxMs: 1_000 },
  async compute({ scheduledTime }) {
    return { lagMs: Math.max(0, Date.now() - scheduledTime) };
  },
});
