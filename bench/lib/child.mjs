/** A helper process of a bench (the load generator, the ceiling), started with `fork` and driven over IPC. */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { stopGroup } from "../../scripts/lib/process-group.mjs";

/**
 * Forks `bench/lib/<script>` on this process's Node and resolves once it sends `{ ready: true }`.
 * `request(cmd, payload)` sends `{ cmd, id, ...payload }` and resolves with the matching answer;
 * any other message with an `event` field goes to `onEvent`. `stop()` SIGKILLs it by pid and waits for its exit;
 * with `detached` it runs in its own process group and `stop()` SIGKILLs the group, so whatever it
 * started (a workerd) goes too.
 * @param {string} script a file in bench/lib/
 * @param {string[]} args
 * @param {{ onEvent?: (message: any) => void, readyTimeoutMs?: number, detached?: boolean }} [options]
 */
export async function startChild(script, args, { onEvent, readyTimeoutMs = 15_000, detached = false } = {}) {
  const child = fork(fileURLToPath(new URL(script, import.meta.url)), args, {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    detached,
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not fork ${script}`);
  /** @type {Map<number, { resolve: (value: any) => void, reject: (error: Error) => void }>} */
  const pending = new Map();
  let nextId = 1;
  /** @type {(message: any) => void} */
  let onReady = () => {};
  /** @type {(error: Error) => void} */
  let onFailed = () => {};
  const ready = new Promise((resolve, reject) => {
    onReady = resolve;
    onFailed = reject;
    setTimeout(() => reject(new Error(`${script} did not start within ${readyTimeoutMs} ms`)), readyTimeoutMs).unref();
  });
  child.on("message", (/** @type {any} */ message) => {
    if (message?.ready) onReady(message);
    else if (message?.event !== undefined) onEvent?.(message);
    else if (message?.id !== undefined) {
      const waiter = pending.get(message.id);
      pending.delete(message.id);
      if (message.ok) waiter?.resolve(message.answer);
      else waiter?.reject(new Error(`${script}: ${message.error}`));
    }
  });
  /** @type {Promise<void>} */
  const exited = new Promise((resolve) => child.once("exit", () => resolve()));
  child.on("exit", (code, signal) => {
    onFailed(new Error(`${script} exited (${code ?? signal}) before it was ready`));
    for (const waiter of pending.values()) waiter.reject(new Error(`${script} exited (${code ?? signal})`));
    pending.clear();
  });
  /** SIGKILLs it (and with `detached` its whole group) and resolves once it has exited. */
  const stop = async () => {
    if (detached) await stopGroup(pid);
    else {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await exited;
  };
  let hello;
  try {
    hello = await ready;
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    pid,
    hello,
    /**
     * @param {string} cmd
     * @param {Record<string, unknown>} [payload]
     * @returns {Promise<any>}
     */
    request(cmd, payload = {}) {
      const id = nextId++;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        child.send({ ...payload, cmd, id });
      });
    },
    stop,
  };
}
