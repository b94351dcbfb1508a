/**
 * One topic's card: its name and job, the connection, the job's health, the latest value and its
 * age, the countdown to the next expected run, subscriber counts, and a chart or table of values.
 */
import type { MetricFrame, StatusFrame } from "../protocol";
import type { ConnectionState } from "../subscribe";
import type { JobInfo, TopicInfo } from "./api";
import { type ChartPoint, MAX_POINTS, TopicChart } from "./chart";
import { h, setText, setTime } from "./dom";
import { formatAge, formatCountdown, formatNumber, formatSpan } from "./format";
import { renderValue } from "./value-view";
import { chartPoint, summarize } from "./values";

/** `waiting`: a job feeds the topic but nothing has arrived yet; `none`: no job, so no freshness. */
type Health = StatusFrame["state"] | "waiting" | "none";

/** Reads the kept metrics with seq > `since`, oldest first (to back-fill the chart on join). */
export type LoadHistory = (since: number, limit: number) => Promise<MetricFrame[]>;

function toPoint(frame: MetricFrame): ChartPoint | null {
  const values = chartPoint(frame.value);
  return values === null ? null : { seq: frame.seq, ts: frame.ts, values };
}

function fact(term: string, value: HTMLElement): HTMLElement {
  return h("div", {}, h("dt", {}, term), value);
}

export class TopicCard {
  readonly element: HTMLElement;
  readonly #info: TopicInfo;
  readonly #loadHistory: LoadHistory;
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
    published: h("dd", { class: "published" }, "–"),
    chart: h("div", { class: "chart" }),
    table: h("div", { class: "value-view", hidden: "" }),
  };
  #latest: MetricFrame | null = null;
  /** Bumped by a reset, so that a back-fill requested before it is dropped. */
  #generation = 0;
  #backfilled = false;

  constructor(info: TopicInfo, loadHistory: LoadHistory) {
    this.#info = info;
    this.#loadHistory = loadHistory;
    const ui = this.#ui;
    const titleId = `topic-${info.topic}`;
    this.element = h(
      "article",
      { class: "card", "aria-labelledby": titleId, "data-topic": info.topic },
      h("header", { class: "card-head" }, h("h3", { id: titleId }, info.topic), ui.connection),
      ui.job,
      h("p", { class: "health" }, ui.badge, ui.detail),
      h("p", { class: "latest" }, ui.value, ui.age),
      h(
        "dl",
        { class: "facts" },
        fact("Next run", ui.next),
        fact("Seq", ui.seq),
        fact("Subscribers", ui.subscribers),
        fact("Published", ui.published),
      ),
      ui.chart,
      ui.table,
    );
    this.#chart = new TopicChart(ui.chart);
    this.#setJobLine(null);
    this.#setHealth(info.job === null ? "none" : "waiting", "");
  }

  setConnection(state: ConnectionState, detail?: string): void {
    const connection = this.#ui.connection;
    connection.dataset.state = state;
    setText(connection, state);
    connection.title = detail ?? "";
  }

  setStatus(frame: StatusFrame): void {
    this.#setHealth(frame.state, frame.detail);
  }

  addMetric(frame: MetricFrame): void {
    this.#latest = frame;
    const ui = this.#ui;
    setText(ui.value, summarize(frame.value));
    ui.value.title = frame.runId;
    setText(ui.seq, formatNumber(frame.seq));
    renderValue(ui.table, frame.value);
    // A published run means the job is healthy; a status frame right after says otherwise if not.
    if (this.#info.job !== null) this.#setHealth("ok", "The latest run published.");
    const point = toPoint(frame);
    if (point !== null) this.#chart.add([point]);
    if (point !== null && !this.#backfilled) this.#backfill(frame.seq);
    this.tick(Date.now());
  }

  /** The topic's storage moved on without this client: forget its history; the latest metric follows. */
  reset(): void {
    this.#generation++;
    this.#backfilled = false;
    this.#chart.clear();
  }

  /** Counts from the `system` topic; undefined when it does not list this topic. */
  setCounts(counts: { subscribers: number; published: number } | undefined): void {
    setText(this.#ui.subscribers, counts === undefined ? "–" : formatNumber(counts.subscribers));
    setText(this.#ui.published, counts === undefined ? "–" : formatNumber(counts.published));
  }

  setJob(job: JobInfo): void {
    this.#setJobLine(job);
  }

  /** Refreshes the relative times. */
  tick(now: number): void {
    const latest = this.#latest;
    const ui = this.#ui;
    if (latest !== null) setTime(ui.age, latest.ts, formatAge(latest.ts, now));
    const due = latest?.nextExpectedAt;
    setText(ui.next, due === undefined ? (this.#info.job === null ? "on publish" : "–") : formatCountdown(due, now));
    ui.next.classList.toggle("overdue", due !== undefined && due < now - 1_000);
  }

  #setJobLine(job: JobInfo | null): void {
    const { job: name, schedule } = this.#info;
    if (name === null) {
      this.#ui.job.replaceChildren("No job: published with ", h("code", {}, `POST /topics/${this.#info.topic}`));
      return;
    }
    const cadence = job?.every == null ? h("code", {}, schedule ?? "") : `every ${formatSpan(job.every)}`;
    this.#ui.job.replaceChildren("job ", h("strong", {}, name), " · ", cadence);
  }

  #setHealth(health: Health, detail: string): void {
    const { badge, detail: detailElement } = this.#ui;
    const wasTroubled = badge.dataset.state === "failing" || badge.dataset.state === "stale";
    const troubled = health === "failing" || health === "stale";
    badge.dataset.state = health;
    setText(badge, health === "none" ? "no job" : health);
    badge.title = detail;
    // The detail is worth reading only when something went wrong, or right again.
    detailElement.dataset.tone = troubled ? "bad" : "good";
    if (troubled) setText(detailElement, detail);
    else if (wasTroubled) setText(detailElement, `Recovered: ${detail}`);
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
