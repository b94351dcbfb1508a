/**
 * A chart's points as uPlot's aligned columns, with the gaps left open: pure, so the rule for
 * where a line breaks is in one place.
 */

export interface ChartPoint {
  seq: number;
  /** When the value was published (epoch ms): the x axis. */
  ts: number;
  values: Map<string, number>;
  /** What the lines are, with their unit; the newest point's caption is the chart's. */
  caption: string;
  /** A unit for every y-axis label ("ms"), or "". */
  tickUnit: string;
  /** The slot the run that published it was for (job topics only). */
  scheduledTime?: number;
  /** When that run said the next one was due (job topics only). */
  nextExpectedAt?: number;
}

/**
 * Whether at least one run is missing between `previous` and `point`: `point`'s slot is later
 * than the one `previous` said comes next (an outage, failed runs, or slots a late alarm skipped).
 * Points published without a job carry no schedule, so nothing is missing between them.
 */
export function isAfterGap(previous: ChartPoint, point: ChartPoint): boolean {
  return (
    previous.nextExpectedAt !== undefined && point.scheduledTime !== undefined && point.scheduledTime > previous.nextExpectedAt
  );
}

export interface ChartColumns {
  /** x in seconds, then one column per label; null where a series has no value or a gap is. */
  data: [number[], ...(number | null)[][]];
  gaps: number;
}

/**
 * `points` (sorted by seq) as columns for `labels`. Each gap gets a row of nulls half-way between
 * its two points, and uPlot (with `spanGaps: false`) ends the line there.
 */
export function toColumns(points: readonly ChartPoint[], labels: readonly string[]): ChartColumns {
  const xs: number[] = [];
  const columns = labels.map((label) => ({ label, ys: [] as (number | null)[] }));
  let gaps = 0;
  let previous: ChartPoint | undefined;
  for (const point of points) {
    if (previous !== undefined && isAfterGap(previous, point)) {
      gaps++;
      xs.push((previous.ts + point.ts) / 2 / 1000);
      for (const column of columns) column.ys.push(null);
    }
    xs.push(point.ts / 1000);
    for (const column of columns) column.ys.push(point.values.get(column.label) ?? null);
    previous = point;
  }
  return { data: [xs, ...columns.map((column) => column.ys)], gaps };
}
