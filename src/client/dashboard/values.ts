/**
 * What a metric's value is, judged by its shape (not by the topic's name, so a topic declared in
 * TOPICS that publishes the same shape looks the same): the numbers it adds to a chart, and the
 * one line that sums it up.
 */
import type { EventsValue, Json, JsonObject, PulseValue, SystemValue, UptimeValue } from "../protocol";
import { formatDuration, formatJson, formatNumber } from "./format";

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isArrayOf(value: Json | undefined, check: (item: JsonObject) => boolean): boolean {
  return Array.isArray(value) && value.every((item) => isObject(item) && check(item));
}

const isNumber = (value: Json | undefined): value is number => typeof value === "number" && Number.isFinite(value);

export function isUptimeValue(value: Json): value is UptimeValue {
  return isObject(value) && isArrayOf(value.probes, (probe) => typeof probe.url === "string" && isNumber(probe.latencyMs));
}

export function isPulseValue(value: Json): value is PulseValue {
  return isObject(value) && isNumber(value.lagMs);
}

export function isEventsValue(value: Json): value is EventsValue {
  return (
    isObject(value) &&
    isNumber(value.windowStart) &&
    isArrayOf(value.types, (row) => typeof row.type === "string" && isNumber(row.count))
  );
}

export function isSystemValue(value: Json): value is SystemValue {
  return isObject(value) && isArrayOf(value.topics, (row) => typeof row.topic === "string" && isNumber(row.subscribers));
}

/** What a value adds to its topic's chart. */
export interface ChartValues {
  /** What the lines are, with their unit: the chart's caption. */
  caption: string;
  /** A unit short enough to print on every y-axis label ("ms"), or "". */
  tickUnit: string;
  /** The numbers, by series label. */
  series: Map<string, number>;
}

/** At most this many numeric fields of one object value are charted (one line and colour each). */
export const MAX_FIELDS = 6;

/**
 * The chart's numbers in this value; null when it has nothing to chart. A number is one line; the
 * built-in shapes chart what they measure (lag, probe latency, event and subscriber totals); any
 * other object charts its top-level numeric fields (the first MAX_FIELDS, in key order), each a
 * line named after its field. Nested objects, arrays, strings and booleans are not charted.
 */
export function chartValues(value: Json): ChartValues | null {
  if (isNumber(value)) return { caption: "value", tickUnit: "", series: new Map([["value", value]]) };
  if (isPulseValue(value)) return { caption: "lag (ms)", tickUnit: "ms", series: new Map([["lag", value.lagMs]]) };
  if (isUptimeValue(value)) {
    const [only, ...more] = value.probes;
    if (only === undefined) return null;
    const caption = more.length === 0 ? `latency of ${only.url} (ms)` : "probe latency per URL (ms)";
    return { caption, tickUnit: "ms", series: new Map(value.probes.map((probe) => [probe.url, probe.latencyMs])) };
  }
  if (isEventsValue(value)) {
    const total = value.types.reduce((sum, row) => sum + row.count, 0);
    return { caption: "events per window (count)", tickUnit: "", series: new Map([["events", total]]) };
  }
  if (isSystemValue(value)) {
    const total = value.topics.reduce((sum, row) => sum + row.subscribers, 0);
    return { caption: "subscribers of all topics (count)", tickUnit: "", series: new Map([["subscribers", total]]) };
  }
  if (!isObject(value)) return null;
  const fields = Object.entries(value)
    .filter((entry): entry is [string, number] => isNumber(entry[1]))
    .slice(0, MAX_FIELDS);
  if (fields.length === 0) return null;
  const names = fields.map(([name]) => name).join(", ");
  return {
    caption: `${names} (${fields.length === 1 ? "field" : "fields"} of the value)`,
    tickUnit: "",
    series: new Map(fields),
  };
}

/** One short line for the card's "latest value". */
export function summarize(value: Json): string {
  if (isNumber(value)) return formatNumber(value);
  if (isPulseValue(value)) return `lag ${formatDuration(value.lagMs)}`;
  if (isUptimeValue(value)) {
    const up = value.probes.filter((probe) => probe.ok).length;
    return `${up} of ${value.probes.length} up`;
  }
  if (isEventsValue(value)) {
    const count = value.types.reduce((total, row) => total + row.count, 0);
    return `${formatNumber(count)} event${count === 1 ? "" : "s"}, ${value.types.length} type${value.types.length === 1 ? "" : "s"}`;
  }
  if (isSystemValue(value)) {
    const subscribers = value.topics.reduce((total, row) => total + row.subscribers, 0);
    return `${value.topics.length} topics, ${formatNumber(subscribers)} subscribers`;
  }
  if (typeof value === "string") return value.length > 80 ? `${value.slice(0, 79)}…` : value;
  return formatJson(value, { max: 80 });
}
