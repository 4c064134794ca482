import type { eventRules } from './rules.ts';

type FieldRule = (typeof eventRules.fields)[number];

/**
 * An event that passed silver's rules: the rules' fields, each a string or a number as its type
 * says. On the topic it is a JSON object keyed by vehicleId, as the replaced system's producer sent it.
 */
export type VehicleEvent = { [F in FieldRule as F['name']]: F['type'] extends 'string' ? string : number };

/** The vehicle types the producer's fleets send: silver accepts them by default (LAKEHOUSE_VEHICLE_TYPES). */
export const producedTypes = ['car', 'bike', 'scooter'] as const;
export type ProducedType = (typeof producedTypes)[number];

/** An event as the producer sends it when valid. */
export type ProducedEvent = VehicleEvent & { type: ProducedType };
