import { strict as assert } from "node:assert";
import { ConfigError, IssueCollector, formatIssues, show } from "../../topology/reader";

describe("topology/reader", () => {
  describe("ConfigError", () => {
    it("counts one problem in the singular", () => {
      const error = new ConfigError([{ path: "a.b", message: "bad" }], "invalid thing");
      assert.equal(error.message, "invalid thing (1 problem):\n  - a.b: bad");
    });

    it("counts several problems in the plural, one line each, in order", () => {
      const error = new ConfigError([
        { path: "x", message: "first" },
        { path: "y", message: "second" },
      ]);
      assert.equal(error.message, "invalid configuration (2 problems):\n  - x: first\n  - y: second");
    });

    it("keeps the issues for callers that re-path them", () => {
      const issues = [{ path: "x", message: "m" }];
      assert.deepEqual(new ConfigError(issues).issues, issues);
    });
  });

  it("formatIssues prints nothing for no issues", () => {
    assert.equal(formatIssues([]), "");
  });

  describe("show", () => {
    it("quotes strings so that empty and padded values are visible", () => {
      assert.equal(show(""), '""');
      assert.equal(show(" a "), '" a "');
    });

    it("shows objects as JSON, never [object Object]", () => {
      assert.equal(show({ a: 1 }), '{"a":1}');
    });

    it("shows undefined", () => {
      assert.equal(show(undefined), "undefined");
    });

    it("shortens long values to 60 characters", () => {
      const shown = show("x".repeat(100));
      assert.equal(shown.length, 60);
      assert.ok(shown.endsWith("..."));
    });
  });

  describe("IssueCollector", () => {
    it("reports each unknown key of an object", () => {
      const c = new IssueCollector();
      c.object({ a: 1, b: 2, c: 3 }, "root", ["a"]);
      assert.deepEqual(
        c.issues.map((i) => i.path),
        ["root.b", "root.c"],
      );
    });

    it("refuses an empty string", () => {
      const c = new IssueCollector();
      assert.equal(c.string("", "p"), undefined);
      assert.deepEqual(c.issues, [{ path: "p", message: 'expected a non-empty string, got ""' }]);
    });

    it("refuses NaN and Infinity as integers", () => {
      const c = new IssueCollector();
      assert.equal(c.integer(Number.NaN, "p", 0, 10), undefined);
      assert.equal(c.integer(Number.POSITIVE_INFINITY, "q", 0, 10), undefined);
      assert.equal(c.issues.length, 2);
    });
  });
});
