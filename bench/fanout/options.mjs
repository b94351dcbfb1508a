/** The fan-out bench's command line, checked, and the limits every phase measures against. */
import { benchArgs } from "../lib/run.mjs";

export const TOPIC = "announcements";
/** The commit before `compatibility_flags = ["no_web_socket_compression"]`: the hot path's "before". */
export const BEFORE_DEFAULT = "578e229";
/** Sockets that do not say hello within this are failures. */
export const OPEN_TIMEOUT_MS = 15_000;
/** A publish not at every subscriber this long after its trigger is given up on (and shows as lost). */
export const COMPLETE_TIMEOUT_MS = 10_000;
/** Publishes with no subscriber, before each phase: the publish path without the sends. */
export const IDLE_PUBLISHES = 10;
/** The sustained probe never has more POSTs than this in flight (it falls behind instead). */
export const MAX_IN_FLIGHT = 64;
/** What a rate must do to hold. */
export const HOLD_FANOUT_P99_MS = 100;

const USAGE = `Usage: npm run bench -- [options]

  --sizes LIST          subscriber counts (default 100,1000,5000)
  --publishes K         publishes measured per N and target (default 20), after --warmup
  --warmup W            publishes before those, reported apart (default 1: the first broadcast
                        to fresh sockets allocates their buffers)
  --spacing-ms MS       at least this long from one publish to the next, and never before every
                        subscriber has the previous one (default 500)
  --proxy-cap N         most sockets through wrangler's proxy (default 4500; it dies near 5,000)
  --deflate-n N         subscribers for the memory comparison with and without permessage-deflate
                        (the ceiling with it, and --before's build; default 1000; 0 skips it)
  --before REF          the build before the hot-path change (default ${BEFORE_DEFAULT}: the last commit
                        that let workerd accept permessage-deflate), measured direct at --deflate-n
                        and at the largest of --sizes, and in the sustained probe ("" skips it)
  --batch-rate R        one more sustained probe on a topic that coalesces publishes above R per
                        second into batch frames (BATCH = "${TOPIC}:R"; default 25; 0 skips it), at the
                        rates of --rates from the first the probe without BATCH could not hold
  --shards LIST         shard counts measured direct at the largest of --sizes, besides 1
                        (default 2,4; "" skips them)
  --sustained-n N       subscribers of the sustained-rate probe, direct (default 1000; 0 skips it)
  --rates LIST          publishes per second, tried in order until one does not hold (default
                        20,30,40,60,80,120,160,240,320: steps of 1.5× or less; if the first
                        does not hold, half of it, then a quarter)
  --step-s S            seconds per rate (default 15)
  --profile-n N         one more direct phase of N subscribers with \`perf record\` on the user
                        runtime during its publishes (default: the largest of --sizes; 0 skips
                        it; skipped with a note when perf is missing or not allowed)
  --ref REF             measure the files of a commit (git archive REF) instead of the working
                        tree, e.g. --ref HEAD while others have uncommitted edits
  --batch N             sockets opened at once (default 100)
  --deadline-s S        hard deadline for the whole run; exit 2 when hit (default 1200)
  --render-only         only rewrite bench/results/fanout.md and its docs/performance.md tables from the .json

Exit 0 when every subscriber got every publish exactly once, 1 when not, 2 on the deadline.`;

/**
 * @typedef {ReturnType<typeof parseOptions>} Options
 */

/**
 * Parses and checks the command line; exits 64 on a bad value. `--render-only` calls `renderOnly`.
 * @param {() => void} renderOnly
 */
export function parseOptions(renderOnly) {
  const args = benchArgs(
    USAGE,
    {
      sizes: { type: "string", default: "100,1000,5000" },
      publishes: { type: "string", default: "20" },
      warmup: { type: "string", default: "1" },
      "spacing-ms": { type: "string", default: "500" },
      "proxy-cap": { type: "string", default: "4500" },
      "deflate-n": { type: "string", default: "1000" },
      before: { type: "string", default: BEFORE_DEFAULT },
      shards: { type: "string", default: "2,4" },
      "batch-rate": { type: "string", default: "25" },
      "sustained-n": { type: "string", default: "1000" },
      rates: { type: "string", default: "20,30,40,60,80,120,160,240,320" },
      "step-s": { type: "string", default: "15" },
      batch: { type: "string", default: "100" },
      "profile-n": { type: "string", default: "" },
      ref: { type: "string" },
      "deadline-s": { type: "string", default: "1200" },
    },
    renderOnly,
  );
  const list = (/** @type {string} */ text) => (text.trim() === "" ? [] : text.split(",").map((x) => Number(x.trim())));
  const sizes = list(args.sizes);
  const options = {
    sizes,
    largest: Math.max(...sizes),
    rates: list(args.rates),
    publishes: Number(args.publishes),
    warmup: Number(args.warmup),
    spacingMs: Number(args["spacing-ms"]),
    proxyCap: Number(args["proxy-cap"]),
    deflateN: Number(args["deflate-n"]),
    sustainedN: Number(args["sustained-n"]),
    stepSeconds: Number(args["step-s"]),
    batch: Number(args.batch),
    profileN: args["profile-n"] === "" ? Math.max(...sizes) : Number(args["profile-n"]),
    ref: args.ref,
    before: args.before === "" ? undefined : args.before,
    shards: list(args.shards),
    batchRate: Number(args["batch-rate"]),
    deadlineMs: Number(args["deadline-s"]) * 1000,
  };
  check(options);
  return options;
}

/** @param {any} o */
function check(o) {
  /** @param {string} message */
  const fail = (message) => {
    console.error(`${message}\n\n${USAGE}`);
    process.exit(64);
  };
  const positive = [...o.sizes, o.publishes, o.batch, o.stepSeconds, o.deadlineMs, ...o.rates, ...o.shards];
  const nonNegative = [o.warmup, o.spacingMs, o.deflateN, o.sustainedN, o.proxyCap, o.profileN, o.batchRate];
  if (!positive.every((x) => Number.isFinite(x) && x > 0) || !nonNegative.every((x) => Number.isInteger(x) && x >= 0))
    fail("bad option value");
  if (o.sizes.length === 0 || !o.shards.every((/** @type {number} */ k) => Number.isInteger(k) && k >= 2 && k <= 64))
    fail("--sizes needs at least one size, and --shards counts from 2 to 64 (SHARDS' range)");
  if (o.proxyCap > 4500) fail("--proxy-cap above 4500: wrangler dev's proxy runs out of file descriptors near 5,000 sockets");
  if (Math.max(...o.sizes, o.deflateN, o.sustainedN, o.profileN) > 8000)
    fail("at most 8,000 subscribers: the user runtime needs ~2 fds per socket under the 20,000-file limit");
}
