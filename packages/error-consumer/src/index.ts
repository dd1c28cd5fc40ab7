export * from "./api.js";
export * from "./config.js";
export * from "./deps.js";
export * from "./errors.js";
export * from "./http.js";
export * from "./http-server.js";
export * from "./sign-request.js";
export * from "./signing-proxy.js";
