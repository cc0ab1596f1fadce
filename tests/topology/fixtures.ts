import { strict as assert } from "node:assert";
import { ConfigError, parseTopology, type ConfigIssue } from "../../topology";

/** A valid topology of one service behind the front proxy; tests change one thing at a time. */
export function oneService(service: Record<string, unknown> = {}, rest: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    services: [{ name: "web", appPort: 8081, ...service }],
    front: { routes: [{ prefix: "/", service: "web" }] },
    ...rest,
  };
}

/** `web` (routed from `/`) calls `api` with the given upstream entries. */
export function webCallsApi(upstreams: unknown[], rest: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    services: [
      { name: "web", appPort: 8081, upstreams },
      { name: "api", appPort: 8082 },
      { name: "db", appPort: 8083 },
    ],
    front: { routes: [{ prefix: "/", service: "web" }] },
    ...rest,
  };
}

/** The ConfigError that parsing `raw` must throw. */
export function topologyError(raw: unknown): ConfigError {
  try {
    parseTopology(raw);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the topology to be refused");
}

export function issuesOf(raw: unknown): readonly ConfigIssue[] {
  return topologyError(raw).issues;
}

/** Asserts that `raw` has exactly one problem, at `path`, and returns its message. */
export function onlyIssue(raw: unknown, path: string): string {
  const issues = issuesOf(raw);
  assert.deepEqual(
    issues.map((i) => i.path),
    [path],
    `expected one issue at ${path}, got:\n${issues.map((i) => `${i.path}: ${i.message}`).join("\n")}`,
  );
  return issues[0].message;
}

/** The message of the issue at `path`, which must be among the problems found. */
export function issueAt(raw: unknown, path: string): string {
  const issues = issuesOf(raw);
  const issue = issues.find((i) => i.path === path);
  assert.ok(issue, `no issue at ${path}; got:\n${issues.map((i) => `${i.path}: ${i.message}`).join("\n")}`);
  return issue.message;
}
