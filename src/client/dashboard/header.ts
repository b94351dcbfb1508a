/**
 * The page header's two facts, kept apart because they are different truths: how many topics this
 * page is connected to (its sockets), and how the jobs behind them are doing (their health), so a
 * page can be fully connected to topics that are stale.
 */
import type { ConnectionState } from "../subscribe";
import { setText } from "./dom";
import type { Health } from "./topic-card";

const STATE_LABELS: Record<ConnectionState, string> = {
  connecting: "Connecting",
  live: "Live",
  reconnecting: "Reconnecting",
  closed: "Closed",
};

/** What screen readers hear when the page as a whole goes live, loses its connection or gives up. */
const NEWS: Record<ConnectionState, string> = {
  connecting: "",
  live: "Live: every topic is connected.",
  reconnecting: "Connection lost; reconnecting.",
  closed: "A topic refused its subscription; its card says why.",
};

/** Worst first: the header's dot takes the colour of the first one any job is in. */
export const HEALTH_ORDER = ["failing", "stale", "waiting", "ok"] as const;

/** The page's connection state: live only when every topic is. */
export function overallState(states: readonly ConnectionState[]): ConnectionState {
  if (states.every((state) => state === "live")) return "live";
  if (states.includes("reconnecting")) return "reconnecting";
  if (states.includes("closed")) return "closed";
  return "connecting";
}

export class PageHeader {
  readonly #connection: HTMLElement;
  readonly #health: HTMLElement;
  readonly #news: HTMLElement;

  constructor(elements: { connection: HTMLElement; health: HTMLElement; news: HTMLElement }) {
    this.#connection = elements.connection;
    this.#health = elements.health;
    this.#news = elements.news;
  }

  /** "Live: 6 of 6 topics connected"; only a change of the overall state is announced. */
  showConnections(states: readonly ConnectionState[]): void {
    const state = overallState(states);
    if (this.#connection.dataset.state !== state) setText(this.#news, NEWS[state]);
    this.#connection.dataset.state = state;
    const live = states.filter((each) => each === "live").length;
    setText(
      this.#connection,
      `${STATE_LABELS[state]}: ${live} of ${states.length} topic${states.length === 1 ? "" : "s"} connected`,
    );
  }

  /** "Jobs: 1 failing, 2 stale, 3 ok", worst first; topics without a job have no health to count. */
  showHealth(healths: readonly Health[]): void {
    const counts = HEALTH_ORDER.map((health) => [health, healths.filter((each) => each === health).length] as const).filter(
      ([, count]) => count > 0,
    );
    this.#health.hidden = counts.length === 0;
    this.#health.dataset.state = counts[0]?.[0] ?? "ok";
    setText(this.#health, `Jobs: ${counts.map(([health, count]) => `${count} ${health}`).join(", ")}`);
  }
}
