/** Resident memory from /proc: VmRSS of a process, in MiB. */
import { readFileSync } from "node:fs";

/**
 * @param {number | "self"} pid
 * @returns {number | null} MiB, or null when the process is gone
 */
export function rssMiB(pid) {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match === null ? null : Math.round((Number(match[1]) / 1024) * 10) / 10;
  } catch {
    return null;
  }
}
