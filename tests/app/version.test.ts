import * as assert from "node:assert/strict";
import { composeGreeting } from "../../app/body";
import { ConfigError, loadConfig } from "../../app/config";
import { createDemoServer } from "../../app/server";
import { answer, demoConfig, request, ServerPool, startFakeUpstream } from "./fixtures";

const ENV = { SERVICE_NAME: "service-b", PORT: "8082" };

describe("demo app: the version that answered", () => {
  const pool = new ServerPool();
  afterEach(() => pool.closeAll());

  it("reads SERVICE_VERSION, and leaves it out when unset", () => {
    assert.equal(loadConfig({ ...ENV, SERVICE_VERSION: "v2" }, () => "pod").serviceVersion, "v2");
    assert.equal("serviceVersion" in loadConfig(ENV, () => "pod"), false);
  });

  it("refuses a SERVICE_VERSION that is not a DNS label, quoting it", () => {
    assert.throws(() => loadConfig({ ...ENV, SERVICE_VERSION: "V 2" }, () => "pod"), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /SERVICE_VERSION must be a lowercase DNS label.*got "V 2"/);
      return true;
    });
  });

  it("says its version after its name, and nothing when it has none", () => {
    assert.equal(composeGreeting("service-b", [], "v2"), "Hello from service B (v2)\n");
    assert.equal(composeGreeting("service-b", []), "Hello from service B\n");
    assert.equal(composeGreeting("service-a", [{ name: "service-b", body: "Hello from service B (v1)\n" }], "v1"), "Calling Service B\nHello from service B (v1)\nHello from service A (v1)\n");
  });

  it("answers with its version", async () => {
    const url = await pool.listen(createDemoServer(demoConfig({ serviceName: "service-b", serviceVersion: "v2" })));
    assert.equal((await request(`${url}/`)).body, "Hello from service B (v2)\n");
  });

  it("forwards the pinning header x-mesh-version to its upstreams, so one header pins every hop", async () => {
    const b = await startFakeUpstream(pool, answer(200, "b\n"));
    const url = await pool.listen(createDemoServer(demoConfig({ upstreams: [{ name: "service-b", url: b.url }] })));
    await request(`${url}/`, { headers: { "x-mesh-version": "v2" } });
    assert.equal(b.requests[0].headers["x-mesh-version"], "v2");
  });
});
