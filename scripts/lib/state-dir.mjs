/** Throwaway directories for a run: a server's `--persist-to` state, removed with everything in it afterwards. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

/**
 * A new empty directory under the system's temp directory, named `prefix` + random characters.
 * @param {string} [prefix]
 * @returns {string}
 */
export function makeStateDir(prefix = "edgebeat-state-") {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/**
 * Removes `dir` and everything in it; nothing when it is undefined or gone already.
 * @param {string | undefined} dir
 */
export function removeDir(dir) {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
}
