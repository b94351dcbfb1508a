/**
 * "Schedules": the runtime schedules from `GET /schedules`, which needs the admin token. The token
 * is typed into the page, kept in sessionStorage only (it goes with the tab), and sent only as
 * `Authorization: Bearer`: never in a URL, never in a message. Each row links to its topic's card
 * and shows that card's health; on a phone it stacks like "Recent runs" (public/tables.css).
 */
import { getSchedules, HttpError, MAX_SCHEDULES, type Schedule } from "./api";
import { breakable, h, setText, setTime } from "./dom";
import { formatClock, formatInZone } from "./format";
import type { Health } from "./topic-card";

const TOKEN_KEY = "edgebeat.adminToken";
/** How often the table is read again while a token is set: schedules change only through the API. */
const SCHEDULES_REFRESH_MS = 15_000;
const HEADERS = ["Schedule", "Job", "Topic", "Timing", "State", "Next run", "Freshness"];

/** What the table needs from the topic cards. */
export interface ScheduleLinks {
  /** The health of `topic`'s card; undefined when the page has no card for it (a private topic). */
  healthOf(topic: string): Health | undefined;
  /** Shows `topic`'s card if something hides it, before the link scrolls to it. */
  reveal(topic: string): void;
  /** A schedule as last read: its card counts down to its next slot, or says it is paused or ended. */
  noteSchedule(schedule: Schedule): void;
}

interface RowClock {
  schedule: Schedule;
  zoned: HTMLTimeElement;
  local: HTMLTimeElement;
  freshness: HTMLElement;
}

export class SchedulesTable {
  readonly element: HTMLElement;
  readonly #links: ScheduleLinks;
  readonly #input = h("input", {
    type: "password",
    id: "admin-token",
    name: "token",
    autocomplete: "off",
    spellcheck: "false",
  });
  readonly #forget = h("button", { type: "button", class: "forget", hidden: "" }, "Forget the token");
  readonly #note = h("p", { class: "note", role: "status" });
  // Explicit roles: the phone layout displays these as blocks, which drops a table's semantics in some browsers.
  readonly #body = h("tbody", { role: "rowgroup" });
  readonly #wrap: HTMLElement;
  #clocks: RowClock[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped on every new token, so that an answer for an earlier one is dropped. */
  #generation = 0;

  constructor(links: ScheduleLinks) {
    this.#links = links;
    const form = h(
      "form",
      { class: "token-form" },
      h("label", { for: "admin-token" }, "Admin token"),
      this.#input,
      h("button", { type: "submit" }, "Show schedules"),
      this.#forget,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.#setToken(this.#input.value.trim());
      this.#input.value = "";
    });
    this.#forget.addEventListener("click", () => this.#setToken(""));
    const head = h("tr", { role: "row" }, ...HEADERS.map((header) => h("th", { scope: "col", role: "columnheader" }, header)));
    const table = h("table", { class: "schedules stacked", role: "table" }, h("thead", { role: "rowgroup" }, head), this.#body);
    this.#wrap = h(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-labelledby": "schedules-title", hidden: "" },
      table,
    );
    this.element = h("div", {}, form, this.#note, this.#wrap);
    this.#setToken(sessionStorage.getItem(TOKEN_KEY) ?? "");
  }

  /** Refreshes each row's next run (the first slot still ahead) and its topic's freshness. */
  tick(now: number): void {
    for (const { schedule, zoned, local, freshness } of this.#clocks) {
      const next = schedule.nextRuns.find((slot) => slot > now) ?? schedule.nextRunAt;
      if (next !== null) {
        const seconds = schedule.every !== null;
        setTime(zoned, next, formatInZone(next, schedule.timezone, { seconds }));
        setTime(local, next, formatInZone(next, undefined, { seconds }));
      }
      const health = this.#links.healthOf(schedule.topic);
      const state = schedule.private ? "private" : health === undefined ? "–" : health;
      freshness.dataset.state = state;
      setText(freshness, state);
    }
  }

  #setToken(token: string): void {
    this.#generation++;
    clearTimeout(this.#timer);
    if (token === "") sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
    this.#forget.hidden = token === "";
    if (token === "") {
      this.#show([]);
      this.#note.replaceChildren(
        "The schedules need the admin token: ",
        h("code", {}, "npm run secrets"),
        " writes ADMIN_TOKEN into .dev.vars (a deployment has it as a secret). It is kept in this tab only.",
      );
      return;
    }
    setText(this.#note, "Loading schedules…");
    void this.#refresh(token, this.#generation);
  }

  async #refresh(token: string, generation: number): Promise<void> {
    try {
      const { schedules, more } = await getSchedules(token);
      if (generation !== this.#generation) return;
      this.#show(schedules);
      setText(this.#note, this.#summary(schedules.length, more));
    } catch (error) {
      if (generation !== this.#generation) return;
      if (error instanceof HttpError && error.status === 401) {
        this.#setToken("");
        setText(this.#note, "The admin token was refused: enter the ADMIN_TOKEN of .dev.vars (or of the deployment).");
        return;
      }
      if (error instanceof HttpError && error.code === "not_configured") {
        this.#show([]);
        setText(this.#note, `Schedules are off: ${error.reason}`);
        return;
      }
      setText(
        this.#note,
        `Could not refresh the schedules (${error instanceof Error ? error.message : String(error)}); retrying.`,
      );
    }
    this.#timer = setTimeout(() => void this.#refresh(token, generation), SCHEDULES_REFRESH_MS);
  }

  #summary(count: number, more: boolean): string {
    const read = `as read at ${formatClock(Date.now())}; read again every ${SCHEDULES_REFRESH_MS / 1_000} s.`;
    if (count === 0) return "No runtime schedules: create one with PUT /schedules/:id (docs/schedules.md).";
    if (more) return `The first ${MAX_SCHEDULES} schedules by id (there are more: GET /schedules pages them), ${read}`;
    return `${count} schedule${count === 1 ? "" : "s"}, ${read}`;
  }

  #show(schedules: readonly Schedule[]): void {
    this.#clocks = [];
    this.#body.replaceChildren(...schedules.map((schedule) => this.#row(schedule)));
    this.#wrap.hidden = schedules.length === 0;
    for (const schedule of schedules) this.#links.noteSchedule(schedule);
    this.tick(Date.now());
  }

  #row(schedule: Schedule): HTMLTableRowElement {
    const clock: RowClock = {
      schedule,
      zoned: h("time", { class: "zoned" }),
      local: h("time"),
      freshness: h("span", { class: "badge" }),
    };
    this.#clocks.push(clock);
    const cell = (label: string, children: (Node | string)[], className = "") =>
      h("td", { role: "cell", "data-label": label, ...(className === "" ? {} : { class: className }) }, ...children);
    const timing = schedule.cron === null ? `every ${schedule.every ?? ""}` : h("code", {}, schedule.cron);
    const next = schedule.nextRunAt === null ? ["–"] : [clock.zoned, " ", h("span", { class: "local" }, "yours: ", clock.local)];
    return h(
      "tr",
      { role: "row", "data-schedule": schedule.id },
      h("th", { scope: "row", role: "rowheader" }, h("span", { class: "job-name" }, ...breakable(schedule.id))),
      cell("Job", [h("span", {}, ...breakable(schedule.job))]),
      cell("Topic", [this.#topicLink(schedule)], "topic"),
      cell("Timing", [timing, " ", h("span", { class: "zone" }, schedule.timezone)], "timing"),
      cell("State", [h("span", { class: "badge", "data-state": schedule.state }, schedule.state)], "state"),
      cell("Next run", next, "next"),
      cell("Freshness", [clock.freshness], "freshness"),
    );
  }

  #topicLink({ topic, private: isPrivate }: Schedule): HTMLElement {
    if (isPrivate) return h("span", { title: "A private topic has no card on this page." }, ...breakable(topic), " (private)");
    if (this.#links.healthOf(topic) === undefined) {
      return h("span", { title: "Created after this page loaded: reload it for the card." }, ...breakable(topic), " (reload)");
    }
    const link = h("a", { href: `#topic-${topic}` }, ...breakable(topic));
    link.addEventListener("click", () => this.#links.reveal(topic));
    return link;
  }
}
