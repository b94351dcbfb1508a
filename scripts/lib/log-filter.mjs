/**
 * Drops a block of lines from a passed-through log: the line that contains a marker and the
 * indented or blank lines that continue it. Used by `npm start` to hide wrangler's "Scheduled
 * Workers are not automatically triggered…" warning, which its cron driver makes untrue.
 */

/** How long an unfinished line waits for its newline before it is written as it is. */
const PARTIAL_LINE_MS = 50;

/**
 * A writer that passes text on to `write`, minus each block that starts at a line containing
 * `marker`. Text is passed on line by line; an unfinished line goes out after a moment.
 * @param {string} marker
 * @param {(text: string) => void} write
 * @returns {(text: string) => void}
 */
export function dropBlock(marker, write) {
  let partial = "";
  let dropping = false;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @param {string} line A whole line, with its newline. */
  const take = (line) => {
    // An ANSI colour code may precede the text; continuation lines are indented or blank.
    if (line.includes(marker)) dropping = true;
    else if (dropping && !/^\s*$|^[ \t]/.test(line)) dropping = false;
    if (!dropping) write(line);
  };
  const flush = () => {
    if (partial === "") return;
    const line = partial;
    partial = "";
    take(line);
  };
  return (text) => {
    clearTimeout(timer);
    const lines = (partial + text).split(/(?<=\n)/);
    partial = lines.at(-1)?.endsWith("\n") ? "" : (lines.pop() ?? "");
    for (const line of lines) take(line);
    if (partial !== "") timer = setTimeout(flush, PARTIAL_LINE_MS);
  };
}
