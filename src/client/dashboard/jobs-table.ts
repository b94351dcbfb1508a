/**
 * "Recent runs": every job's health, its last run (status, attempts, duration, when) from
 * `GET /jobs`, and its next run from the shared NextRuns (so it matches the topic's card). On a
 * phone each row stacks into a block whose cells carry their column's name (public/style.css).
 */
import type { JobInfo } from "./api";
import { breakable, h, setText, setTime } from "./dom";
import { formatAge, formatClock, formatDuration, formatNextRun, formatSpan, isPastDue, localizeTimes } from "./format";
import type { NextRuns } from "./next-runs";

interface RowClock {
  topic: string;
  lastRunAt: number | null;
  when: HTMLTimeElement;
  next: HTMLTimeElement;
}

const HEADERS = ["Job", "Health", "Last run", "Attempts", "Duration", "When", "Next run"];

export class JobsTable {
  readonly element: HTMLElement;
  readonly #nextRuns: NextRuns;
  // Explicit roles: the phone layout displays these as blocks, which drops a table's semantics in some browsers.
  readonly #body = h("tbody", { role: "rowgroup" });
  readonly #note = h("p", { class: "note", role: "status" }, "Loading jobs…");
  #clocks: RowClock[] = [];

  constructor(nextRuns: NextRuns) {
    this.#nextRuns = nextRuns;
    const head = h("tr", { role: "row" }, ...HEADERS.map((header) => h("th", { scope: "col", role: "columnheader" }, header)));
    const table = h("table", { class: "jobs stacked", role: "table" }, h("thead", { role: "rowgroup" }, head), this.#body);
    // Focusable, so that keyboard users can scroll it where it is wider than the screen.
    const wrap = h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-labelledby": "runs-title" }, table);
    this.element = h("div", {}, wrap, this.#note);
  }

  /** Replaces every row with `jobs`, as read at `now`. */
  update(jobs: readonly JobInfo[], now: number): void {
    this.#clocks = [];
    this.#body.replaceChildren(...jobs.map((job) => this.#row(job)));
    setText(this.#note, `Runs as read at ${formatClock(now)}; read again after each expected run, and at least every 15 s.`);
    this.tick(now);
  }

  /** Says why the table is not current; the rows already shown stay. */
  failed(error: unknown): void {
    setText(this.#note, `Could not refresh the jobs (${error instanceof Error ? error.message : String(error)}); retrying.`);
  }

  tick(now: number): void {
    for (const clock of this.#clocks) {
      if (clock.lastRunAt !== null) setTime(clock.when, clock.lastRunAt, formatAge(clock.lastRunAt, now));
      const next = this.#nextRuns.get(clock.topic);
      if (next === undefined) continue;
      setTime(clock.next, next, formatNextRun(next, now));
      clock.next.classList.toggle("overdue", isPastDue(next, now));
    }
  }

  #row(job: JobInfo): HTMLTableRowElement {
    const run = job.lastRun;
    const clock: RowClock = {
      topic: job.topic,
      lastRunAt: run?.startedAt ?? null,
      when: h("time", {}, "never"),
      next: h("time", {}, "–"),
    };
    this.#clocks.push(clock);
    const cadence = job.every === null ? h("code", {}, job.schedule) : `every ${formatSpan(job.every)}`;
    const lastRun = run === null ? ["–"] : badge(run.status, run.runId, run.error);
    const health = badge(job.status, job.detail, job.status === "ok" ? null : job.detail);
    const cell = (label: string, children: (Node | string)[], className = "") =>
      h("td", { role: "cell", "data-label": label, ...(className === "" ? {} : { class: className }) }, ...children);
    return h(
      "tr",
      { role: "row", "data-job": job.name },
      h(
        "th",
        { scope: "row", role: "rowheader" },
        h("span", { class: "job-name" }, ...breakable(job.name)),
        h("span", { class: "cadence" }, cadence),
      ),
      cell("Health", health),
      cell("Last run", lastRun, "last-run"),
      cell("Attempts", [run === null ? "–" : String(run.attempts)], "num"),
      cell("Duration", [run === null ? "–" : formatDuration(run.durationMs)], "num"),
      cell("When", [clock.when]),
      cell("Next run", [clock.next], "next"),
    );
  }
}

/** A status badge, with `detail` spelled out beside it when there is something to read (not only in a tooltip). */
function badge(state: string, title: string, detail: string | null): HTMLElement[] {
  const parts = [h("span", { class: "badge", "data-state": state, title: localizeTimes(title) }, state)];
  if (detail) parts.push(h("span", { class: "detail", "data-tone": "bad" }, localizeTimes(detail)));
  return parts;
}
