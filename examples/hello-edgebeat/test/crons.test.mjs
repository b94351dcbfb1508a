// Keeps wrangler.toml's crons equal to the jobs' schedules, with edgebeat/testing, in plain Node
// (which strips the job file's types itself).
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { assertCronsMatchJobs } from "edgebeat/testing";
import { jobs } from "../src/jobs.ts";

test("wrangler.toml lists exactly the jobs' schedules", () => {
  assertCronsMatchJobs(jobs, readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8"));
});
