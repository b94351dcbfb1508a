#!/usr/bin/env node
/**
 * `npm run build`: bundles the dashboard (src/client/dashboard/main.ts, with uPlot and its CSS)
 * into public/build/, which wrangler serves as static assets. wrangler.toml `[build]` runs it
 * before `wrangler dev`, `wrangler deploy` and `deploy --dry-run`, and again on changes under
 * src/client while `wrangler dev` runs.
 *
 * No source maps unless asked for (`DASHBOARD_SOURCEMAP=1 npm run build`): public/ is uploaded as
 * public assets by `wrangler deploy`, so a map would publish the dashboard's sources.
 *
 * Reproducible: the same sources give the same bytes (no timestamps). A file is written only when
 * its bytes change, through a temporary file and a rename, because several `wrangler dev`s (one per
 * end-to-end test file) run this at once and each serves public/ while the others build.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const OUT_DIR = path.join(ROOT, "public", "build");
const SOURCEMAP = process.env.DASHBOARD_SOURCEMAP === "1";

const result = await build({
  absWorkingDir: ROOT,
  entryPoints: {
    dashboard: "src/client/dashboard/main.ts",
    uplot: "node_modules/uplot/dist/uPlot.min.css",
  },
  outdir: OUT_DIR,
  bundle: true,
  format: "esm",
  target: "es2022",
  platform: "browser",
  minify: true,
  sourcemap: SOURCEMAP,
  // uPlot's copyright line is not a "legal comment" esbuild would keep, so say it here.
  banner: { js: "/*! Bundles uPlot (MIT), (c) Leon Sorokin, https://github.com/leeoniya/uPlot */" },
  logLevel: "warning",
  write: false,
});

let written = 0;
for (const file of result.outputFiles) {
  if (existsSync(file.path) && Buffer.compare(readFileSync(file.path), file.contents) === 0) continue;
  mkdirSync(path.dirname(file.path), { recursive: true });
  const temporary = `${file.path}.${process.pid}.tmp`;
  writeFileSync(temporary, file.contents);
  renameSync(temporary, file.path);
  written++;
}
// A map left by an earlier build that asked for one would still be uploaded.
if (!SOURCEMAP && existsSync(OUT_DIR)) {
  for (const name of readdirSync(OUT_DIR).filter((file) => file.endsWith(".map")))
    rmSync(path.join(OUT_DIR, name), { force: true });
}
const files = result.outputFiles.map((file) => path.relative(ROOT, file.path)).join(", ");
console.log(`build-client (node ${process.version}): ${written === 0 ? "unchanged" : `wrote ${written} of`} ${files}`);
