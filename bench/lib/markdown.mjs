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
