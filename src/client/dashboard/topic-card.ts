/**
 * One topic's card: its name and job, the connection, the job's health, the latest value and its
 * age, the countdown to the next expected run, subscriber counts, and a chart or table of values.
 */
import type { MetricFrame, StatusFrame } from "../protocol";
import type { ScheduleState } from "../schedule";
import type { ConnectionState, TransportName } from "../subscribe";

const TRANSPORT_LABELS: Record<TransportName, string> = { websocket: "WebSocket", sse: "SSE", longpoll: "long-poll" };

import type { JobInfo, TopicInfo } from "./api";
import { MAX_POINTS, TopicChart } from "./chart";
import type { ChartPoint } from "./chart-data";
import { breakable, h, setText, setTime } from "./dom";
import { formatAge, formatClock, formatNextRun, formatNumber, formatSpan, isPastDue, localizeTimes } from "./format";
import type { NextRuns } from "./next-runs";
import { renderValue } from "./value-view";
import { chartValues, summarize } from "./values";

/** `waiting`: a job feeds the topic but nothing has arrived yet; `none`: no job, so no freshness. */
export type Health = StatusFrame["state"] | "waiting" | "none";

/** Reads the kept metrics with seq > `since`, oldest first (to back-fill the chart on join). */
export type LoadHistory = (since: number, limit: number) => Promise<MetricFrame[]>;

function toPoint(frame: MetricFrame): ChartPoint | null {
  const chart = chartValues(frame.value);
  if (chart === null) return null;
  const { seq, ts, scheduledTime, nextExpectedAt } = frame;
  return {
    seq,
    ts,
    values: chart.series,
    caption: chart.caption,
    tickUnit: chart.tickUnit,
    ...(scheduledTime === undefined ? {} : { scheduledTime }),
    ...(nextExpectedAt === undefined ? {} : { nextExpectedAt }),
  };
}

function fact(term: string, value: HTMLElement): HTMLElement {
  return h("div", {}, h("dt", {}, term), value);
}

export class TopicCard {
  readonly element: HTMLElement;
  readonly #info: TopicInfo;
  readonly #loadHistory: LoadHistory;
  readonly #nextRuns: NextRuns;
  readonly #chart: TopicChart;
  readonly #ui = {
    job: h("p", { class: "job" }),
    connection: h("span", { class: "connection", "data-state": "connecting" }, "connecting"),
    badge: h("span", { class: "badge" }),
    // The one live region of a card: it speaks only when a job starts failing, goes stale or recovers.
    detail: h("span", { class: "detail", "aria-live": "polite" }),
    value: h("span", { class: "value" }, "no value yet"),
    age: h("time", { class: "age" }),
    next: h("dd", { class: "next" }, "–"),
    seq: h("dd", { class: "seq" }, "–"),
    subscribers: h("dd", { class: "subscribers" }, "–"),
    chart: h("div", { class: "chart" }),
    table: h("div", { class: "value-view", hidden: "" }),
  };
  #latest: MetricFrame | null = null;
  /** Bumped by a reset, so that a back-fill requested before it is dropped. */
  #generation = 0;
  #backfilled = false;
  /** A runtime schedule's state, once "Schedules" has read it: a paused or ended one has no next run to count down to. */
  #scheduleState: ScheduleState = "active";

  constructor(info: TopicInfo, loadHistory: LoadHistory, nextRuns: NextRuns) {
    this.#info = info;
    this.#loadHistory = loadHistory;
    this.#nextRuns = nextRuns;
    const ui = this.#ui;
    const titleId = `topic-${info.topic}`;
    this.element = h(
      "article",
      { class: "card", "aria-labelledby": titleId, "data-topic": info.topic },
      h("header", { class: "card-head" }, h("h3", { id: titleId }, ...breakable(info.topic)), ui.connection),
      ui.job,
      h("p", { class: "health" }, ui.badge, ui.detail),
      h("p", { class: "latest" }, ui.value, ui.age),
      h("dl", { class: "facts" }, fact("Next run", ui.next), fact("Seq", ui.seq), fact("Subscribers", ui.subscribers)),
      ui.chart,
      ui.table,
    );
    this.#chart = new TopicChart(ui.chart);
    this.#setJobLine(null);
    this.#setHealth(info.job === null ? "none" : "waiting", "");
  }

  /** The runtime schedule that feeds this topic, if one does. */
  get scheduleId(): string | undefined {
    return this.#info.scheduleId;
  }

  /** The feeding job's health as this card last heard it: what the page header counts. */
  get health(): Health {
    return (this.#ui.badge.dataset.state as Health | undefined) ?? "waiting";
  }

  /** The connection's state, and its transport when it is not a WebSocket (a network that blocks them). */
  setConnection(state: ConnectionState, detail?: string, transport: TransportName = "websocket"): void {
    const connection = this.#ui.connection;
    connection.dataset.state = state;
    connection.dataset.transport = transport;
    setText(connection, transport === "websocket" ? state : `${state} · ${TRANSPORT_LABELS[transport]}`);
    connection.title = detail ?? "";
  }

  setStatus(frame: StatusFrame): void {
    this.#setHealth(frame.state, frame.detail);
  }

  /** Shows `frame`; the page then ticks every clock at once (main.ts), so this card and its row in "Recent runs" agree. */
  addMetric(frame: MetricFrame): void {
    this.#latest = frame;
    const ui = this.#ui;
    setText(ui.value, summarize(frame.value));
    ui.value.title = frame.runId;
    setText(ui.seq, formatNumber(frame.seq));
    this.#nextRuns.note(this.#info.topic, frame.nextExpectedAt);
    renderValue(ui.table, frame.value, frame.ts);
    // A published run means the job is healthy; a status frame right after says otherwise if not.
    if (this.#info.job !== null) this.#setHealth("ok", "The latest run published.");
    const point = toPoint(frame);
    if (point !== null) this.#chart.add([point]);
    if (point !== null && !this.#backfilled) this.#backfill(frame.seq);
  }

  /** The topic's storage moved on without this client: forget its history; the latest metric follows. */
  reset(): void {
    this.#generation++;
    this.#backfilled = false;
    this.#chart.clear();
  }

  /**
   * The subscriber count from the `system` topic's value published at `at`; undefined when it does
   * not list this topic. (Its publish counts are not shown: they are this card's seq, read earlier.)
   */
  setCounts(counts: { subscribers: number } | undefined, at: number): void {
    const { subscribers } = this.#ui;
    setText(subscribers, counts === undefined ? "–" : formatNumber(counts.subscribers));
    subscribers.title = counts === undefined ? "" : `Counted by the system topic at ${formatClock(at)}`;
  }

  setScheduleState(state: ScheduleState): void {
    this.#scheduleState = state;
  }

  setJob(job: JobInfo): void {
    this.#setJobLine(job);
  }

  /** Refreshes the relative times. */
  tick(now: number): void {
    const latest = this.#latest;
    const ui = this.#ui;
    if (latest !== null) setTime(ui.age, latest.ts, formatAge(latest.ts, now));
    if (this.#scheduleState !== "active") {
      setText(ui.next, this.#scheduleState);
      ui.next.classList.remove("overdue");
      return;
    }
    const due = this.#nextRuns.get(this.#info.topic);
    setText(ui.next, due === undefined ? (this.#info.job === null ? "on publish" : "–") : formatNextRun(due, now));
    ui.next.classList.toggle("overdue", due !== undefined && isPastDue(due, now));
  }

  #setJobLine(job: JobInfo | null): void {
    const { job: name, schedule } = this.#info;
    if (name === null) {
      this.#ui.job.replaceChildren("No job: published with ", h("code", {}, `POST /topics/${this.#info.topic}`));
      return;
    }
    const cadence = job?.every == null ? h("code", {}, schedule ?? "") : `every ${formatSpan(job.every)}`;
    const owner =
      this.#info.scheduleId === undefined ? [] : [" · schedule ", h("strong", {}, ...breakable(this.#info.scheduleId))];
    this.#ui.job.replaceChildren("job ", h("strong", {}, name), " · ", cadence, ...owner);
  }

  #setHealth(health: Health, detail: string): void {
    const { badge, detail: detailElement } = this.#ui;
    const wasTroubled = badge.dataset.state === "failing" || badge.dataset.state === "stale";
    const troubled = health === "failing" || health === "stale";
    badge.dataset.state = health;
    setText(badge, health === "none" ? "no job" : health);
    const readable = localizeTimes(detail);
    badge.title = readable;
    // The detail is worth reading only when something went wrong, or right again.
    detailElement.dataset.tone = troubled ? "bad" : "good";
    if (troubled) setText(detailElement, readable);
    else if (wasTroubled) setText(detailElement, `Recovered: ${readable}`);
    else setText(detailElement, "");
  }

  #backfill(seq: number): void {
    this.#backfilled = true;
    if (seq <= 1) return;
    const generation = this.#generation;
    this.#loadHistory(Math.max(0, seq - MAX_POINTS), MAX_POINTS).then(
      (frames) => {
        if (generation !== this.#generation) return;
        this.#chart.add(frames.map(toPoint).filter((point) => point !== null));
      },
      () => {}, // The chart fills from live values instead.
    );
  }
}
