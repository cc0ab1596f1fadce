import { strict as assert } from "node:assert";
import { ConfigError } from "../../topology/reader";
import { parseStackSettings } from "../../stack/settings";
import { isKubernetesStack } from "../../stack/settings";

function problems(values: Record<string, unknown>): string[] {
  try {
    parseStackSettings(values);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe("stack key envoy-mesh:observability", () => {
  it("is off unless set: no tracing, no add-ons", () => {
    const settings = parseStackSettings({ target: "kind" });
    assert.deepEqual(settings.observability, { addons: false });
    assert.ok(isKubernetesStack(settings) && settings.mesh.tracing === undefined);
  });

  it("addons on kind: every proxy traces 100% to the add-on collector", () => {
    const settings = parseStackSettings({ target: "kind", observability: { addons: true } });
    const tracing = { collectorHost: "otel-collector.observability.svc.cluster.local", collectorPort: 4317, samplingPercent: 100 };
    assert.deepEqual(settings.observability, { addons: true, tracing });
    assert.ok(isKubernetesStack(settings));
    assert.deepEqual(settings.mesh.tracing, tracing);
  });

  it("samples 1% on cloud and 100% on docker unless told, as YAML text too", () => {
    const cloud = parseStackSettings({ target: "cloud", registry: "ghcr.io/acme", observability: { tracing: { collector: "otel.tools:4317" } } });
    assert.equal(cloud.observability.tracing?.samplingPercent, 1);
    const docker = parseStackSettings({ target: "docker", observability: "tracing:\n  collector: otel:4317\n  samplingPercent: 25\n" });
    assert.deepEqual(docker.observability.tracing, { collectorHost: "otel", collectorPort: 4317, samplingPercent: 25 });
    assert.ok(docker.target === "docker" && docker.docker.tracing?.collectorHost === "otel");
  });

  it("tracing: false turns tracing off even with the add-ons", () => {
    assert.deepEqual(parseStackSettings({ target: "kind", observability: { addons: true, tracing: false } }).observability, { addons: true });
  });

  it("reports every problem at once, naming the path and the value", () => {
    const found = problems({ target: "cloud", registry: "ghcr.io/acme", observability: { addons: true, tracing: { collector: "otel", samplingPercent: 150, sample: 1 }, adons: 1 } });
    assert.ok(found.some((p) => p.startsWith("envoy-mesh:observability.adons: unknown key; did you mean addons?")), found.join("\n"));
    assert.ok(found.some((p) => p.startsWith("envoy-mesh:observability.addons: true, but the add-ons run on target kind only, not cloud")), found.join("\n"));
    assert.ok(found.some((p) => p.startsWith('envoy-mesh:observability.tracing.collector: "otel" is not host:port')), found.join("\n"));
    assert.ok(found.some((p) => p.startsWith("envoy-mesh:observability.tracing.samplingPercent: 150 is not a percentage from 0 to 100")), found.join("\n"));
    assert.ok(found.some((p) => p.startsWith("envoy-mesh:observability.tracing.sample: unknown key")), found.join("\n"));
  });

  it("refuses tracing without a collector, and a port out of range", () => {
    assert.deepEqual(problems({ target: "docker", observability: { tracing: { samplingPercent: 5 } } }).filter((p) => p.includes("collector")).length, 1);
    assert.ok(problems({ target: "docker", observability: { tracing: { collector: "otel:70000" } } })[0].includes('"otel:70000" is not host:port'));
  });

  it("continueClientTraces: off unless set; true keeps a client's trace at the front; anything else is refused; so is a non-boolean addons or a non-mapping value", () => {
    const on = parseStackSettings({ target: "docker", observability: { tracing: { collector: "otel:4317", continueClientTraces: "true" } } });
    assert.equal(on.observability.tracing?.continueClientTraces, true);
    assert.equal(parseStackSettings({ target: "docker", observability: { tracing: { collector: "otel:4317" } } }).observability.tracing?.continueClientTraces, undefined);
    assert.ok(problems({ target: "docker", observability: { tracing: { collector: "otel:4317", continueClientTraces: "yes" } } })[0].startsWith('envoy-mesh:observability.tracing.continueClientTraces: "yes" is not true or false'));
    assert.ok(problems({ target: "kind", observability: { addons: "maybe" } })[0].startsWith('envoy-mesh:observability.addons: "maybe" is not true or false'));
    assert.ok(problems({ target: "kind", observability: ["addons"] })[0].startsWith("envoy-mesh:observability: expected a mapping with tracing and addons"));
  });
});
