/**
 * Reads a Server-Sent Events response with `fetch` (so Node needs no EventSource): each event's
 * `data:` text, in order, until the stream ends, fails, goes quiet or is closed. The per-topic
 * stream and the multiplexed one (`GET /events?topics=`) both read through it.
 */

/** A stream that has sent nothing (not even a keep-alive comment) for this long is dead. */
const STREAM_IDLE_MS = 60_000;

export interface EventStreamHandlers {
  /** The server answered 2xx with a body: the stream is open. */
  open(): void;
  /** One event's data (its `data:` lines joined). */
  data(text: string): void;
  /** The stream is over, once; `refused` is the answer when the server did not open it. */
  end(reason: string, refused?: Response): void;
}

/** Opens the stream at `url`; `close` ends it from this side (and `end` follows with that reason). */
export function readEventStream(
  doFetch: typeof fetch,
  url: string,
  handlers: EventStreamHandlers,
  { eventStreamOnly = false } = {},
): { close(reason: string): void } {
  const controller = new AbortController();
  let done = false;
  let idle: ReturnType<typeof setTimeout> | undefined;
  const finish = (reason: string, refused?: Response) => {
    if (done) return;
    done = true;
    if (idle !== undefined) clearTimeout(idle);
    controller.abort();
    handlers.end(reason, refused);
  };
  const heard = () => {
    if (idle !== undefined) clearTimeout(idle);
    idle = setTimeout(() => finish("the stream went quiet"), STREAM_IDLE_MS);
  };
  void (async () => {
    const response = await doFetch(url, { signal: controller.signal, headers: { Accept: "text/event-stream" } });
    const isStream = response.headers.get("Content-Type")?.startsWith("text/event-stream") === true;
    if (!response.ok || response.body === null || (eventStreamOnly && !isStream)) {
      return finish(`stream answered ${response.status}`, response);
    }
    handlers.open();
    heard();
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done: ended } = await reader.read();
      if (ended) return finish("the stream ended");
      heard();
      buffer += value;
      for (let end = buffer.indexOf("\n\n"); end >= 0 && !done; end = buffer.indexOf("\n\n")) {
        const data = buffer
          .slice(0, end)
          .split("\n")
          .filter((line) => line.startsWith("data: "))
          .map((line) => line.slice(6));
        buffer = buffer.slice(end + 2);
        if (data.length > 0) handlers.data(data.join("\n"));
      }
    }
  })().catch((error: unknown) => finish(`stream failed: ${error instanceof Error ? error.message : String(error)}`));
  return { close: (reason) => finish(reason) };
}
