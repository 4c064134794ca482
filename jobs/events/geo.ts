/** Where the synthetic fleets drive: the replaced system's sample messages were from Paris. */
export const paris = { latitude: 48.8566, longitude: 2.3522 };

/** Metres per degree of latitude (and of longitude at the equator). */
export const METRES_PER_DEGREE = 111_320;

export function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

export function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Distance in metres between two nearby points (equirectangular; exact enough within a city). */
export function metresBetween(
  a: { latitude: number; longitude: number },
  b: { latitude: number; longitude: number },
): number {
  const north = (b.latitude - a.latitude) * METRES_PER_DEGREE;
  const east =
    (b.longitude - a.longitude) * METRES_PER_DEGREE * Math.cos((((a.latitude + b.latitude) / 2) * Math.PI) / 180);
  return Math.hypot(north, east);
}
