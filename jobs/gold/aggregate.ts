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
  constructor(
    private sum = 0,
    private compensation = 0,
  ) {}
  get state(): [number, number] {
    return [this.sum, this.compensation];
  }
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

/** What gold keeps between runs to add new silver rows to the statistics exactly (JSON-safe). */
export interface GoldState {
  readonly types: Record<
    string,
    {
      events: number;
      battery: [number, number];
      latitude: [number, number];
      longitude: [number, number];
      minBattery: number;
      maxBattery: number;
      firstEventAt: number;
      lastEventAt: number;
    }
  >;
  /** Per type, the distinct vehicle ids seen. */
  readonly vehicles: Record<string, string[]>;
}

/** Per-type statistics of silver; memory grows with types and vehicles, never with events. */
export class GoldAggregator {
  private readonly byType = new Map<string, TypeStats>();

  /** Resumes from a state saved by `state()`: adding the rest of silver gives what adding all of it would. */
  static from(state: GoldState): GoldAggregator {
    const aggregator = new GoldAggregator();
    for (const [type, t] of Object.entries(state.types)) {
      aggregator.byType.set(type, {
        events: t.events,
        vehicles: new Set(state.vehicles[type] ?? []),
        battery: new CompensatedSum(...t.battery),
        latitude: new CompensatedSum(...t.latitude),
        longitude: new CompensatedSum(...t.longitude),
        minBattery: t.minBattery,
        maxBattery: t.maxBattery,
        firstEventAt: t.firstEventAt,
        lastEventAt: t.lastEventAt,
      });
    }
    return aggregator;
  }

  state(): GoldState {
    const types: GoldState['types'] = {};
    const vehicles: GoldState['vehicles'] = {};
    for (const [type, s] of this.byType) {
      types[type] = {
        events: s.events,
        battery: s.battery.state,
        latitude: s.latitude.state,
        longitude: s.longitude.state,
        minBattery: s.minBattery,
        maxBattery: s.maxBattery,
        firstEventAt: s.firstEventAt,
        lastEventAt: s.lastEventAt,
      };
      vehicles[type] = [...s.vehicles];
    }
    return { types, vehicles };
  }

  add(e: SilverFacts): void {
    let s = this.byType.get(e.type);
    if (!s) {
      s = {
        events: 0,
        vehicles: new Set(),
        battery: new CompensatedSum(),
        minBattery: Infinity,
        maxBattery: -Infinity,
        latitude: new CompensatedSum(),
        longitude: new CompensatedSum(),
        firstEventAt: Infinity,
        lastEventAt: -Infinity,
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
