import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** The D1 migrations, applied to each test file's isolated database by test/setup.ts. */
const TEST_MIGRATIONS = await readD1Migrations("./migrations");

/** Secrets for the workerd tests only (the tests read them back from `env`). */
const TEST_SECRETS = {
  PUBLISH_TOKEN: "test-publish-token",
  SUBSCRIBE_SECRET: "test-subscribe-secret-of-32-bytes!",
  ADMIN_TOKEN: "test-admin-token",
};

// For each test file the workers pool reads wrangler.toml through wrangler, which looks for the
// [secrets] required in .dev.vars, else in the environment, and warns when they are missing: the
// test secrets go where it looks (the bindings below are what the tests get, whatever it finds).
// The e2e servers are given theirs in an env file, with these names left out of their environment.
Object.assign(process.env, TEST_SECRETS);
// It also says "Using secrets defined in …" each time: at "warn" wrangler keeps its warnings and
// errors. The e2e project restores the caller's level for the wrangler dev servers it starts.
const CALLER_WRANGLER_LOG = process.env.WRANGLER_LOG;
process.env.WRANGLER_LOG = CALLER_WRANGLER_LOG ?? "warn";

export default defineConfig({
  test: {
    // .ci/run reads the counts from this file to print its closing "N passed, N failed" line.
    reporters: ["default", ["json", { outputFile: ".vitest/results.json" }]],
    // A passing run prints its summary and little else: logs (expected rejections, job runs) show
    // only for a failing test, and only tests slower than 5 s are listed one by one.
    silent: "passed-only",
    slowTestThreshold: 5_000,
    projects: [
      {
        // Inside workerd, against the real wrangler.toml: the Worker, the Topic object, SQLite storage.
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            // workerd's verbose log prints every failed subrequest, even one the code catches (the
            // uptime probe and the feed job against a refusing port), as an "uncaught exception …
            // Network connection lost" block. Off, a passing run stays quiet; a real failure still
            // fails its test, and its own logs show (silent: "passed-only").
            verbose: false,
            // Test-only secrets, an origin allow-list so that the Origin checks run, a subscriber
            // cap small enough to reach, no FEED_URL (nothing serves HTTP inside workerd), so the
            // feed job fails at once: the tests of the real handler assert that isolation; a probe
            // URL that refuses (wrangler.toml ships PROBE_URLS empty), so uptime records a down probe; and
            // announcements sharded over 3 objects, so every test of it runs through shards; and
            // the batching tests' topics (test/durable/batch.test.ts).
            miniflare: {
              bindings: {
                ...TEST_SECRETS,
                TEST_MIGRATIONS,
                ALLOWED_ORIGINS: "https://dash.example",
                MAX_SUBSCRIBERS: "40",
                FEED_URL: "",
                PROBE_URLS: "http://127.0.0.1:9/health",
                SHARDS: "announcements:3,burst-sharded:2",
                BATCH: "burst:2,burst-join:2,burst-evict:2,burst-inline:2,burst-sharded:2",
                // Two runs per JobRunner call, so a catch-up (missed: "all") spans several batches.
                SCHEDULE_BATCH: "2",
              },
            },
          }),
        ],
        test: { name: "workers", include: ["test/**/*.test.ts"], exclude: ["test/e2e/**"], setupFiles: ["./test/setup.ts"] },
      },
      {
        // In Node, against a real `wrangler dev` started per file.
        test: {
          name: "e2e",
          environment: "node",
          env: { WRANGLER_LOG: CALLER_WRANGLER_LOG ?? "log" },
          include: ["test/e2e/**/*.test.ts"],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
