/** Small HTTP helpers for end-to-end tests against the local API. */

export interface JsonResponse {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies loosely and assert on them
  readonly body: any;
  readonly headers: Headers;
}

export async function postEvents(endpoint: string, key: string, events: unknown): Promise<JsonResponse> {
  const response = await fetch(`${endpoint}/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ events }),
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

export async function getSummary(
  endpoint: string,
  key: string,
  account: string,
  query: Record<string, string> = {},
): Promise<JsonResponse> {
  const search = new URLSearchParams(query).toString();
  const response = await fetch(
    `${endpoint}/accounts/${encodeURIComponent(account)}/summary${search ? `?${search}` : ''}`,
    {
      headers: { authorization: `Bearer ${key}` },
    },
  );
  return { status: response.status, body: await response.json(), headers: response.headers };
}
