// A request that never reached its server: the connection was refused or had no route, or the
// name did not resolve for now. Nothing was sent, so trying again is safe even for a commit or a
// create-if-absent. New pods meet this in their first moments (a NetworkPolicy enforcer that has not
// yet learned the pod's address refuses its connections), as do clients of a store restarting.
const UNREACHED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** Whether `error`, thrown by fetch, says the request was never sent. */
export function isUnreached(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    if (UNREACHED.has((e as { code?: string }).code ?? '')) return true;
    for (const inner of (e as { errors?: unknown[] }).errors ?? []) if (isUnreached(inner)) return true;
  }
  return false;
}

/** How long `fetchReaching` keeps trying: 0.25 s doubling, about 8 s in all. */
export const UNREACHED_RETRY = { attempts: 6, firstDelayMs: 250 } as const;

/** `send()`, tried again while its request does not reach the server; any other outcome is returned or thrown as it is. */
export async function untilReached<T>(
  send: () => Promise<T>,
  retry: { readonly attempts: number; readonly firstDelayMs: number } = UNREACHED_RETRY,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= retry.attempts || !isUnreached(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, retry.firstDelayMs * 2 ** (attempt - 1)));
    }
  }
}
