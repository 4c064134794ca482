/**
 * Paces work at `perSecond` on a monotonic clock: tokens accrue with the time that really passed
 * (not with timer ticks, which run late), so the rate does not drift however long it runs. At most
 * `capacity` tokens are kept, so after a stall (Kafka away) at most that much is caught up at once.
 */
export interface TokenBucket {
  /** Takes every whole token there is, at most `max`; returns how many. */
  take(max: number): number;
  /** Milliseconds until the next whole token. */
  msUntilNext(): number;
}

export function tokenBucket(
  perSecond: number,
  capacity: number,
  now: () => number = () => performance.now(),
): TokenBucket {
  let tokens = 0;
  let last = now();
  const refill = () => {
    const t = now();
    tokens = Math.min(capacity, tokens + ((t - last) * perSecond) / 1000);
    last = t;
  };
  return {
    take(max) {
      refill();
      const taken = Math.min(max, Math.floor(tokens));
      tokens -= taken;
      return taken;
    },
    msUntilNext() {
      refill();
      return tokens >= 1 ? 0 : ((1 - tokens) * 1000) / perSecond;
    },
  };
}
