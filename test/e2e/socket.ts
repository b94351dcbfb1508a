/** One socket helper for end-to-end tests: subscribe over a real TCP WebSocket, read frames with a timeout, never hang. */
import { type Closed, type FrameReader, readFrames } from "../helpers/frames";

export type { Closed };

export interface E2eSocket extends FrameReader {
  ws: WebSocket;
}

/** Opens `ws://…{path}` on the server at `baseUrl` (http://…) and resolves once it is open. */
export async function openSocket(baseUrl: string, path: string, { timeoutMs = 5_000 } = {}): Promise<E2eSocket> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, "ws")}${path}`);
  ws.binaryType = "arraybuffer";
  // Read from the start: the server sends its join frames right after the upgrade.
  const reader = readFrames(ws, path, { timeoutMs: 5_000 });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      ws.close();
      reject(new Error(`${path} did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.addEventListener("open", () => {
      clearTimeout(timer);
      resolve();
    });
    ws.addEventListener("close", (event) => {
      clearTimeout(timer);
      reject(new Error(`${path} closed with ${event.code} before it opened`));
    });
  });

  return { ws, ...reader };
}
