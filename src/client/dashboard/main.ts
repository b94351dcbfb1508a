/**
 * The dashboard at `/`: one card per public topic, each fed by its own `subscribe()` (reconnect
 * and resume included), plus "Recent runs" from `GET /jobs`. Subscriber counts come from the
 * `system` topic's value, so nothing polls the topics.
 */
import type { SystemValue } from "../protocol";
import { type ConnectionState, subscribe } from "../subscribe";
import { getHistory, getJobs, getTopics, type TopicInfo } from "./api";
import { h, setText } from "./dom";
import { JobsTable } from "./jobs-table";
import { everySecond } from "./ticker";
import { TopicCard } from "./topic-card";
import { isSystemValue } from "./values";

const JOBS_REFRESH_MS = 15_000;
const STATE_LABELS: Record<ConnectionState, string> = {
  connecting: "Connecting",
  live: "Live",
  reconnecting: "Reconnecting",
  closed: "Closed",
};
const TOPICS_RETRY_MS = 5_000;

/** What the page saw, for tests: every seq delivered per topic, in order, and each topic's connection state. */
interface EdgebeatRecord {
  metrics: Record<string, number[]>;
  states: Record<string, ConnectionState>;
}

declare global {
  interface Window {
    __edgebeat: EdgebeatRecord;
  }
}

const record: EdgebeatRecord = { metrics: {}, states: {} };
window.__edgebeat = record;

function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`index.html has no #${id}`);
  return element;
}

const grid = byId("topics");
const topicsNote = byId("topics-note");
const summary = byId("connection");
const news = byId("connection-news");
const cards = new Map<string, TopicCard>();
const jobs = new JobsTable();
byId("jobs").append(jobs.element);

/** What screen readers hear when the page as a whole goes live, loses its connection or gives up. */
const NEWS: Record<ConnectionState, string> = {
  connecting: "",
  live: "Live: every topic is connected.",
  reconnecting: "Connection lost; reconnecting.",
  closed: "A topic refused its subscription; its card says why.",
};

/** The header's one line about every connection; only a change of the overall state is announced. */
function updateSummary(): void {
  const states = Object.values(record.states);
  const waiting = states.filter((state) => state !== "live").length;
  const state: ConnectionState =
    waiting === 0
      ? "live"
      : states.includes("reconnecting")
        ? "reconnecting"
        : states.includes("closed")
          ? "closed"
          : "connecting";
  if (summary.dataset.state !== state) setText(news, NEWS[state]);
  summary.dataset.state = state;
  const text =
    state === "live"
      ? `${STATE_LABELS.live}: ${states.length} topic${states.length === 1 ? "" : "s"}`
      : `${STATE_LABELS[state]}: ${states.length - waiting} of ${states.length} live`;
  setText(summary, text);
}

function showCounts(value: SystemValue): void {
  for (const [topic, card] of cards) card.setCounts(value.topics.find((row) => row.topic === topic));
}

function watch(info: TopicInfo): void {
  const { topic } = info;
  const card = new TopicCard(info, (since, limit) => getHistory(topic, since, limit));
  cards.set(topic, card);
  grid.append(card.element);
  const seen: number[] = [];
  record.metrics[topic] = seen;
  subscribe(new URL(`/topics/${encodeURIComponent(topic)}`, location.href).href, {
    onMetric(frame) {
      seen.push(frame.seq);
      card.addMetric(frame);
      if (isSystemValue(frame.value)) showCounts(frame.value);
    },
    onStatus: (frame) => card.setStatus(frame),
    onReset: () => card.reset(),
    onState(state, detail) {
      record.states[topic] = state;
      card.setConnection(state, detail);
      updateSummary();
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

/** Refreshes "Recent runs" now and every JOBS_REFRESH_MS (a timeout that re-arms itself). */
async function refreshJobs(): Promise<void> {
  try {
    const list = await getJobs();
    jobs.update(list, Date.now());
    for (const job of list) cards.get(job.topic)?.setJob(job);
  } catch (error) {
    jobs.failed(error);
  }
  setTimeout(refreshJobs, JOBS_REFRESH_MS);
}

const topics = await loadTopics();
const shown = topics.filter((info) => !info.private);
const hidden = topics.length - shown.length;
grid.replaceChildren();
setText(topicsNote, hidden === 0 ? "" : `${hidden} private topic${hidden === 1 ? "" : "s"} not shown (they need a token).`);
if (shown.length === 0) grid.append(h("p", { class: "note" }, "No public topics are declared."));
for (const info of shown) watch(info);
everySecond((now) => {
  for (const card of cards.values()) card.tick(now);
  jobs.tick(now);
});
void refreshJobs();
