/** Memory and CPU of the processes a phase runs, read from /proc before and after it measures. */
import { cpuMs, fdCount, machineBusyMs, treeCpuMs } from "../lib/procs.mjs";
import { rssMiB } from "../lib/rss.mjs";
import { round1 } from "./format.mjs";

/** @typedef {{ runtimePid: number, proxyPid: number | null }} Serving */

/**
 * RSS and open fds of the serving processes and the load generator.
 * @param {Serving} target
 * @param {number} loadgenPid
 */
export function memory(target, loadgenPid) {
  return {
    runtimeMiB: rssMiB(target.runtimePid),
    proxyMiB: target.proxyPid === null ? null : rssMiB(target.proxyPid),
    loadgenMiB: rssMiB(loadgenPid),
    runtimeFds: fdCount(target.runtimePid),
    proxyFds: target.proxyPid === null ? null : fdCount(target.proxyPid),
  };
}

/**
 * CPU so far of the serving processes, the load generator, everything this bench started (and
 * itself), and the whole machine: the last two apart are other people's work.
 * @param {Serving} target
 * @param {number} loadgenPid
 */
export function cpu(target, loadgenPid) {
  return {
    runtime: cpuMs(target.runtimePid),
    proxy: target.proxyPid === null ? null : cpuMs(target.proxyPid),
    loadgen: cpuMs(loadgenPid),
    ours: treeCpuMs(process.pid),
    machine: machineBusyMs(),
  };
}

/**
 * CPU of processes that are not this bench's between two samples, as % of one core over `wallMs`.
 * @param {ReturnType<typeof cpu>} a
 * @param {ReturnType<typeof cpu>} b
 * @param {number} wallMs
 */
export function othersShare(a, b, wallMs) {
  return round1((Math.max(0, b.machine - a.machine - (b.ours - a.ours)) / wallMs) * 100);
}

/**
 * Growth between two samples per live socket, in KiB.
 * @param {number | null} a MiB
 * @param {number | null} b MiB
 * @param {number} sockets
 */
export function kibPerSocket(a, b, sockets) {
  return a === null || b === null || sockets === 0 ? null : Math.round(((b - a) * 1024) / sockets);
}
