import * as assert from "node:assert/strict";
import * as os from "node:os";
import {
  ConfigError,
  DEFAULT_DRAIN_MS,
  DEFAULT_HOST,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_UPSTREAM_TIMEOUT_MS,
  loadConfig,
  type Env,
} from "../../app/config";

const leaf: Env = { SERVICE_NAME: "service-b", PORT: "8082" };
const seedA: Env = {
  SERVICE_NAME: "service-a",
  PORT: "8081",
  UPSTREAMS: "service-b,service-c",
  SERVICE_B_URL: "http://127.0.0.1:10001",
  SERVICE_C_URL: "http://127.0.0.1:10002/",
  POD_NAME: "service-a-5d8c7-x2x9q",
};

/** The problems loadConfig reports for `env` (fails the test if it accepts it). */
function problemsOf(env: Env): readonly string[] {
  try {
    loadConfig(env, () => "host");
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error.problems;
  }
  assert.fail(`configuration was accepted: ${JSON.stringify(env)}`);
}

function assertOneProblem(env: Env, ...fragments: string[]): void {
  const problems = problemsOf(env);
  assert.equal(problems.length, 1, problems.join("; "));
  for (const fragment of fragments) assert.ok(problems[0].includes(fragment), `"${problems[0]}" lacks "${fragment}"`);
}

describe("loadConfig", () => {
  it("reads the seed's service A", () => {
    assert.deepEqual(loadConfig(seedA), {
      serviceName: "service-a",
      host: "127.0.0.1",
      port: 8081,
      upstreams: [
        { name: "service-b", url: "http://127.0.0.1:10001" },
        { name: "service-c", url: "http://127.0.0.1:10002" },
      ],
      upstreamTimeoutMs: 3000,
      podName: "service-a-5d8c7-x2x9q",
      shutdownTimeoutMs: 10000,
      drainMs: 0,
      healthPort: undefined,
    });
  });

  describe("defaults", () => {
    let config: ReturnType<typeof loadConfig>;
    before(() => (config = loadConfig(leaf, () => "fallback-host")));

    it("HOST defaults to 127.0.0.1 (reachable only through the sidecar)", () => {
      assert.equal(DEFAULT_HOST, "127.0.0.1");
      assert.equal(config.host, "127.0.0.1");
    });

    it("UPSTREAMS defaults to none", () => assert.deepEqual(config.upstreams, []));

    it("UPSTREAM_TIMEOUT_MS defaults to 3000", () => {
      assert.equal(DEFAULT_UPSTREAM_TIMEOUT_MS, 3000);
      assert.equal(config.upstreamTimeoutMs, 3000);
    });

    it("SHUTDOWN_TIMEOUT_MS defaults to 10000", () => {
      assert.equal(DEFAULT_SHUTDOWN_TIMEOUT_MS, 10000);
      assert.equal(config.shutdownTimeoutMs, 10000);
    });

    it("DRAIN_MS defaults to 0: without it the app stops accepting at the first signal, as before", () => {
      assert.equal(DEFAULT_DRAIN_MS, 0);
      assert.equal(config.drainMs, 0);
    });

    it("HEALTH_PORT defaults to none: no second port is opened", () => assert.equal(config.healthPort, undefined));

    it("POD_NAME defaults to the fallback, which is os.hostname unless given", () => {
      assert.equal(config.podName, "fallback-host");
      assert.equal(loadConfig(leaf).podName, os.hostname());
    });

    it("treats blank optional variables as unset", () => {
      const blank = loadConfig({ ...leaf, HOST: "", UPSTREAMS: " ", UPSTREAM_TIMEOUT_MS: "", POD_NAME: "" }, () => "h");
      assert.equal(blank.host, "127.0.0.1");
      assert.deepEqual(blank.upstreams, []);
      assert.equal(blank.upstreamTimeoutMs, 3000);
      assert.equal(blank.podName, "h");
    });
  });

  it("reads every optional variable when set", () => {
    const config = loadConfig({
      ...leaf,
      HOST: "0.0.0.0",
      UPSTREAM_TIMEOUT_MS: "250",
      SHUTDOWN_TIMEOUT_MS: "1",
      POD_NAME: "b-1",
      DRAIN_MS: "10000",
      HEALTH_PORT: "9903",
    });
    assert.equal(config.host, "0.0.0.0");
    assert.equal(config.upstreamTimeoutMs, 250);
    assert.equal(config.shutdownTimeoutMs, 1);
    assert.equal(config.drainMs, 10000);
    assert.equal(config.healthPort, 9903);
    assert.equal(config.podName, "b-1");
  });

  it("accepts IPv6 and host names for HOST, and trims whitespace around values", () => {
    assert.equal(loadConfig({ ...leaf, HOST: "::1" }).host, "::1");
    assert.equal(loadConfig({ ...leaf, HOST: "localhost" }).host, "localhost");
    assert.equal(loadConfig({ ...leaf, PORT: " 8082 " }).port, 8082);
    const spaced = loadConfig({ ...seedA, UPSTREAMS: " service-b , service-c " });
    assert.deepEqual(
      spaced.upstreams.map((u) => u.name),
      ["service-b", "service-c"],
    );
  });

  it("keeps the order of UPSTREAMS", () => {
    const config = loadConfig({ ...seedA, UPSTREAMS: "service-c,service-b" });
    assert.deepEqual(
      config.upstreams.map((u) => u.name),
      ["service-c", "service-b"],
    );
  });

  describe("errors name the variable and the bad value", () => {
    it("SERVICE_NAME missing", () => assertOneProblem({ PORT: "1" }, "SERVICE_NAME is required"));

    it("SERVICE_NAME not a DNS label", () => {
      for (const bad of ["Service_A", "1abc", "service-", "a".repeat(64)]) {
        assertOneProblem({ SERVICE_NAME: bad, PORT: "1" }, "SERVICE_NAME must be", JSON.stringify(bad));
      }
    });

    it("PORT missing", () => assertOneProblem({ SERVICE_NAME: "a" }, "PORT is required"));

    it("PORT out of range or not an integer", () => {
      for (const bad of ["0", "65536", "-1", "80.5", "abc", "0x50", "1e3"]) {
        assertOneProblem({ ...leaf, PORT: bad }, "PORT must be an integer from 1 to 65535", JSON.stringify(bad));
      }
    });

    it("PORT at the bounds is fine", () => {
      assert.equal(loadConfig({ ...leaf, PORT: "1" }).port, 1);
      assert.equal(loadConfig({ ...leaf, PORT: "65535" }).port, 65535);
    });

    it("HOST not an address", () => assertOneProblem({ ...leaf, HOST: "not a host" }, "HOST", '"not a host"'));

    it("timeouts not positive integers", () => {
      assertOneProblem({ ...leaf, UPSTREAM_TIMEOUT_MS: "0" }, "UPSTREAM_TIMEOUT_MS must be", '"0"');
      assertOneProblem({ ...leaf, UPSTREAM_TIMEOUT_MS: "3s" }, "UPSTREAM_TIMEOUT_MS must be", '"3s"');
      assertOneProblem({ ...leaf, SHUTDOWN_TIMEOUT_MS: "99999999999" }, "SHUTDOWN_TIMEOUT_MS must be", '"99999999999"');
    });

    it("DRAIN_MS not a non-negative integer; 0 is fine", () => {
      assertOneProblem({ ...leaf, DRAIN_MS: "-1" }, "DRAIN_MS must be an integer from 0", '"-1"');
      assertOneProblem({ ...leaf, DRAIN_MS: "10s" }, "DRAIN_MS must be", '"10s"');
      assert.equal(loadConfig({ ...leaf, DRAIN_MS: "0" }).drainMs, 0);
    });

    it("HEALTH_PORT out of range, or the serving port itself", () => {
      assertOneProblem({ ...leaf, HEALTH_PORT: "0" }, "HEALTH_PORT must be an integer from 1 to 65535", '"0"');
      assertOneProblem({ ...leaf, HEALTH_PORT: "http" }, "HEALTH_PORT must be", '"http"');
      assertOneProblem({ ...leaf, HEALTH_PORT: "8082" }, "HEALTH_PORT must differ from PORT", "8082");
    });

    it("a listed upstream without its URL variable", () => {
      const env = Object.fromEntries(Object.entries(seedA).filter(([name]) => name !== "SERVICE_C_URL"));
      assertOneProblem(env, "SERVICE_C_URL is required", "service-c");
    });

    it("an upstream URL that is not a usable http origin", () => {
      for (const [bad, reason] of [
        ["127.0.0.1:10001", "http://"],
        ["not a url", "not a URL"],
        ["https://127.0.0.1:10001", "http://"],
        ["http://127.0.0.1:10001/api", "no path"],
        ["http://127.0.0.1:10001/?a=1", "no path"],
        ["http://user:pw@127.0.0.1:10001", "credentials"],
      ]) {
        assertOneProblem({ ...seedA, SERVICE_B_URL: bad }, "SERVICE_B_URL", reason, JSON.stringify(bad));
      }
    });

    it("bad UPSTREAMS entries", () => {
      assertOneProblem({ ...seedA, UPSTREAMS: "service-b,,service-c" }, "UPSTREAMS has an empty entry");
      assertOneProblem({ ...seedA, UPSTREAMS: "service-b,Service_C" }, "UPSTREAMS", '"Service_C"');
      assertOneProblem({ ...seedA, UPSTREAMS: "service-b,service-c,service-b" }, "UPSTREAMS lists service-b more than once");
      assertOneProblem({ ...seedA, UPSTREAMS: "service-b,service-a" }, "UPSTREAMS lists service-a, the service itself");
    });

    it("POD_NAME with characters unsafe in a header list", () => {
      assertOneProblem({ ...leaf, POD_NAME: "pod,one" }, "POD_NAME", '"pod,one"');
      assertOneProblem({ ...leaf, POD_NAME: "pod one" }, "POD_NAME", '"pod one"');
    });

    it("reports every problem at once, in one message", () => {
      const env = { SERVICE_NAME: "Bad", PORT: "0", UPSTREAMS: "service-b", UPSTREAM_TIMEOUT_MS: "x" };
      const problems = problemsOf(env);
      assert.equal(problems.length, 4, problems.join("; "));
      try {
        loadConfig(env);
        assert.fail("accepted");
      } catch (error) {
        const message = (error as Error).message;
        assert.match(message, /^invalid configuration: /);
        assert.equal(message.includes("\n"), false);
        for (const variable of ["SERVICE_NAME", "PORT", "SERVICE_B_URL", "UPSTREAM_TIMEOUT_MS"]) {
          assert.ok(message.includes(variable), `${variable} missing from: ${message}`);
        }
      }
    });
  });
});
