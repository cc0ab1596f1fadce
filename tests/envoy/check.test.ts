import { strict as assert } from "node:assert";
import { load } from "js-yaml";
import { envoyConfigProblems, meshEnvoyConfigProblems, renderEnvoyConfig } from "../../envoy/check";
import { buildSidecarConfig } from "../../envoy";
import { parseTopology } from "../../topology";
import { kubernetesEnvoyTarget } from "../../k8s";
import type { EnvoyTarget } from "../../envoy";

const CONTEXT: EnvoyTarget = { namespace: "mesh", upstreamHost: (service) => kubernetesEnvoyTarget(KIND_NAMES).upstreamHost(service) };
const KIND_NAMES = { namespace: "envoy-mesh", clusterDomain: "cluster.local" };

describe("checking generated Envoy configs before deploy", () => {
  it("finds nothing wrong with any proxy of the seed mesh, strict mode included", () => {
    assert.deepEqual(meshEnvoyConfigProblems(parseTopology(undefined), CONTEXT), []);
  });

  it("names the proxy and the field of each problem", () => {
    const broken = [
      "static_resources:",
      "  clusters:",
      "    - name: local_app",
      "      connect_timeout: 250ms",
      "      hosts: [{socket_address: {address: 127.0.0.1, port_value: 8081}}]",
    ].join("\n");
    const problems = envoyConfigProblems([{ proxy: "service-b", bootstrap: JSON.stringify(load(broken)), xdsFiles: {} }]);
    const paths = problems.map((p) => p.path);
    assert.ok(paths.includes("envoy config of service-b: static_resources.clusters[0].hosts"), paths.join("\n"));
    assert.ok(paths.includes("envoy config of service-b: static_resources.clusters[0].connect_timeout"), paths.join("\n"));
  });

  it("treats a deprecated field as a failure", () => {
    const deprecated = "admin:\n  access_log_path: /tmp/admin.log\n  address: {socket_address: {address: 127.0.0.1, port_value: 9901}}\n";
    const problems = envoyConfigProblems([{ proxy: "front-envoy", bootstrap: JSON.stringify(load(deprecated)), xdsFiles: {} }]);
    assert.deepEqual(problems.map((p) => p.path), ["envoy config of front-envoy: admin.access_log_path"]);
  });

  it("checks a changed file anew: a verdict is reused only for the same text", () => {
    const good = renderEnvoyConfig(buildSidecarConfig(parseTopology(undefined), parseTopology(undefined).services[1], CONTEXT));
    const broken = { ...good, xdsFiles: { ...good.xdsFiles, "cds.json": good.xdsFiles["cds.json"].replace(/"connect_timeout": "[^"]*"/, '"connect_timeout": "soon"') } };
    assert.notEqual(broken.xdsFiles["cds.json"], good.xdsFiles["cds.json"], "the CDS file has a connect_timeout to break");
    assert.deepEqual(envoyConfigProblems([good]), []);
    assert.ok(envoyConfigProblems([broken]).some((p) => p.path.startsWith(`cds.json of ${good.proxy}:`)));
    assert.deepEqual(envoyConfigProblems([good]), [], "the good text again");
    assert.ok(envoyConfigProblems([broken]).some((p) => p.path.startsWith(`cds.json of ${good.proxy}:`)), "the broken text again");
  });
});
