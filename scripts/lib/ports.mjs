/** Ports on 127.0.0.1 for local servers: one that is free now, and whether a given one is. */
import { createServer } from "node:net";

/**
 * Listens on `port` (0: any) of 127.0.0.1 and closes again; resolves with the port it got.
 * @param {number} port
 * @returns {Promise<number>}
 */
function listenAndClose(port) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      const got = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => (got > 0 ? resolve(got) : reject(new Error("no port assigned"))));
    });
  });
}

/**
 * A port that was free a moment ago on 127.0.0.1 (the OS picked it for a listener we then closed).
 * @returns {Promise<number>}
 */
export function freePort() {
  return listenAndClose(0);
}

/**
 * Whether nothing listens on `port` of 127.0.0.1: a listener of our own can take it.
 * @param {number} port
 * @returns {Promise<boolean>}
 */
export async function isPortFree(port) {
  try {
    await listenAndClose(port);
    return true;
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code === "EADDRINUSE") return false;
    throw error;
  }
}
