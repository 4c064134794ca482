import type { GoldRow } from '../lake/table-schema.ts';

export interface SilverFacts {
  readonly vehicleId: string;
  readonly type: string;
  readonly battery: number;
  readonly latitude: number;
  readonly longitude: number;
  readonly eventTime: number;
}

/** Neumaier summation: the averages do not depend on how many events there are or their order. */
class CompensatedSum {
  private sum = 0;
  private compensation = 0;
  add(value: number): void {
    const t = this.sum + value;
    this.compensation += Math.abs(this.sum) >= Math.abs(value) ? this.sum - t + value : value - t + this.sum;
    this.sum = t;
  }
  get value(): number {
    return this.sum + this.compensation;
  }
}

interface TypeStats {
  events: number;
  readonly vehicles: Set<string>;
  readonly battery: CompensatedSum;
  minBattery: number;
  maxBattery: number;
  readonly latitude: CompensatedSum;
  readonly longitude: CompensatedSum;
  firstEventAt: number;
  lastEventAt: number;
}

/** Per-type statistics of silver; memory grows with types and vehicles, never with events. */
export class GoldAggregator {
  private readonly byType = new Map<string, TypeStats>();

  add(e: SilverFacts): void {
    let s = this.byType.get(e.type);
    if (!s) {
      s = {
        events: 0, vehicles: new Set(), battery: new CompensatedSum(), minBattery: Infinity, maxBattery: -Infinity,
        latitude: new CompensatedSum(), longitude: new CompensatedSum(), firstEventAt: Infinity, lastEventAt: -Infinity,
      };
      this.byType.set(e.type, s);
    }
    s.events++;
    s.vehicles.add(e.vehicleId);
    s.battery.add(e.battery);
    s.latitude.add(e.latitude);
    s.longitude.add(e.longitude);
    if (e.battery < s.minBattery) s.minBattery = e.battery;
    if (e.battery > s.maxBattery) s.maxBattery = e.battery;
    if (e.eventTime < s.firstEventAt) s.firstEventAt = e.eventTime;
    if (e.eventTime > s.lastEventAt) s.lastEventAt = e.eventTime;
  }

  /** One row per type present, sorted by type. */
  rows(computedAt: number): GoldRow[] {
    return [...this.byType.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([type, s]) => ({
        type,
        event_count: s.events,
        vehicle_count: s.vehicles.size,
        avg_battery: s.battery.value / s.events,
        min_battery: s.minBattery,
        max_battery: s.maxBattery,
        avg_latitude: s.latitude.value / s.events,
        avg_longitude: s.longitude.value / s.events,
        first_event_at: s.firstEventAt,
        last_event_at: s.lastEventAt,
        computed_at: computedAt,
      }));
  }
}
