/** Reads a Server-Sent Events response the way EventSource does: events of `id` and `data` lines, comments skipped. */
import type { ServerFrame } from "../../src/client/protocol";

export interface SseEvent {
  id: string | null;
  frame: ServerFrame;
}

export interface SseReader {
  /** The next event, parsed; rejects after `timeoutMs`. */
  next(timeoutMs?: number): Promise<SseEvent>;
  /** The stream's first `retry:` value, once read. */
  retry(): number | null;
  close(): Promise<void>;
}

export function readSse(response: Response): SseReader {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let retry: number | null = null;
  const queue: SseEvent[] = [];
  const take = () => {
    for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id: string | null = null;
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("id: ")) id = line.slice(4);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
        else if (line.startsWith("retry: ")) retry = Number(line.slice(7));
      }
      if (data.length > 0) queue.push({ id, frame: JSON.parse(data.join("\n")) as ServerFrame });
    }
  };
  return {
    async next(timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (queue.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error("no event in time");
        const chunk = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no event in time")), left)),
        ]);
        if (chunk.done) throw new Error("the stream ended");
        buffer += decoder.decode(chunk.value, { stream: true });
        take();
      }
      return queue.shift() as SseEvent;
    },
    retry: () => retry,
    close: () => reader.cancel(),
  };
}
