import { skipSdkPromiseTraces } from "../../components/sdkPromiseTraces";

/**
 * The program's own behaviour (components/sdkPromiseTraces.ts, applied by index.ts): the SDK's
 * per-promise stack traces, which cost most of a mock deployment's time, taken empty unless
 * PULUMI_DEBUG_PROMISE_LEAKS is set. The mock harness applies it before any SDK promise is made;
 * called through this function so that loading a test file calls no project code directly.
 */
export function takeSdkPromiseTracesEmpty(): void {
  skipSdkPromiseTraces();
}
