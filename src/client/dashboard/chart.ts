/** A topic's numbers over time: a uPlot line chart of its newest points, one line per series label. */
import uPlot from "uplot";
import { formatTick } from "./format";

/** How many points a chart keeps. */
export const MAX_POINTS = 100;
const HEIGHT = 150;
const COLORS = ["#2563eb", "#c2410c", "#059669", "#9333ea", "#db2777", "#0891b2"];
const AXIS = { stroke: "#57606a", grid: { stroke: "#eef1f4", width: 1 }, ticks: { stroke: "#d0d7de", width: 1 } };

export interface ChartPoint {
  seq: number;
  /** When the value was published (epoch ms): the x axis. */
  ts: number;
  values: Map<string, number>;
}

export class TopicChart {
  readonly #container: HTMLElement;
  #points: ChartPoint[] = [];
  #labels: string[] = [];
  #plot: uPlot | null = null;

  constructor(container: HTMLElement) {
    this.#container = container;
    container.hidden = true;
    container.setAttribute("role", "img");
    // uPlot draws at a fixed width: follow the card as the grid reflows.
    new ResizeObserver(() => this.#draw()).observe(container);
  }

  /** Adds points in any order (a seq it already has is ignored), keeps the newest MAX_POINTS, redraws. */
  add(points: readonly ChartPoint[]): void {
    const known = new Set(this.#points.map((point) => point.seq));
    const fresh = points.filter((point) => !known.has(point.seq));
    if (fresh.length === 0) return;
    this.#points = [...this.#points, ...fresh].sort((a, b) => a.seq - b.seq).slice(-MAX_POINTS);
    this.#draw();
  }

  /** Forgets every point (the topic was reset). */
  clear(): void {
    this.#points = [];
    this.#draw();
  }

  #draw(): void {
    this.#container.hidden = this.#points.length === 0;
    const labels = [...new Set(this.#points.flatMap((point) => [...point.values.keys()]))];
    const width = this.#container.clientWidth;
    if (this.#points.length === 0 || width === 0 || labels.join("\n") !== this.#labels.join("\n")) {
      this.#plot?.destroy();
      this.#plot = null;
    }
    this.#labels = labels;
    this.#container.setAttribute("aria-label", `Line chart of ${labels.join(", ")}: the last ${this.#points.length} values`);
    if (this.#points.length === 0 || width === 0) return;
    const data: uPlot.AlignedData = [
      this.#points.map((point) => point.ts / 1000),
      ...labels.map((label) => this.#points.map((point) => point.values.get(label) ?? null)),
    ];
    if (this.#plot === null) {
      this.#plot = new uPlot(this.#options(width), data, this.#container);
      return;
    }
    if (this.#plot.width !== width) this.#plot.setSize({ width, height: HEIGHT });
    this.#plot.setData(data);
  }

  #options(width: number): uPlot.Options {
    return {
      width,
      height: HEIGHT,
      // Room on the right for the last time label, which uPlot centres on its tick.
      padding: [10, 32, null, null],
      // uPlot stretches one point's time axis over 1,000 days: show the minute around it instead.
      scales: { x: { time: true, range: (plot, min, max) => singlePointRange(plot) ?? [min, max] } },
      series: [
        { label: "time" },
        ...this.#labels.map((label, index) => ({
          label,
          stroke: COLORS[index % COLORS.length] ?? "#2563eb",
          width: 2,
          spanGaps: true,
          points: { size: 5 },
        })),
      ],
      axes: [
        { ...AXIS, space: 70, values: timeLabels },
        { ...AXIS, size: 52 },
      ],
      legend: { show: this.#labels.length > 1, live: false },
      cursor: { drag: { x: false, y: false } },
    };
  }
}

function singlePointRange(plot: uPlot): uPlot.Range.MinMax | null {
  const xs = plot.data[0];
  const only = xs.length === 1 ? xs[0] : undefined;
  return only === undefined ? null : [only - 30, only + 30];
}

/** One line per tick (uPlot's default adds a second line of dates that collide in a narrow card). */
function timeLabels(_plot: uPlot, splits: number[], _axis: number, _space: number, step: number): string[] {
  return splits.map((seconds) => formatTick(seconds * 1000, step * 1000));
}
