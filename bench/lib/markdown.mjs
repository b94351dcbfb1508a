/** Markdown tables for the generated result files. */

/**
 * @param {string[]} headers
 * @param {unknown[][]} rows
 * @param {("l" | "r")[]} [align] per column; right-aligned by default except the first
 */
export function table(headers, rows, align) {
  const cell = (/** @type {unknown} */ value) =>
    value === null || value === undefined ? "–" : String(value).replaceAll("|", "\\|");
  const rule = headers.map((_, i) => ((align?.[i] ?? (i === 0 ? "l" : "r")) === "r" ? "---:" : "---"));
  return [headers, rule, ...rows.map((row) => row.map(cell))].map((row) => `| ${row.join(" | ")} |`).join("\n");
}

/**
 * The machine a result was measured on, as every bench's .md shows it (`machineFacts()` in run.mjs).
 * @param {any} machine
 */
export function machineTable(machine) {
  return table(
    ["machine", "value"],
    [
      ["cores", `${machine.cores} (${machine.cpu})`],
      ["memory", `${machine.memoryGiB} GiB`],
      ["os", machine.os],
      ["node", machine.node],
      ["wrangler / ws", `${machine.wrangler} / ${machine.ws}`],
      ["commit", machine.commit],
      ["load average (1 min, at the end)", machine.loadAverage1m],
    ],
    ["l", "l"],
  );
}
