/** A metric's structured value as a compact table (probes, event counts, topic counts) or truncated JSON. */
import type { Json } from "../protocol";
import { formatClock, formatDuration, formatJson, formatNumber } from "./format";
import { isEventsValue, isPulseValue, isSystemValue, isUptimeValue } from "./values";

type Cell = string | { text: string; className?: string; title?: string };

/** Replaces `container`'s content with a view of `value`; hides it when the chart and summary say it all. */
export function renderValue(container: HTMLElement, value: Json): void {
  const view = viewOf(value);
  container.hidden = view === null;
  container.replaceChildren(...(view === null ? [] : [view]));
}

function viewOf(value: Json): HTMLElement | null {
  if (typeof value === "number" || isPulseValue(value)) return null;
  if (isUptimeValue(value)) {
    return table(
      "Probes",
      ["url", "ok", "status", "latency"],
      value.probes.map((probe) => [
        probe.url,
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
    const rows = value.types.map((row) => [row.type, formatNumber(row.count), formatNumber(row.sum)]);
    return table(caption, ["type", "count", "sum"], rows.length > 0 ? rows : [["none", "0", "0"]]);
  }
  if (isSystemValue(value)) {
    return table(
      "Topics",
      ["topic", "subscribers", "published"],
      value.topics.map((row) => [row.topic, formatNumber(row.subscribers), formatNumber(row.published)]),
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
      td.textContent = cell.text;
      if (cell.className !== undefined) td.className = cell.className;
      if (cell.title !== undefined) td.title = cell.title;
    }
  }
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  wrap.append(element);
  return wrap;
}
