import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { composeSchemaIssues } from "../../../checks/compose";

const FIXTURES = join(__dirname, "fixtures");
const loadFixture = (kind: string, file: string): unknown => load(readFileSync(join(FIXTURES, kind, file), "utf8"));

describe("checks/compose: the Compose Specification schema", () => {
  describe("accepts compose files written elsewhere", () => {
    for (const file of readdirSync(join(FIXTURES, "accepted")).sort()) {
      it(file, () => assert.deepEqual(composeSchemaIssues(loadFixture("accepted", file)), []));
    }
  });

  describe("refuses the mistakes compose refuses", () => {
    const expected: Record<string, { path: string; message: string }[]> = {
      "misspelled-service-key.yaml": [{ path: "services.mongo-express", message: 'additional property "images" is not allowed' }],
      "ports-not-a-list.yaml": [{ path: "services.front-envoy.ports", message: 'must be a list, got "8080"' }],
      "ports-under-deploy.yaml": [{ path: "services.web.deploy", message: 'additional property "ports" is not allowed' }],
      "service-at-root.yaml": [{ path: "(root)", message: 'additional property "db" is not allowed' }],
      "unknown-top-level-key.yaml": [{ path: "(root)", message: 'additional property "service" is not allowed' }],
    };
    it("has an expectation for every refused fixture", () => {
      assert.deepEqual(readdirSync(join(FIXTURES, "refused")).sort(), Object.keys(expected).sort());
    });
    for (const [file, issues] of Object.entries(expected)) {
      it(file, () => assert.deepEqual(composeSchemaIssues(loadFixture("refused", file)), issues));
    }
  });

  it("reports every problem at once, in a stable order", () => {
    const doc = { services: { b: { image: "x", ports: "80" }, a: { image: "y", read_only: [true], bogus: 1 } }, extra: {} };
    assert.deepEqual(composeSchemaIssues(doc), [
      { path: "(root)", message: 'additional property "extra" is not allowed' },
      { path: "services.a", message: 'additional property "bogus" is not allowed' },
      { path: "services.a.read_only", message: 'must be a boolean or a string, got a list' },
      { path: "services.b.ports", message: 'must be a list, got "80"' },
    ]);
  });
});
