/**
 * Each topic's next expected run, from the freshest word on it: the `nextExpectedAt` of its latest
 * metric frame (pushed over the socket by every run) or the `nextRunAt` of `GET /jobs` (polled).
 * Its card and its row in "Recent runs" both read it here, so they always show the same countdown.
 */
export class NextRuns {
  readonly #at = new Map<string, number>();

  /**
   * Records a prediction for `topic`. The later of two wins: each run, and each read of `/jobs`
   * (computed from the schedule at that moment), only ever moves a topic's next run forward.
   */
  note(topic: string, at: number | null | undefined): void {
    if (at === null || at === undefined) return;
    const known = this.#at.get(topic);
    if (known === undefined || at > known) this.#at.set(topic, at);
  }

  /** The next run expected for `topic`, if anything said. */
  get(topic: string): number | undefined {
    return this.#at.get(topic);
  }

  /** The soonest next run still after `now`: when a re-read of `/jobs` has something new to say. */
  soonestAfter(now: number): number | undefined {
    let soonest: number | undefined;
    for (const at of this.#at.values()) if (at > now && (soonest === undefined || at < soonest)) soonest = at;
    return soonest;
  }
}
