/**
 * The project's own client library (src/client/subscribe.ts), bundled with esbuild at bench start
 * and loaded from memory, so a bench measures exactly the code browsers run. Subscribers get the
 * `ws` package's WebSocket (half the memory of Node's built-in one), wrapped to record when each
 * connection attempt starts.
 */
import { build } from "esbuild";
import WebSocket from "ws";

/**
 * @param {string} root the project directory to bundle src/client/subscribe.ts from
 * @returns {Promise<{ subscribe: Function, DEFAULT_BACKOFF: { baseMs: number, maxMs: number } }>}
 */
export async function loadClientLibrary(root) {
  const result = await build({
    absWorkingDir: root,
    entryPoints: ["src/client/subscribe.ts"],
    bundle: true,
    format: "esm",
    platform: "node",
    write: false,
    logLevel: "warning",
  });
  const code = result.outputFiles[0]?.text;
  if (code === undefined) throw new Error("esbuild produced no output for src/client/subscribe.ts");
  return import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}

/**
 * A `ws` WebSocket class that calls `onAttempt(performance.now())` for every socket it creates,
 * and `onClose(performance.now())` when one of them closes (as the transport sees it, before the
 * library hears of it).
 * @param {(at: number) => void} onAttempt
 * @param {(at: number) => void} [onClose]
 */
export function countingWebSocket(onAttempt, onClose) {
  return class CountingWebSocket extends WebSocket {
    /** @param {ConstructorParameters<typeof WebSocket>} args */
    constructor(...args) {
      super(...args);
      onAttempt(performance.now());
      if (onClose !== undefined) this.on("close", () => onClose(performance.now()));
    }
  };
}
