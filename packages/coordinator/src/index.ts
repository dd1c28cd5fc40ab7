export * from "./clients.js";
export * from "./config.js";
export * from "./errors.js";
export * from "./list-order.js";
export * from "./parse-event.js";
export * from "./plan-order.js";
