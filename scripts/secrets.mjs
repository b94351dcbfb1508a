#!/usr/bin/env node
/**
 * `npm run secrets`: writes .dev.vars with a fresh PUBLISH_TOKEN, SUBSCRIBE_SECRET and ADMIN_TOKEN
 * (32 random bytes each, base64url) unless it exists (adding any it lacks); `--rotate` replaces them. Local use only: production
 * secrets are set with `wrangler secret put`.
 */
import { existsSync } from "node:fs";
import { DEV_VARS, ensureDevVars } from "./lib/secrets.mjs";

const rotate = process.argv.includes("--rotate");
const existed = existsSync(DEV_VARS);
ensureDevVars({ rotate });
console.log(existed && !rotate ? `${DEV_VARS} exists; --rotate replaces its secrets.` : `Wrote ${DEV_VARS}.`);
console.log(
  "Production: npx wrangler secret put PUBLISH_TOKEN && npx wrangler secret put SUBSCRIBE_SECRET && npx wrangler secret put ADMIN_TOKEN",
);
