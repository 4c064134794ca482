/**
 * An object's bytes read through a few large ranged reads. A Parquet reader asks for one column
 * chunk, page header or footer after another, each a few kilobytes; on object storage each would be
 * a request of its own (about 5 ms on loopback, more over a network). Here a slice outside the
 * windows held fetches a whole window from where it starts (longer when the slice is), and the
 * slices after it are served from memory. At most `windows` windows are held per object, so the
 * memory an open object costs is bounded; a slice being fetched is shared by the slices that fall
 * inside it while it is in flight.
 */
export interface WindowOptions {
  /** Bytes fetched at least per request. */
  readonly windowBytes: number;
  /** Windows kept per object (the most recently used). */
  readonly windows: number;
}

export const defaultWindows: WindowOptions = { windowBytes: 8 << 20, windows: 2 };

interface Window {
  readonly start: number;
  readonly end: number;
  readonly bytes: Promise<ArrayBuffer>;
}

/** `slice(start, end)` over an object of `byteLength` bytes whose ranges `fetchRange(start, end)` reads (end exclusive). */
export function windowedSlices(
  byteLength: number,
  fetchRange: (start: number, end: number) => Promise<ArrayBuffer>,
  { windowBytes, windows }: WindowOptions = defaultWindows,
): (start: number, end?: number) => Promise<ArrayBuffer> {
  const held: Window[] = [];
  return async (start, end = byteLength) => {
    const to = Math.min(end, byteLength);
    if (to <= start) return new ArrayBuffer(0);
    let index = held.findIndex((w) => w.start <= start && to <= w.end);
    if (index < 0) {
      const windowEnd = Math.min(byteLength, Math.max(to, start + windowBytes));
      held.unshift({ start, end: windowEnd, bytes: fetchRange(start, windowEnd) });
      held.length = Math.min(held.length, windows);
      index = 0;
    }
    const window = held[index];
    held.splice(index, 1);
    held.unshift(window);
    try {
      return (await window.bytes).slice(start - window.start, to - window.start);
    } catch (error) {
      // A failed read is not kept: the next slice asks again.
      const failed = held.indexOf(window);
      if (failed >= 0) held.splice(failed, 1);
      throw error;
    }
  };
}
