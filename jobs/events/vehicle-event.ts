/** The event on the topic, as the producer of the replaced system sent it (key = vehicleId). */
export interface VehicleEvent {
  vehicleId: string;
  type: VehicleType;
  latitude: number;
  longitude: number;
  battery: number;
  timestamp: number;
}

export const vehicleTypes = ['car', 'bike', 'scooter'] as const;
export type VehicleType = (typeof vehicleTypes)[number];

export function isVehicleType(value: string): value is VehicleType {
  return (vehicleTypes as readonly string[]).includes(value);
}
