export * from "./labels";
export * from "./manifest";
export * from "./objects";
export * from "./mesh";
export * from "./pod";
export * from "./secrets";
export * from "./placeholders";
