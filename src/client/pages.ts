/**
 * A topic followed by `/history` pages (long-poll): each page becomes the frames a socket would
 * have sent, metrics after the position, a `reset` when the page skips seqs the server no longer
 * keeps, a `status` when the topic's freshness changed. The per-topic and the multiplexed
 * long-poll share it.
 */
import { encodeFrame, type MetricFrame, type ServerFrame, type TopicState } from "./protocol";

/** One page of `GET /topics/:topic/history` (and one topic's part of `GET /history?topics=`). */
export interface Page {
  epoch: string;
  status: TopicState;
  detail: string;
  messages: MetricFrame[];
}

export class PageReader {
  #status: { state: TopicState; detail: string } = { state: "ok", detail: "" };

  constructor(
    private readonly topic: string,
    /** Hands one frame, as wire text, to the subscriber. */
    private readonly text: (text: string) => void,
  ) {}

  send(frame: ServerFrame): void {
    this.text(encodeFrame(frame));
  }

  /** Sends a page's metrics after `since` (after a reset when the first is not since + 1), and its status when it changed; returns the last seq. */
  deliver(page: Page, since: number, { gapCheck = true } = {}): number {
    const first = page.messages[0];
    if (gapCheck && first !== undefined && first.seq > since + 1) {
      this.send({ type: "reset", topic: this.topic, seq: page.messages.at(-1)?.seq ?? since });
    }
    if (page.status !== this.#status.state || page.detail !== this.#status.detail) {
      this.#status = { state: page.status, detail: page.detail };
      this.send({ type: "status", topic: this.topic, state: page.status, detail: page.detail });
    }
    for (const frame of page.messages) this.send(frame);
    return page.messages.at(-1)?.seq ?? since;
  }
}
