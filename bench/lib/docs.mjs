/**
 * Writes a bench's generated tables into docs/performance.md, each between `<!-- bench:NAME -->`
 * and `<!-- /bench:NAME -->`, so the prose there cites the last run's numbers without anyone
 * typing them. Everything outside the markers is written by people and left as it is.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const DOCS = fileURLToPath(new URL("../../docs/performance.md", import.meta.url));

/**
 * Replaces each named block's content; a block whose markers are missing is reported, not added.
 * @param {Record<string, string>} blocks markdown by block name
 */
export function updateDocs(blocks) {
  let text = readFileSync(DOCS, "utf8");
  for (const [name, markdown] of Object.entries(blocks)) {
    const start = `<!-- bench:${name} -->`;
    const end = `<!-- /bench:${name} -->`;
    const from = text.indexOf(start);
    const to = text.indexOf(end);
    if (from === -1 || to < from) {
      console.warn(`docs/performance.md has no ${start} … ${end} block: add the markers where the table belongs`);
      continue;
    }
    text = `${text.slice(0, from + start.length)}\n${markdown.trim()}\n${text.slice(to)}`;
  }
  writeFileSync(DOCS, text);
}
