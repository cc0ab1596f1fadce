export * from "./target";
export * from "./containers";
export * from "./mesh";
export * from "./files";
