/**
 * The dashboard at `/`: one card per public topic, each fed by its own `subscribe()` (reconnect
 * and resume included; off WebSockets, every topic shares one stream, so no topic waits for one of
 * the 6 connections per origin of HTTP/1.1); runtime schedules' topics grouped apart, folded when there are many;
 * "Recent runs" from `GET /jobs`, and "Schedules" from `GET /schedules` (with the admin token).
 * Subscriber counts come from the `system` topic's value, so nothing polls the topics.
 * docs/dashboard.md says what each part shows.
 */
import type { SystemValue } from "../protocol";
import { type ConnectionState, subscribe, type TransportName } from "../subscribe";
import { getHistory, getJobs, getTopics, type TopicInfo } from "./api";
import { h, setText } from "./dom";
import { HEALTH_ORDER, PageHeader } from "./header";
import { JobsTable } from "./jobs-table";
import { NextRuns } from "./next-runs";
import { SchedulesTable } from "./schedules-table";
import { everySecond } from "./ticker";
import { TopicCard } from "./topic-card";
import { isSystemValue } from "./values";

/** "Recent runs" is read again this long after a job's expected run (when its ledger has news), and at least every JOBS_REFRESH_MS. */
const JOBS_AFTER_RUN_MS = 2_000;
const JOBS_REFRESH_MS = 15_000;
/** After a status frame: long enough that the frames of several topics joining at once make one read. */
const STATUS_NEWS_MS = 500;
const TOPICS_RETRY_MS = 5_000;
/** Up to this many schedule topics are shown unfolded; more start folded behind their health counts. */
const SCHEDULE_TOPICS_OPEN = 6;

/** What the page saw, for tests: every seq delivered per topic, in order, each topic's connection state and transport. */
interface EdgebeatRecord {
  metrics: Record<string, number[]>;
  states: Record<string, ConnectionState>;
  transports: Record<string, TransportName>;
}

declare global {
  interface Window {
    __edgebeat: EdgebeatRecord;
  }
}

const record: EdgebeatRecord = { metrics: {}, states: {}, transports: {} };
window.__edgebeat = record;

function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`index.html has no #${id}`);
  return element;
}

const grid = byId("topics");
const scheduleGroup = byId("schedule-topics") as HTMLDetailsElement;
const scheduleGrid = byId("schedule-grid");
const scheduleSummary = byId("schedule-topics-summary");
const topicsNote = byId("topics-note");
const header = new PageHeader({ connection: byId("connection"), health: byId("health"), news: byId("connection-news") });
const cards = new Map<string, TopicCard>();
const nextRuns = new NextRuns();
const jobs = new JobsTable(nextRuns);
byId("jobs").append(jobs.element);
const schedules = new SchedulesTable({
  healthOf: (topic) => cards.get(topic)?.health,
  reveal(topic) {
    if (scheduleGrid.contains(cards.get(topic)?.element ?? null)) scheduleGroup.open = true;
  },
  noteSchedule({ topic, nextRunAt, state }) {
    nextRuns.note(topic, nextRunAt);
    cards.get(topic)?.setScheduleState(state);
  },
});
byId("schedules").append(schedules.element);

function updateHeader(): void {
  header.showConnections(Object.values(record.states));
  header.showHealth([...cards.values()].map((card) => card.health).filter((health) => health !== "none"));
  summarizeScheduleTopics();
}

/** The folded group's one line: how many schedule topics, and their health, worst first. */
function summarizeScheduleTopics(): void {
  const healths = [...cards.values()].filter((card) => card.scheduleId !== undefined).map((card) => card.health);
  const counts = HEALTH_ORDER.map((health) => [health, healths.filter((each) => each === health).length] as const)
    .filter(([, count]) => count > 0)
    .map(([health, count]) => `${count} ${health}`);
  const topics = `${healths.length} topic${healths.length === 1 ? "" : "s"} of runtime schedules`;
  setText(scheduleSummary, counts.length === 0 ? topics : `${topics}: ${counts.join(", ")}`);
}

/** Refreshes every relative time together, so a card and its row in "Recent runs" never disagree. */
function tickAll(now = Date.now()): void {
  for (const card of cards.values()) card.tick(now);
  jobs.tick(now);
  schedules.tick(now);
}

function showCounts(value: SystemValue, at: number): void {
  for (const [topic, card] of cards)
    card.setCounts(
      value.topics.find((row) => row.topic === topic),
      at,
    );
}

function watch(info: TopicInfo): void {
  const { topic } = info;
  const card = new TopicCard(info, (since, limit) => getHistory(topic, since, limit), nextRuns);
  cards.set(topic, card);
  (info.scheduleId === undefined ? grid : scheduleGrid).append(card.element);
  const seen: number[] = [];
  record.metrics[topic] = seen;
  subscribe(new URL(`/topics/${encodeURIComponent(topic)}`, location.href).href, {
    onMetric(frame) {
      seen.push(frame.seq);
      card.addMetric(frame);
      if (isSystemValue(frame.value)) showCounts(frame.value, frame.ts);
      updateHeader();
      tickAll();
    },
    onStatus(frame) {
      card.setStatus(frame);
      updateHeader();
      // A run failed or went missing: its ledger row and next run are news for "Recent runs".
      refreshJobsIn(STATUS_NEWS_MS);
    },
    onReset: () => card.reset(),
    onState(state, detail, transport) {
      record.states[topic] = state;
      record.transports[topic] = transport;
      card.setConnection(state, detail, transport);
      updateHeader();
    },
  });
}

/** Reads `GET /topics`, retrying until it answers (the page may load while the Worker restarts). */
async function loadTopics(): Promise<TopicInfo[]> {
  for (;;) {
    try {
      return await getTopics();
    } catch (error) {
      setText(topicsNote, `Could not load the topics (${error instanceof Error ? error.message : String(error)}); retrying.`);
      await new Promise((resolve) => setTimeout(resolve, TOPICS_RETRY_MS));
    }
  }
}

let jobsTimer: ReturnType<typeof setTimeout> | undefined;

/** Reads "Recent runs" after `delayMs`, instead of whenever it was due. */
function refreshJobsIn(delayMs: number): void {
  clearTimeout(jobsTimer);
  jobsTimer = setTimeout(refreshJobs, delayMs);
}

/**
 * Reads "Recent runs", then again just after the soonest expected run (so a 10-second job's row
 * never counts down against a stale answer), and at least every JOBS_REFRESH_MS.
 */
async function refreshJobs(): Promise<void> {
  try {
    const list = await getJobs();
    for (const job of list) nextRuns.note(job.topic, job.nextRunAt);
    jobs.update(list, Date.now());
    for (const job of list) cards.get(job.topic)?.setJob(job);
    tickAll();
  } catch (error) {
    jobs.failed(error);
  }
  const now = Date.now();
  const soonest = nextRuns.soonestAfter(now);
  const untilNews = soonest === undefined ? JOBS_REFRESH_MS : soonest + JOBS_AFTER_RUN_MS - now;
  refreshJobsIn(Math.min(JOBS_REFRESH_MS, Math.max(JOBS_AFTER_RUN_MS, untilNews)));
}

const topics = await loadTopics();
const shown = topics.filter((info) => !info.private);
const hidden = topics.length - shown.length;
grid.replaceChildren();
setText(topicsNote, hidden === 0 ? "" : `${hidden} private topic${hidden === 1 ? "" : "s"} not shown (they need a token).`);
const scheduleTopics = shown.filter((info) => info.scheduleId !== undefined).length;
if (shown.length === scheduleTopics) grid.append(h("p", { class: "note" }, "No public topics are declared."));
scheduleGroup.hidden = scheduleTopics === 0;
scheduleGroup.open = scheduleTopics <= SCHEDULE_TOPICS_OPEN;
for (const info of shown) watch(info);
everySecond(tickAll);
void refreshJobs();
