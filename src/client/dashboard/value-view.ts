/** A metric's structured value as a compact table (probes, event counts, topic counts) or truncated JSON. */
import type { Json } from "../protocol";
import { breakable, h } from "./dom";
import { formatClock, formatDuration, formatJson, formatNumber } from "./format";
import { isEventsValue, isPulseValue, isSystemValue, isUptimeValue } from "./values";

/** `breakable`: a URL or name that may wrap between its parts (dom.ts), never inside a word. */
type Cell = string | { text: string; className?: string; title?: string; breakable?: "name" | "url" };

/** Replaces `container`'s content with a view of `value`; hides it when the chart and summary say it all. */
export function renderValue(container: HTMLElement, value: Json, ts: number): void {
  const view = viewOf(value, ts);
  container.hidden = view === null;
  container.replaceChildren(...(view === null ? [] : [view]));
}

function viewOf(value: Json, ts: number): HTMLElement | null {
  if (typeof value === "number" || isPulseValue(value)) return null;
  if (isUptimeValue(value)) {
    return table(
      "Probes",
      ["url", "ok", "status", "latency"],
      value.probes.map((probe) => [
        { text: probe.url, breakable: "url" },
        {
          text: probe.ok ? "yes" : "no",
          className: probe.ok ? "good" : "bad",
          ...(probe.error === null ? {} : { title: probe.error }),
        },
        probe.status === null ? "–" : String(probe.status),
        formatDuration(probe.latencyMs),
      ]),
    );
  }
  if (isEventsValue(value)) {
    const caption = `Events ${formatClock(value.windowStart)}–${formatClock(value.windowEnd)}`;
    if (value.types.length === 0) return h("p", { class: "note empty" }, `${caption}: no events were posted.`);
    const rows = value.types.map((row): Cell[] => [
      { text: row.type, breakable: "name" },
      formatNumber(row.count),
      formatNumber(row.sum),
    ]);
    return table(caption, ["type", "count", "sum"], rows);
  }
  if (isSystemValue(value)) {
    // Read before this value was published: `system`'s own row is one behind its seq.
    return table(
      `Counts at ${formatClock(ts)}, read before this value was published`,
      ["topic", "subscribers", "published"],
      value.topics.map((row) => [
        { text: row.topic, breakable: "name" },
        formatNumber(row.subscribers),
        formatNumber(row.published),
      ]),
    );
  }
  const pre = document.createElement("pre");
  pre.className = "json";
  pre.textContent = formatJson(value, { pretty: true });
  return pre;
}

/** A small table; every column after the first holds short values and is right-aligned. */
function table(caption: string, headers: string[], rows: Cell[][]): HTMLElement {
  const element = document.createElement("table");
  element.className = "values";
  const captionElement = element.createCaption();
  captionElement.textContent = caption;
  const head = element.createTHead().insertRow();
  for (const header of headers) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = header;
    head.append(th);
  }
  const body = element.createTBody();
  for (const row of rows) {
    const tr = body.insertRow();
    for (const cell of row) {
      const td = tr.insertCell();
      if (typeof cell === "string") {
        td.textContent = cell;
        continue;
      }
      if (cell.breakable !== undefined) td.append(...breakable(cell.text, cell.breakable));
      else td.textContent = cell.text;
      if (cell.className !== undefined) td.className = cell.className;
      if (cell.title !== undefined) td.title = cell.title;
    }
  }
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  wrap.append(element);
  return wrap;
}
