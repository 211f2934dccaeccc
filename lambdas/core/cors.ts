/**
 * Browser access. Only publishable keys may be used from a web page, and only from the origins
 * registered on the key. A secret key seen with an Origin header is refused: it has leaked into a
 * browser. Preflights carry no key, so they are answered for any origin; the real request is then
 * checked against its key (a preflight reveals nothing).
 */
import type { AuthContext } from './tenants';

export type CorsVerdict =
  | { readonly allowed: true; readonly headers: Readonly<Record<string, string>> }
  | { readonly allowed: false; readonly reason: string };

const EXPOSED = 'x-request-id, retry-after';

export function corsVerdict(auth: AuthContext, origin: string | undefined): CorsVerdict {
  if (origin === undefined || origin === '') return { allowed: true, headers: {} };
  if (auth.keyKind === 'secret') {
    return { allowed: false, reason: 'Secret keys must not be used from a browser; use a publishable key.' };
  }
  if (!auth.allowedOrigins.includes(origin)) {
    return { allowed: false, reason: `Origin ${origin} is not allowed for this key.` };
  }
  return {
    allowed: true,
    headers: {
      'access-control-allow-origin': origin,
      vary: 'Origin',
      'access-control-expose-headers': EXPOSED,
    },
  };
}

export function preflightHeaders(origin: string | undefined): Record<string, string> {
  return {
    'access-control-allow-origin': origin || '*',
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': 'authorization, content-type',
    'access-control-max-age': '600',
    vary: 'Origin',
  };
}
