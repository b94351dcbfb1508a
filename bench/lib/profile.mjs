/**
 * A CPU profile of one process with Linux `perf` (optional: without it, or without the right to
 * use it, a bench just says so): flat samples of every thread, summarized as the share of samples
 * per kind of work and the busiest functions.
 */
import { execFileSync, spawn } from "node:child_process";

/** Whether `perf` is installed and may sample (perf_event_paranoid, containers). */
export function perfAvailable() {
  try {
    execFileSync("perf", ["stat", "-e", "task-clock", "--", "true"], { stdio: "ignore", timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts `perf record` on `pid` (every thread, `hz` samples per second, no call graphs: a flat
 * profile costs the process little). `stop()` ends it and resolves once perf.data is written.
 * @param {number} pid
 * @param {string} file
 * @param {number} [hz]
 */
export function startProfile(pid, file, hz = 999) {
  const child = spawn("perf", ["record", "-F", String(hz), "-p", String(pid), "-o", file], { stdio: "ignore" });
  const exited = new Promise((resolve) => child.once("exit", resolve));
  return {
    async stop() {
      child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Kinds of work, tried in order on each sample's library and function. */
/** @type {[string, (dso: string, sym: string) => boolean][]} */
const KINDS = [
  [
    "compression (zlib deflate, per socket)",
    (_, sym) =>
      /deflate|longest_match|build_tree|fill_window|Cr_z_|_tr_|crc32|adler32|compress_block|send_tree|pqdownheap|inflate/i.test(
        sym,
      ),
  ],
  ["kernel (TCP over loopback, syscalls, scheduling)", (dso) => /^\[(kernel|vdso)/.test(dso)],
  ["libc (memcpy, syscall wrappers)", (dso) => /^libc|^libpthread|^ld-linux/.test(dso)],
  ["memory allocator (tcmalloc)", (_, sym) => /tcmalloc|^malloc|^free|^operator new|^operator delete/.test(sym)],
  [
    "WebSocket send path (api::WebSocket, its pipe and pump)",
    (_, sym) =>
      /WebSocketPipe|WebSocketImpl|LegacyWebSocketAdapter|api::WebSocket|HibernationManager|HibernatableWebSocket/.test(sym),
  ],
  ["HTTP I/O (kj_hyper, tokio)", (_, sym) => /kj_hyper|tokio|hyper::/.test(sym)],
  ["kj promises and event loop", (_, sym) => /^kj::|kj_rs|ArcWaker|async_trace/.test(sym)],
  ["V8 (JavaScript, GC)", (dso, sym) => /JIT/.test(dso) || /^v8::|^Builtins_|cppgc|^v8_/.test(sym)],
  ["other workerd (jsg, IoContext, RPC, capnp)", (_, sym) => /workerd|jsg|capnp/.test(sym)],
];

/**
 * Reads `file` with `perf report`: the share of samples by kind of work and the top functions.
 * @param {string} file
 * @param {number} [top]
 */
export function summarizeProfile(file, top = 15) {
  const out = execFileSync(
    "perf",
    [
      "report",
      "-i",
      file,
      "--no-children",
      "--sort",
      "dso,sym",
      "-g",
      "none",
      "--stdio",
      "-t",
      "|",
      "-n",
      "--percent-limit",
      "0",
    ],
    { encoding: "utf8", maxBuffer: 256 * 2 ** 20, timeout: 120_000, stdio: ["ignore", "pipe", "ignore"] },
  );
  /** @type {{ pct: number, samples: number, dso: string, sym: string }[]} */
  const rows = [];
  for (const line of out.split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const [pct, samples, dso, sym] = line.split("|").map((x) => x.trim());
    const value = Number.parseFloat(pct ?? "");
    if (!Number.isFinite(value) || dso === undefined || sym === undefined) continue;
    rows.push({ pct: value, samples: Number(samples), dso, sym: sym.replace(/^\[[.k]\]\s*/, "") });
  }
  /** @type {Map<string, number>} */
  const kinds = new Map();
  for (const { pct, dso, sym } of rows) {
    const kind = KINDS.find(([, test]) => test(dso, sym))?.[0] ?? "other";
    kinds.set(kind, (kinds.get(kind) ?? 0) + pct);
  }
  return {
    samples: rows.reduce((sum, r) => sum + (Number.isFinite(r.samples) ? r.samples : 0), 0),
    kinds: [...kinds].map(([kind, pct]) => ({ kind, pct: Math.round(pct * 10) / 10 })).sort((a, b) => b.pct - a.pct),
    top: rows.slice(0, top).map((r) => ({ pct: r.pct, dso: r.dso, sym: shorten(r.sym) })),
  };
}

/**
 * A C++ symbol without template arguments, parameter lists and anonymous namespaces.
 * @param {string} sym
 */
function shorten(sym) {
  let s = sym.replaceAll("(anonymous namespace)::", "");
  for (let i = 0; i < 10 && /<[^<>]*>/.test(s); i++) s = s.replace(/<[^<>]*>/g, "");
  for (let i = 0; i < 10 && /\([^()]*\)/.test(s); i++) s = s.replace(/\([^()]*\)/g, "()");
  return s.length > 100 ? `${s.slice(0, 97)}…` : s;
}
