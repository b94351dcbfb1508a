/**
 * One clock for every relative time on the page ("3 s ago", "in 42 s"): a setTimeout that
 * re-arms itself just after each whole second, so all of them change together. (A timeout, not
 * setInterval: it cannot pile up behind a busy tab, and it never drifts off the second.)
 */
type Tick = (now: number) => void;

const ticks = new Set<Tick>();
let timer: ReturnType<typeof setTimeout> | undefined;

function run(): void {
  const now = Date.now();
  for (const tick of ticks) tick(now);
  timer = ticks.size === 0 ? undefined : setTimeout(run, 1_000 - (now % 1_000) + 5);
}

/** Calls `tick` now and at every second from here on; returns a function that stops it. */
export function everySecond(tick: Tick): () => void {
  ticks.add(tick);
  tick(Date.now());
  if (timer === undefined) timer = setTimeout(run, 1_000 - (Date.now() % 1_000) + 5);
  return () => {
    ticks.delete(tick);
  };
}
