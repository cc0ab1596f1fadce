import { strict as assert } from "node:assert";
import fc from "fast-check";
import { PATH_ENV, SEED_ENV, assertProperty, runStart } from "./properties";

/** Fails for every integer above 1000: fast-check shrinks it to 1001. */
const failing = () => fc.property(fc.integer({ min: 0, max: 1_000_000 }), (n) => n <= 1000);

function failureOf(run: () => void): string {
  try {
    run();
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail("expected the property to fail");
}

describe("property test runs", () => {
  let saved: Record<string, string | undefined>;
  let printed: string[];
  const originalError = console.error;
  beforeEach(() => {
    saved = { [SEED_ENV]: process.env[SEED_ENV], [PATH_ENV]: process.env[PATH_ENV] };
    delete process.env[SEED_ENV];
    delete process.env[PATH_ENV];
    printed = [];
    console.error = (line: string) => printed.push(line);
  });
  afterEach(() => {
    console.error = originalError;
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it("say on failure how to replay it: seed, path and test", function () {
    const message = failureOf(() => assertProperty(this.test, failing()));
    const replay = /FC_SEED=(-?\d+) FC_PATH=(\S+) npx mocha -g "(.+)"/.exec(message);
    assert.ok(replay, message);
    assert.equal(replay[3], this.test?.fullTitle());
    assert.match(message, /Counterexample: \[1001\]/);
    assert.ok(printed.some((line) => line.includes(replay[0])), "the replay line is printed as well");
  });

  it("replay the failing case from FC_SEED and FC_PATH, first", function () {
    const first = /FC_SEED=(-?\d+) FC_PATH=(\S+)/.exec(failureOf(() => assertProperty(this.test, failing()))) as RegExpExecArray;
    process.env[SEED_ENV] = first[1];
    process.env[PATH_ENV] = first[2];
    const again = failureOf(() => assertProperty(this.test, failing()));
    assert.match(again, new RegExp(`FC_SEED=${first[1]} `));
    assert.match(again, /Counterexample: \[1001\]/);
    assert.match(again, /failed after 1 test/, "the replay starts at the failing case");
  });

  it("use a fresh seed each run unless FC_SEED is set", () => {
    assert.deepEqual(runStart({ [SEED_ENV]: "42" }), { seed: 42 });
    assert.deepEqual(runStart({ [SEED_ENV]: "-7", [PATH_ENV]: "3:0" }), { seed: -7, path: "3:0" });
    assert.ok(Number.isInteger(runStart({}).seed));
    assert.throws(() => runStart({ [SEED_ENV]: "abc" }), /FC_SEED: "abc" is not an integer seed/);
  });

  it("pass quietly", function () {
    assertProperty(this.test, fc.property(fc.integer(), (n) => Number.isInteger(n)));
    assert.deepEqual(printed, []);
  });
});
