/** Types of transpileCache.js (plain CommonJS, as it runs before any TypeScript can). */
export declare const CACHE_DIR_ENV: "ENVOY_MESH_TS_CACHE_DIR";
export declare function defaultCacheDir(): string;
export interface TranspilerOptions {
  readonly cacheDir?: string;
  readonly tsconfigPath?: string;
  /** The compiler; TypeScript's transpileModule by default. */
  readonly transpile?: (source: string, fileName: string, compilerOptions: Record<string, unknown>) => string;
}
export interface Transpiler {
  /** JavaScript for one TypeScript file, from the cache when the same file, text, options and compiler were transpiled before. */
  compile(fileName: string, source: string): string;
  readonly stats: { hits: number; misses: number };
  readonly cacheDir: string;
}
export declare function createTranspiler(options?: TranspilerOptions): Transpiler;
