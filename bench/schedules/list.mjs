/**
 * Phase 2, listing at N: the first page (`GET /schedules?limit=200`) `firstPages` times, then a
 * full walk through the cursor, `walks` times: each page's round trip, each walk's total, and
 * whether the walk saw every schedule once.
 */
import { summarize } from "../lib/stats.mjs";
import { callOk } from "./api.mjs";

/**
 * @param {{ base: string, options: any, log: (message: string) => void }} bench
 */
export async function runLists({ base, options, log }) {
  const { pageSize: limit, firstPages, walks, schedules: expected } = options;
  const first = [];
  for (let k = 0; k < firstPages; k++) first.push((await callOk(base, "GET", `/schedules?limit=${limit}`)).ms);
  const pageMs = [];
  const walkS = [];
  const walkProblems = [];
  for (let w = 0; w < walks; w++) {
    const started = performance.now();
    const seen = new Set();
    let duplicates = 0;
    let pages = 0;
    for (let cursor = null; ; ) {
      const query = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`;
      const answer = await callOk(base, "GET", `/schedules?limit=${limit}${query}`);
      pageMs.push(answer.ms);
      pages++;
      for (const schedule of answer.json.schedules) {
        if (seen.has(schedule.id)) duplicates++;
        seen.add(schedule.id);
      }
      cursor = answer.json.cursor;
      if (cursor === null) break;
    }
    walkS.push((performance.now() - started) / 1000);
    if (seen.size !== expected || duplicates > 0)
      walkProblems.push(`walk ${w + 1}: ${seen.size} of ${expected} schedules, ${duplicates} seen twice`);
    log(`walk ${w + 1}: ${pages} pages, ${seen.size} schedules in ${walkS.at(-1)?.toFixed(1)} s`);
  }
  return {
    limit,
    firstPageMs: summarize(first, 1),
    pageMs: summarize(pageMs, 1),
    pagesPerWalk: walks > 0 ? pageMs.length / walks : 0,
    walkS: summarize(walkS, 2),
    walkProblems,
    ok: walkProblems.length === 0,
  };
}
