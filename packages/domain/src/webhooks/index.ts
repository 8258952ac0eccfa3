export * from "./delivery-schedule.ts";
export * from "./outbound-address.ts";
