/**
 * The SDK records `new Error().stack` on every promise it makes (debuggablePromise in
 * @pulumi/pulumi runtime/debuggable.js), only to name promises still pending at exit. Under
 * ts-node every such trace is mapped frame by frame through source maps, which was most of a mock
 * deployment's time. This takes those traces empty; the SDK's own bookkeeping is unchanged. The
 * module calls it through its exports object, so this reaches every caller. For the unit tests
 * and the benchmark's labelled "stack traces off" figures only: a real program is left as it is.
 */
export function takeSdkPromiseTracesEmpty(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const debuggable = require("@pulumi/pulumi/runtime/debuggable") as { debuggablePromise: <T>(p: Promise<T>, ctx: unknown) => Promise<T> };
  const captureWithStack = debuggable.debuggablePromise;
  debuggable.debuggablePromise = (promise, ctx) => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return captureWithStack(promise, ctx);
    } finally {
      Error.stackTraceLimit = limit;
    }
  };
}
