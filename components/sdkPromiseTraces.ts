/**
 * The Pulumi SDK records `new Error().stack` on every promise it makes (debuggablePromise in
 * @pulumi/pulumi runtime/debuggable.js), thousands per deployment. Under ts-node every such trace
 * is formatted and mapped frame by frame through source maps: for a mesh of 300 services that was
 * more than half of the program's time. The SDK reads that trace (`_debugStackTrace`) in one place
 * only, promiseDebugString, which it calls only when PULUMI_DEBUG_PROMISE_LEAKS is set (its
 * `debugPromiseLeaks`, read once when the module loads). So, unless that variable is set, the
 * traces are taken empty: the leak detector still counts and reports leaked promises, and with
 * the variable set every trace is kept as before, for leak debugging.
 *
 * Resource source positions (Resource.callsites in @pulumi/pulumi resource.js) are another stack
 * per resource, but the engine shows them to users, so they stay.
 */

/** The part of @pulumi/pulumi runtime/debuggable.js this touches. */
export interface DebuggableModule {
  /** `!!process.env.PULUMI_DEBUG_PROMISE_LEAKS`, as the SDK read it when it loaded. */
  readonly debugPromiseLeaks: boolean;
  debuggablePromise<T>(promise: Promise<T>, ctx: unknown): Promise<T>;
}

const WRAPPED = Symbol.for("envoy-mesh.sdkPromiseTracesEmpty");

function sdkDebuggable(): DebuggableModule {
  // The SDK's callers reach debuggablePromise through this module's exports object at each call
  // (`debuggable_1.debuggablePromise(...)`), so replacing the export reaches every one of them.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("@pulumi/pulumi/runtime/debuggable") as DebuggableModule;
}

/**
 * Takes the SDK's per-promise stack traces empty unless PULUMI_DEBUG_PROMISE_LEAKS is set.
 * Returns whether they are now empty. Applying it again changes nothing.
 */
export function skipSdkPromiseTraces(debuggable: DebuggableModule = sdkDebuggable()): boolean {
  if (debuggable.debugPromiseLeaks) return false;
  const current = debuggable.debuggablePromise as DebuggableModule["debuggablePromise"] & { [WRAPPED]?: true };
  if (current[WRAPPED]) return true;
  const withoutStack = Object.assign(
    <T>(promise: Promise<T>, ctx: unknown): Promise<T> => {
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        return current(promise, ctx);
      } finally {
        Error.stackTraceLimit = limit;
      }
    },
    { [WRAPPED]: true as const },
  );
  (debuggable as { debuggablePromise: DebuggableModule["debuggablePromise"] }).debuggablePromise = withoutStack;
  return true;
}
