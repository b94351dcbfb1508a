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

/** The chart's numbers in this value, by series label; null when it has nothing to chart. */
export function chartPoint(value: Json): Map<string, number> | null {
  if (isNumber(value)) return new Map([["value", value]]);
  if (isPulseValue(value)) return new Map([["lag (ms)", value.lagMs]]);
  if (isUptimeValue(value) && value.probes.length > 0) {
    return new Map(value.probes.map((probe) => [`${probe.url} (ms)`, probe.latencyMs]));
  }
  return null;
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
