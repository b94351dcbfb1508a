/** The merge of topic streams, on streams made up here: what passes, what is rewritten, and when it all ends. */
import { describe, expect, it } from "vitest";
import { mergeStreams } from "../../src/routes/merge";

const encoder = new TextEncoder();

/** A topic stream a test writes to by hand, and whether the merge cancelled it. */
function upstream(topic: string) {
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const state = { cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: () => {
      state.cancelled = true;
    },
  });
  return {
    topic,
    body,
    state,
    send: (text: string) => controller?.enqueue(encoder.encode(text)),
    end: () => controller?.close(),
  };
}

async function readAll(response: Response, timeoutMs = 3_000): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const chunk = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(text)), deadline - Date.now())),
    ]);
    if (chunk.done) return text;
    text += decoder.decode(chunk.value, { stream: true });
  }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe("mergeStreams", () => {
  it("sends its own retry once, each event as it came with the combined cursor as id, and ends with the first topic stream", async () => {
    const a = upstream("a");
    const b = upstream("b");
    const merged = mergeStreams(
      [a, b],
      new Map([
        ["b", { epoch: "eb", since: 4 }],
        ["z", { epoch: "ez", since: 1 }],
      ]),
      new AbortController().signal,
    );
    a.send('retry: 1000\n\nid: ea:2\ndata: {"type":"hello","topic":"a","seq":2}\n\n');
    await tick();
    b.send(
      'retry: 1000\n\ndata: {"type":"status","topic":"b","state":"stale","detail":"late"}\n\nid: eb:5\ndata: {"type":"metric",',
    );
    await tick();
    b.send('"topic":"b","seq":5}\n\n');
    await tick();
    a.end();
    expect(await readAll(merged)).toBe(
      [
        "retry: 1000\n\n",
        'id: a=ea:2,b=eb:4\ndata: {"type":"hello","topic":"a","seq":2}\n\n',
        'data: {"type":"status","topic":"b","state":"stale","detail":"late"}\n\n',
        'id: a=ea:2,b=eb:5\ndata: {"type":"metric","topic":"b","seq":5}\n\n',
      ].join(""),
    );
    expect(b.state.cancelled).toBe(true);
  });

  it("cancels every topic stream when its client goes away", async () => {
    const streams = [upstream("a"), upstream("b")];
    const client = new AbortController();
    const merged = mergeStreams(streams, new Map(), client.signal);
    await (merged.body as ReadableStream).cancel();
    await tick();
    expect(streams.map((stream) => stream.state.cancelled)).toEqual([true, true]);
    const aborted = [upstream("c")];
    mergeStreams(aborted, new Map(), AbortSignal.abort());
    await tick();
    expect(aborted[0]?.state.cancelled).toBe(true);
  });

  it("ends a client more than 1 MiB behind, so it resumes from its cursor, and cancels every topic stream", async () => {
    const a = upstream("a");
    const b = upstream("b");
    const merged = mergeStreams([a, b], new Map(), new AbortController().signal);
    const event = `id: ea:1\ndata: ${JSON.stringify({ type: "metric", topic: "a", seq: 1, value: "x".repeat(64 * 1024) })}\n\n`;
    for (let i = 0; i < 20 && !b.state.cancelled; i++) {
      a.send(event);
      await tick();
    }
    expect([a.state.cancelled, b.state.cancelled]).toEqual([true, true]);
    const text = await readAll(merged);
    expect(text.length).toBeLessThan(20 * event.length);
    expect(text.endsWith("\n\n")).toBe(true);
  });
});
