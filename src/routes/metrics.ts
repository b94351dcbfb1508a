/** `GET /metrics`: Prometheus text exposition (version 0.0.4) of every topic and job, read from the topic objects. */
import { Hono } from "hono";
import type { RunStatus, TopicInfo } from "../client/protocol";
import { declaredTopics } from "../config";
import type { AppEnv } from "./env";
import { scheduleTopics } from "./validate";

type Sample = [labels: Record<string, string>, value: number];

interface Family {
  name: string;
  help: string;
  type: "gauge" | "counter" | "summary";
  samples: { suffix?: string; sample: Sample }[];
}

const RUN_STATUSES: readonly RunStatus[] = ["ok", "failed", "duplicate", "skipped", "rested"];

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** Renders metric families in the text format: HELP, TYPE, then one line per sample. */
export function exposition(families: readonly Family[]): string {
  const lines: string[] = [];
  for (const family of families) {
    lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
    for (const { suffix = "", sample } of family.samples) {
      const [labels, value] = sample;
      const rendered = Object.entries(labels).map(([key, text]) => `${key}="${escapeLabel(text)}"`);
      lines.push(`${family.name}${suffix}${rendered.length > 0 ? `{${rendered.join(",")}}` : ""} ${value}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

/** A job series' labels: its job, and for a runtime schedule's topic the schedule's id. */
function jobLabels(info: TopicInfo): Record<string, string> {
  return info.scheduleId === undefined ? { job: info.job as string } : { job: info.job as string, schedule: info.scheduleId };
}

export const metrics = new Hono<AppEnv>();

metrics.get("/", async (c) => {
  // Runtime schedules' topics too: their job series carry a `schedule` label beside `job`.
  const topics = [...declaredTopics(c.get("jobs"), c.env), ...(await scheduleTopics(c.env))];
  const rows = await Promise.all(topics.map(async (info) => ({ info, m: await c.env.TOPIC.getByName(info.topic).metrics() })));
  const perTopic = (pick: (row: (typeof rows)[number]) => number) =>
    rows.map((row) => ({ sample: [{ topic: row.info.topic }, pick(row)] as Sample }));
  const jobRows = rows.filter((row) => row.info.job !== null);
  const perJob = (pick: (row: (typeof rows)[number]) => number, suffix?: string) =>
    jobRows.map((row) => ({ suffix, sample: [jobLabels(row.info), pick(row)] as Sample }));
  const families: Family[] = [
    {
      name: "edgebeat_topic_subscribers",
      help: "Open subscribers of the topic: WebSockets, streams and waiting long-polls.",
      type: "gauge",
      samples: perTopic((r) => r.m.subscribers),
    },
    {
      name: "edgebeat_topic_messages_published_total",
      help: "Metrics published to the topic.",
      type: "counter",
      samples: perTopic((r) => r.m.counters.published),
    },
    {
      name: "edgebeat_topic_duplicates_suppressed_total",
      help: "Publishes dropped because their runId or id was seen before.",
      type: "counter",
      samples: perTopic((r) => r.m.counters.duplicates),
    },
    {
      name: "edgebeat_topic_last_update_timestamp_seconds",
      help: "When the topic last published (0 if never).",
      type: "gauge",
      samples: perTopic((r) => (r.m.updatedAt ?? 0) / 1000),
    },
    {
      name: "edgebeat_job_runs_total",
      help: "Job runs by outcome.",
      type: "counter",
      samples: jobRows.flatMap((row) =>
        RUN_STATUSES.map((status) => ({
          sample: [{ ...jobLabels(row.info), status }, row.m.counters[`runs_${status}`]] as Sample,
        })),
      ),
    },
    {
      name: "edgebeat_job_run_duration_seconds",
      help: "Time from the start of a run to its publish or final failure.",
      type: "summary",
      samples: [
        ...perJob((r) => r.m.counters.run_duration_ms_sum / 1000, "_sum"),
        ...perJob((r) => r.m.counters.runs_ok + r.m.counters.runs_failed, "_count"),
      ],
    },
    {
      name: "edgebeat_job_cron_lag_seconds",
      help: "How late the last run started after its scheduled time.",
      type: "gauge",
      samples: perJob((r) => (r.m.lastRun?.lagMs ?? 0) / 1000),
    },
    {
      name: "edgebeat_job_stale",
      help: "1 if the job's topic is stale (no run by its deadline).",
      type: "gauge",
      samples: perJob((r) => Number(r.m.status === "stale")),
    },
    {
      name: "edgebeat_job_failing",
      help: "1 if the job's last run failed.",
      type: "gauge",
      samples: perJob((r) => Number(r.m.status === "failing")),
    },
  ];
  return c.text(exposition(families), 200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
});
