export * from "./defaults";
export * from "./settings";
export * from "./images";
export * from "./files";
export * from "./projectFile";
export * from "./targets";
