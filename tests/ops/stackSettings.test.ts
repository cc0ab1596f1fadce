import { strict as assert } from "assert";
import { DEFAULT_SETTINGS, localRegistryPort, resolveSettings } from "../../ops/stackSettings";

describe("ops/stackSettings: resolveSettings", () => {
    it("defaults: target kind, namespace and cluster envoy-mesh, registry localhost:5001, NodePort 30080", () => {
        assert.deepEqual(resolveSettings({ name: "envoy-mesh" }, undefined), {
            target: "kind",
            namespace: "envoy-mesh",
            kindClusterName: "envoy-mesh",
            registry: "localhost:5001",
            frontNodePort: 30080,
        });
        assert.deepEqual(resolveSettings({}, { config: {} }), DEFAULT_SETTINGS);
    });

    it("project defaults in Pulumi.yaml apply, and Pulumi.kind.yaml wins over them", () => {
        const project = { config: { "envoy-mesh:kindClusterName": { type: "string", default: "from-project" }, namespace: { default: "ns-project" } } };
        assert.equal(resolveSettings(project, undefined).kindClusterName, "from-project");
        assert.equal(resolveSettings(project, undefined).namespace, "ns-project");
        const stack = { config: { "envoy-mesh:kindClusterName": "from-stack", "envoy-mesh:frontNodePort": "30090" } };
        const s = resolveSettings(project, stack);
        assert.equal(s.kindClusterName, "from-stack");
        assert.equal(s.frontNodePort, 30090);
    });

    it("names file, key and value of each bad setting", () => {
        const bad = (config: Record<string, unknown>) => () => resolveSettings({}, { config });
        assert.throws(bad({ "envoy-mesh:target": "aws" }), { message: 'Pulumi.kind.yaml: config envoy-mesh:target: must be "kind" or "cloud" (got "aws")' });
        assert.throws(bad({ "envoy-mesh:frontNodePort": 8080 }), { message: "Pulumi.kind.yaml: config envoy-mesh:frontNodePort: must be a NodePort number 30000-32767 (got 8080)" });
        assert.throws(bad({ "envoy-mesh:kindClusterName": "Envoy_Mesh" }), /config envoy-mesh:kindClusterName: must be lower-case letters, digits and '-'.*\(got "Envoy_Mesh"\)/);
        assert.throws(bad({ "envoy-mesh:registry": "" }), /config envoy-mesh:registry: must be a non-empty string/);
        assert.throws(() => resolveSettings({ config: { frontNodePort: { default: "x" } } }, undefined), /^OpsError: Pulumi\.yaml: config envoy-mesh:frontNodePort/);
    });
});

describe("ops/stackSettings: localRegistryPort", () => {
    it("finds the port of a registry on this machine, and nothing for a remote one", () => {
        assert.equal(localRegistryPort("localhost:5001"), 5001);
        assert.equal(localRegistryPort("127.0.0.1:5002/mesh"), 5002);
        assert.equal(localRegistryPort("ghcr.io/example"), undefined);
        assert.equal(localRegistryPort("localhost:99999"), undefined);
    });
});
