#!/usr/bin/env node
/**
 * `npm run token -- --topic ops [--topic other] [--ttl 3600]`: prints a subscribe token (HS256 JWT
 * with `topics` and `exp`) signed with SUBSCRIBE_SECRET from the environment or .dev.vars.
 */
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { readDevVars } from "./lib/secrets.mjs";

const { values } = parseArgs({
  options: { topic: { type: "string", multiple: true }, ttl: { type: "string", default: "3600" }, help: { type: "boolean" } },
});
if (values.help || !values.topic?.length) {
  console.log("usage: npm run token -- --topic NAME [--topic NAME …] [--ttl SECONDS]");
  process.exit(values.help ? 0 : 2);
}
const secret = process.env.SUBSCRIBE_SECRET ?? readDevVars().SUBSCRIBE_SECRET;
if (!secret) {
  console.error("No SUBSCRIBE_SECRET in the environment or .dev.vars: run `npm run secrets` first.");
  process.exit(1);
}
const ttl = Number(values.ttl);
if (!Number.isSafeInteger(ttl) || ttl < 1) {
  console.error(`--ttl must be a whole number of seconds, got "${values.ttl}"`);
  process.exit(2);
}
const token = await new SignJWT({ topics: values.topic })
  .setProtectedHeader({ alg: "HS256" })
  .setIssuedAt()
  .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
  .sign(new TextEncoder().encode(secret));
console.log(token);
