import { strict as assert } from "assert";
import * as path from "path";
import { KIND_CONFIG_FILE, frontPortMapping, parseKindConfig } from "../../ops/kindConfig";
import { DEFAULT_SETTINGS, localRegistryPort, readSettings, resolveSettings } from "../../ops/stackSettings";
import { readYamlFile } from "../../ops/yaml";

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
        assert.throws(bad({ "envoy-mesh:registry": 5001 }), { message: "Pulumi.kind.yaml: config envoy-mesh:registry: must be a string (got 5001)" });
        assert.throws(bad({ "envoy-mesh:namespace": "" }), /config envoy-mesh:namespace: must be a non-empty string/);
        assert.throws(() => resolveSettings({ config: { frontNodePort: { default: "x" } } }, undefined), /^OpsError: Pulumi\.yaml: config envoy-mesh:frontNodePort/);
    });
});

describe("ops/stackSettings: the repository's Pulumi.yaml and Pulumi.kind.yaml", () => {
    const repo = path.resolve(__dirname, "..", "..");

    it("give the kind stack the documented defaults", () => {
        assert.deepEqual(readSettings(repo), DEFAULT_SETTINGS);
    });

    it("agree with kind/cluster.yaml on the Front Envoy NodePort", () => {
        const config = parseKindConfig(readYamlFile(path.join(repo, KIND_CONFIG_FILE)));
        assert.equal(frontPortMapping(config, readSettings(repo).frontNodePort).hostPort, 8080);
    });

    it("an empty registry means kind's local registry", () => {
        assert.equal(resolveSettings({ config: { registry: { type: "string", default: "" } } }, undefined).registry, "localhost:5001");
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
