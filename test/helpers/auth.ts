/** Test credentials: the same secrets vitest.config.ts binds, and a JWT minter for subscribe tokens. */
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";

export const publishHeaders = (token = env.PUBLISH_TOKEN): Record<string, string> => ({
  Authorization: `Bearer ${token}`,
  "Content-Type": "application/json",
});

/** Signs an HS256 subscribe token; `exp` is seconds from now (negative: already expired), null for none. */
export async function subscribeToken(
  claims: Record<string, unknown>,
  { exp = 300, secret = env.SUBSCRIBE_SECRET }: { exp?: number | null; secret?: string } = {},
): Promise<string> {
  const jwt = new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).setIssuedAt();
  if (exp !== null) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + exp);
  return jwt.sign(new TextEncoder().encode(secret));
}
