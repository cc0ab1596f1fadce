import { strict as assert } from "node:assert";
import { skipSdkPromiseTraces, type DebuggableModule } from "../../components/sdkPromiseTraces";

/** A stand-in for the SDK's debuggable module that records the trace it would keep, as the SDK does. */
function fakeDebuggable(debugPromiseLeaks: boolean): DebuggableModule & { traces: string[] } {
  const traces: string[] = [];
  return {
    debugPromiseLeaks,
    traces,
    debuggablePromise<T>(promise: Promise<T>): Promise<T> {
      traces.push(new Error().stack ?? "");
      return promise;
    },
  };
}

const hasFrames = (stack: string): boolean => /\n\s+at /.test(stack);

describe("skipSdkPromiseTraces", () => {
  it("takes the trace of each SDK promise empty when PULUMI_DEBUG_PROMISE_LEAKS is not set, and the promise still settles as before", async () => {
    const debuggable = fakeDebuggable(false);
    assert.equal(skipSdkPromiseTraces(debuggable), true);
    assert.equal(await debuggable.debuggablePromise(Promise.resolve(42), "ctx"), 42);
    await assert.rejects(debuggable.debuggablePromise(Promise.reject(new Error("boom")), "ctx"), /boom/);
    assert.equal(debuggable.traces.length, 2);
    for (const trace of debuggable.traces) assert.equal(hasFrames(trace), false, trace);
    // The process's own traces are untouched.
    assert.ok(hasFrames(new Error().stack ?? ""));
  });

  it("keeps every trace when PULUMI_DEBUG_PROMISE_LEAKS is set, so leak debugging still shows where each promise was made", async () => {
    const debuggable = fakeDebuggable(true);
    const original = debuggable.debuggablePromise;
    assert.equal(skipSdkPromiseTraces(debuggable), false);
    assert.equal(debuggable.debuggablePromise, original);
    await debuggable.debuggablePromise(Promise.resolve(1), "ctx");
    assert.equal(hasFrames(debuggable.traces[0]), true);
  });

  it("wraps once however often it is applied", () => {
    const debuggable = fakeDebuggable(false);
    skipSdkPromiseTraces(debuggable);
    const wrapped = debuggable.debuggablePromise;
    assert.equal(skipSdkPromiseTraces(debuggable), true);
    assert.equal(debuggable.debuggablePromise, wrapped);
  });

  it("reaches the SDK itself: its promises carry no trace, keep their context and still leave the leak list when they settle", async () => {
    // The test run has no PULUMI_DEBUG_PROMISE_LEAKS; the mock harness applies this too.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const sdk = require("@pulumi/pulumi/runtime/debuggable") as DebuggableModule;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const state = require("@pulumi/pulumi/runtime/state") as { getStore(): { leakCandidates: Set<Promise<unknown>> } };
    assert.equal(sdk.debugPromiseLeaks, false);
    assert.equal(skipSdkPromiseTraces(), true);
    const inner = Promise.resolve("value");
    const outer = sdk.debuggablePromise(inner, "a context");
    const recorded = inner as unknown as { _debugStackTrace: string; _debugCtx: unknown };
    assert.equal(hasFrames(recorded._debugStackTrace), false, recorded._debugStackTrace);
    assert.equal(recorded._debugCtx, "a context");
    assert.equal(state.getStore().leakCandidates.has(inner), true);
    assert.equal(await outer, "value");
    assert.equal(state.getStore().leakCandidates.has(inner), false);
  });
});
