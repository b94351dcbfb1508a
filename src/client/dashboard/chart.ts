/**
 * A topic's numbers over time: a caption that names what is charted and its unit, and a uPlot
 * line chart of the newest points, one line per series label, broken where runs are missing.
 */
import uPlot from "uplot";
import { type ChartPoint, toColumns } from "./chart-data";
import { h } from "./dom";
import { formatNumber, formatTick } from "./format";

/** How many points a chart keeps. */
export const MAX_POINTS = 100;
const HEIGHT = 150;
const COLORS = ["#2563eb", "#c2410c", "#059669", "#9333ea", "#db2777", "#0891b2"];
const FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const TICK_SIZE = 6;
const TICK_GAP = 4;
const AXIS = {
  stroke: "#57606a",
  font: FONT,
  gap: TICK_GAP,
  grid: { stroke: "#eef1f4", width: 1 },
  ticks: { stroke: "#d0d7de", width: 1, size: TICK_SIZE },
};

export class TopicChart {
  readonly #container: HTMLElement;
  readonly #caption = h("p", { class: "chart-caption" });
  readonly #box = h("div", { class: "plot" });
  #points: ChartPoint[] = [];
  #labels: string[] = [];
  #tickUnit = "";
  #plot: uPlot | null = null;

  constructor(container: HTMLElement) {
    this.#container = container;
    container.hidden = true;
    container.setAttribute("role", "img");
    container.append(this.#caption, this.#box);
    // uPlot draws at a fixed width: follow the card as the grid reflows.
    new ResizeObserver(() => this.#draw()).observe(this.#box);
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
    const newest = this.#points.at(-1);
    this.#container.hidden = newest === undefined;
    const labels = [...new Set(this.#points.flatMap((point) => [...point.values.keys()]))];
    const width = this.#box.clientWidth;
    if (newest === undefined || width === 0 || labels.join("\n") !== this.#labels.join("\n")) {
      this.#plot?.destroy();
      this.#plot = null;
    }
    this.#labels = labels;
    if (newest === undefined) return;
    const { data, gaps } = toColumns(this.#points, labels);
    this.#caption.textContent = newest.caption;
    this.#tickUnit = newest.tickUnit;
    const count = this.#points.length === 1 ? "value" : `${this.#points.length} values`;
    const gapText = gaps === 0 ? "" : `, broken at ${gaps} gap${gaps === 1 ? "" : "s"} where runs are missing`;
    this.#container.setAttribute("aria-label", `Line chart of ${newest.caption}: the last ${count}${gapText}`);
    this.#container.dataset.gaps = String(gaps);
    if (width === 0) return;
    if (this.#plot === null) {
      this.#plot = new uPlot(this.#options(width), data, this.#box);
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
          // A null is a missing run (chart-data.ts): the line stops there instead of bridging it.
          spanGaps: false,
          points: { size: 5 },
        })),
      ],
      axes: [
        { ...AXIS, space: 70, values: timeLabels },
        { ...AXIS, size: fitLabels, values: (_plot, splits) => splits.map((value) => this.#valueLabel(value)) },
      ],
      legend: { show: this.#labels.length > 1, live: false },
      cursor: { drag: { x: false, y: false } },
    };
  }

  #valueLabel(value: number): string {
    return this.#tickUnit === "" ? formatNumber(value) : `${formatNumber(value)} ${this.#tickUnit}`;
  }
}

const measure = document.createElement("canvas").getContext("2d");

/** The y axis as wide as its widest label (a fixed size cut "62,400" to "2,400"). uPlot asks again as labels change. */
function fitLabels(_plot: uPlot, values: string[] | null): number {
  if (measure !== null) measure.font = FONT;
  let widest = 0;
  for (const label of values ?? []) widest = Math.max(widest, measure?.measureText(label).width ?? label.length * 8);
  return Math.ceil(widest) + TICK_SIZE + TICK_GAP + 4;
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
