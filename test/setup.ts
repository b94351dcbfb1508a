/** Runs before each workerd test file: applies migrations/ to that file's isolated local D1. */
import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
