export * from "./projectRules";
export * from "./stackConfig";
