export * from "./target";
export * from "./containers";
export * from "./mesh";
