/**
 * Everyone a topic's frames reach: the owner's own WebSockets (hibernatable) and Server-Sent Events
 * streams, and, for a sharded topic, its shards. One `send` per frame; one count of them all.
 */

import { eventId } from "../client/positions";
import type { ShardFanout } from "./fanout";
import { type Streams, sseEvent } from "./streams";
import type { Subscribers } from "./subscribers";

/** A long-poll client that polled this recently still counts as watching (it is between two polls). */
const POLL_GRACE_MS = 35_000;

export class Audience {
  /** Long-polls waiting for the next metric broadcast. */
  readonly #waiting = new Set<() => void>();
  #lastPollAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly sockets: Subscribers,
    private readonly streams: Streams,
    private readonly shards: ShardFanout,
    /** The topic's epoch, for stream event ids and shards (it never changes once set). */
    private readonly epoch: () => string,
  ) {}

  /** Sends a frame to every socket, stream and shard; `seq` is its last metric seq (null for a status), `first` a batch's first. */
  send(text: string, seq: number | null, first = seq): void {
    this.sockets.broadcast(text);
    if (this.streams.count() > 0) this.streams.broadcast(sseEvent(text, seq === null ? null : eventId(this.epoch(), seq)));
    if (this.shards.isSharded) this.shards.deliver(text, seq, first, this.epoch());
    if (seq !== null) for (const wake of this.#waiting) wake();
  }

  /** Notes a long-poll (a client that polls is watching, also between its polls). */
  polled(now: number): void {
    this.#lastPollAt = now;
  }

  /** Resolves at the next metric broadcast, or after `timeoutMs`. */
  nextMetric(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#waiting.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, timeoutMs);
      this.#waiting.add(wake);
    });
  }

  /** Open sockets here and on every shard, open streams, and long-polls waiting now. */
  async count(): Promise<number> {
    return (await this.shards.count()) + this.sockets.count() + this.streams.count() + this.#waiting.size;
  }

  /** Whether anyone watches: a subscriber now, or a long-poll client between two polls (one polled lately). */
  async isWatched(now: number): Promise<boolean> {
    return now - this.#lastPollAt < POLL_GRACE_MS || (await this.count()) > 0;
  }
}
