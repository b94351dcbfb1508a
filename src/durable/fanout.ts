/**
 * A sharded topic's owner side of its shards (SHARDS): handing every frame to each shard, one RPC
 * each in parallel, and counting the sockets they hold.
 */
import type { TopicShardRpc } from "./rpc";

export class ShardFanout {
  constructor(
    private readonly shards: DurableObjectNamespace<TopicShardRpc>,
    private readonly names: readonly string[],
    private readonly topic: string,
    private readonly waitUntil: (promise: Promise<unknown>) => void,
  ) {}

  /** Whether the topic has shards at all (it has none unless SHARDS lists it). */
  get isSharded(): boolean {
    return this.names.length > 0;
  }

  /** Hands a frame to every shard; `seq` is its last metric seq (null for a status), `first` a batch's first. */
  deliver(text: string, seq: number | null, first: number | null, epoch: string): void {
    const sends = this.names.map((name) => this.shards.getByName(name).deliverFromOwner(seq, text, epoch, first));
    // A shard that misses a frame fetches it on the next one (it tracks seq); a client that sees a gap resumes.
    this.waitUntil(
      Promise.allSettled(sends).then((results) => {
        for (const result of results) {
          if (result.status === "rejected")
            console.error(JSON.stringify({ event: "shard_unreachable", topic: this.topic, seq, error: String(result.reason) }));
        }
      }),
    );
  }

  /** Open sockets on every shard. */
  async count(): Promise<number> {
    const counts = await Promise.all(this.names.map((name) => this.shards.getByName(name).countForOwner()));
    return counts.reduce((sum, n) => sum + n, 0);
  }
}
