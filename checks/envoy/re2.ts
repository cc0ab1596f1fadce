import { RE2JS } from "re2js";

/**
 * re2js is a port of RE2/J, which reports errors with Go's regexp/syntax wording; Envoy prints
 * RE2's (C++) `RegexpStatus::Text()`, "<code text>: <argument>". The code texts are RE2's
 * kErrorStrings (google/re2 re2/regexp.cc). RE2 reports a duplicate group name as a bad
 * named capture.
 */
const RE2_CODE_TEXTS: Readonly<Record<string, string>> = {
  "missing closing )": "missing )",
  "missing closing ]": "missing ]",
  "missing argument to repetition operator": "no argument for repetition operator",
  "invalid nested repetition operator": "bad repetition operator",
  "invalid repeat count": "invalid repetition size",
  "invalid or unsupported Perl syntax": "invalid perl operator",
  "trailing backslash at end of expression": "trailing \\",
  "invalid named capture": "invalid named capture group",
  "duplicate capture group name": "invalid named capture group",
};

interface SyntaxFailure {
  readonly error?: unknown;
  readonly input?: unknown;
}

/**
 * Why RE2 (with its default, Perl-like syntax, as Envoy builds it) refuses `regex`, in RE2's
 * words; undefined when it compiles. Not JavaScript's RegExp: RE2 takes `(?P<name>...)` and
 * `\pN`, and refuses backreferences and lookaround.
 */
export function re2SyntaxError(regex: string): string | undefined {
  try {
    RE2JS.compile(regex);
    return undefined;
  } catch (err) {
    const failure = err as SyntaxFailure;
    if (typeof failure.error !== "string") return (err as Error).message;
    const code = RE2_CODE_TEXTS[failure.error] ?? failure.error;
    return typeof failure.input === "string" && failure.input !== "" ? `${code}: ${failure.input}` : code;
  }
}
