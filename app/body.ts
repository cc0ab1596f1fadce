import { capitalize, displayName } from "./names";
import type { UpstreamOutcome } from "./upstream";

/** A status and a plain-text body, every line ending with a newline. */
export interface TextReply {
  readonly status: number;
  readonly body: string;
}

/** An upstream's answer as it goes into ours. */
export interface UpstreamBody {
  readonly name: string;
  readonly body: string;
}

/** The lines of an upstream body, without trailing newlines (so no blank lines appear). */
function bodyLines(body: string): string[] {
  const trimmed = body.replace(/[\r\n]+$/, "");
  return trimmed === "" ? [] : [trimmed];
}

/**
 * The greeting of `serviceName` after calling its upstreams in order, as in the original
 * demo: `Calling <First upstream>`, the first upstream's body, `Hello from <service>`,
 * then the bodies of the other upstreams. A leaf service only says hello. A versioned service
 * says which version answered: `Hello from service B (v2)`.
 */
export function composeGreeting(serviceName: string, upstreams: readonly UpstreamBody[], version?: string): string {
  const hello = `Hello from ${displayName(serviceName)}${version === undefined ? "" : ` (${version})`}`;
  const [first, ...rest] = upstreams;
  const lines =
    first === undefined
      ? [hello]
      : [
          `Calling ${capitalize(displayName(first.name))}`,
          ...bodyLines(first.body),
          hello,
          ...rest.flatMap((upstream) => bodyLines(upstream.body)),
        ];
  return lines.map((line) => `${line}\n`).join("");
}

/**
 * The answer when calling upstream `name` failed: 502 when it could not be reached or
 * answered non-2xx, 504 when it missed the deadline. Undefined for a successful call or
 * a cancelled one (nobody is left to answer).
 */
export function upstreamFailureReply(
  name: string,
  outcome: UpstreamOutcome,
  timeoutMs: number,
): TextReply | undefined {
  switch (outcome.kind) {
    case "ok":
    case "cancelled":
      return undefined;
    case "unreachable":
      return { status: 502, body: `upstream ${name} unreachable: ${outcome.code}\n` };
    case "bad-status":
      return { status: 502, body: `upstream ${name} answered ${outcome.status}\n` };
    case "timeout":
      return { status: 504, body: `upstream ${name} timed out after ${timeoutMs} ms\n` };
    default: {
      const unexpected: never = outcome;
      throw new Error(`unhandled upstream outcome ${JSON.stringify(unexpected)}`);
    }
  }
}
