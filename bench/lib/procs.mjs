/**
 * What a process costs, read from /proc: CPU time (utime + stime, whole process and per thread),
 * and open fds. Also a clock every process on the machine shares.
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (`getconf CLK_TCK`, 100 almost everywhere). */
export const CLK_TCK = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * Milliseconds on CLOCK_MONOTONIC (what `process.hrtime` reads): one clock for every process on
 * the machine, so a time taken in the bench and one taken in a load generator can be subtracted.
 */
export function monoMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/**
 * Fields of a /proc stat line after "(comm)": state is [0], utime [11], stime [12].
 * @param {string} stat
 */
function statFields(stat) {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/**
 * utime + stime of process `pid` (all its threads), in ms; null when it is gone.
 * @param {number} pid
 */
export function cpuMs(pid) {
  try {
    const fields = statFields(readFileSync(`/proc/${pid}/stat`, "utf8"));
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/**
 * utime + stime of each thread of `pid`, in ms, keyed by tid, with the thread's name.
 * @param {number} pid
 * @returns {Map<number, { name: string, ms: number }>}
 */
export function threadCpuMs(pid) {
  /** @type {Map<number, { name: string, ms: number }>} */
  const threads = new Map();
  let tids = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return threads;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = statFields(stat);
      threads.set(Number(tid), { name, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK });
    } catch {
      // The thread ended between readdir and read.
    }
  }
  return threads;
}

/**
 * Per-thread CPU spent between two `threadCpuMs` readings, busiest first.
 * @param {Map<number, { name: string, ms: number }>} before
 * @param {Map<number, { name: string, ms: number }>} after
 */
export function threadCpuDelta(before, after) {
  return [...after]
    .map(([tid, { name, ms }]) => ({ tid, name, ms: Math.round(ms - (before.get(tid)?.ms ?? 0)) }))
    .filter((t) => t.ms > 0)
    .sort((a, b) => b.ms - a.ms);
}

/** @param {number} pid */
export function fdCount(pid) {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

/**
 * CPU time the whole machine spent busy (user + nice + system of /proc/stat's `cpu` line, all
 * cores), in ms. Interrupt and softirq time are left out: processes are not charged for them.
 */
export function machineBusyMs() {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  return (((fields[0] ?? 0) + (fields[1] ?? 0) + (fields[2] ?? 0)) * 1000) / CLK_TCK;
}

/**
 * utime + stime of `root` and every process below it, in ms (processes that already exited are
 * not counted).
 * @param {number} root
 */
export function treeCpuMs(root) {
  /** @type {Map<number, number[]>} */
  const children = new Map();
  /** @type {Map<number, number>} */
  const cpu = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = statFields(readFileSync(`/proc/${entry}/stat`, "utf8"));
      const ppid = Number(fields[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
      cpu.set(Number(entry), ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK);
    } catch {
      // Gone between readdir and read.
    }
  }
  let total = 0;
  const pending = [root];
  for (let pid = pending.pop(); pid !== undefined; pid = pending.pop()) {
    total += cpu.get(pid) ?? 0;
    pending.push(...(children.get(pid) ?? []));
  }
  return total;
}
