/** "Recent runs": every job's health, its last run (status, attempts, duration, when) and its next run, from `GET /jobs`. */
import type { JobInfo } from "./api";
import { h, setText, setTime } from "./dom";
import { formatAge, formatClock, formatCountdown, formatDuration, formatSpan } from "./format";

interface RowClock {
  lastRunAt: number | null;
  when: HTMLTimeElement;
  nextRunAt: number | null;
  next: HTMLTimeElement;
}

const HEADERS = ["Job", "Health", "Last run", "Attempts", "Duration", "When", "Next run"];

export class JobsTable {
  readonly element: HTMLElement;
  readonly #body = h("tbody");
  readonly #note = h("p", { class: "note", role: "status" }, "Loading jobs…");
  #clocks: RowClock[] = [];

  constructor() {
    const head = h("tr", {}, ...HEADERS.map((header) => h("th", { scope: "col" }, header)));
    const table = h("table", { class: "jobs" }, h("thead", {}, head), this.#body);
    // Focusable, so that keyboard users can scroll it where it is wider than the screen.
    const wrap = h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-labelledby": "runs-title" }, table);
    this.element = h("div", {}, wrap, this.#note);
  }

  /** Replaces every row with `jobs`, as read at `now`. */
  update(jobs: readonly JobInfo[], now: number): void {
    this.#clocks = [];
    this.#body.replaceChildren(...jobs.map((job) => this.#row(job)));
    setText(this.#note, `Updated ${formatClock(now)}; refreshed every 15 s.`);
    this.tick(now);
  }

  /** Says why the table is not current; the rows already shown stay. */
  failed(error: unknown): void {
    setText(this.#note, `Could not refresh the jobs (${error instanceof Error ? error.message : String(error)}); retrying.`);
  }

  tick(now: number): void {
    for (const clock of this.#clocks) {
      if (clock.lastRunAt !== null) setTime(clock.when, clock.lastRunAt, formatAge(clock.lastRunAt, now));
      if (clock.nextRunAt !== null) setTime(clock.next, clock.nextRunAt, formatCountdown(clock.nextRunAt, now));
    }
  }

  #row(job: JobInfo): HTMLTableRowElement {
    const run = job.lastRun;
    const clock: RowClock = {
      lastRunAt: run?.startedAt ?? null,
      when: h("time", {}, "never"),
      nextRunAt: job.nextRunAt,
      next: h("time", {}, "–"),
    };
    this.#clocks.push(clock);
    const cadence = job.every === null ? h("code", {}, job.schedule) : `every ${formatSpan(job.every)}`;
    const lastRun = run === null ? ["–"] : badge(run.status, run.runId, run.error);
    const health = badge(job.status, job.detail, job.status === "ok" ? null : job.detail);
    return h(
      "tr",
      {},
      h("th", { scope: "row" }, h("span", { class: "job-name" }, job.name), h("span", { class: "cadence" }, cadence)),
      h("td", {}, ...health),
      h("td", { class: "last-run" }, ...lastRun),
      h("td", { class: "num" }, run === null ? "–" : String(run.attempts)),
      h("td", { class: "num" }, run === null ? "–" : formatDuration(run.durationMs)),
      h("td", {}, clock.when),
      h("td", {}, clock.next),
    );
  }
}

/** A status badge, with `detail` spelled out beside it when there is something to read (not only in a tooltip). */
function badge(state: string, title: string, detail: string | null): HTMLElement[] {
  const parts = [h("span", { class: "badge", "data-state": state, title }, state)];
  if (detail) parts.push(h("span", { class: "detail", "data-tone": "bad" }, detail));
  return parts;
}
