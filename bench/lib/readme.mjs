/**
 * Writes a bench's headline figures into README.md between `<!-- bench:NAME -->` and
 * `<!-- /bench:NAME -->`, so the README cites the last run's numbers without anyone typing them.
 */
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const README = fileURLToPath(new URL("../../README.md", import.meta.url));

/**
 * @param {string} name
 * @param {string} markdown the block's new content
 */
export function updateReadme(name, markdown) {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const text = readFileSync(README, "utf8");
  const from = text.indexOf(start);
  const to = text.indexOf(end);
  if (from === -1 || to < from) {
    console.warn(`README.md has no ${start} … ${end} block; ${path.basename(README)} left as it is`);
    return;
  }
  writeFileSync(README, `${text.slice(0, from + start.length)}\n${markdown.trim()}\n${text.slice(to)}`);
}
