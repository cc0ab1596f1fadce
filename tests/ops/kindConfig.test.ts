import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { frontPortMapping, frontTlsPortMapping, parseKindConfig } from "../../ops/kindConfig";
import { defaultSettings } from "../../ops/stackSettings";
import { parseYaml } from "../../ops/yaml";

const FILE = path.resolve(__dirname, "..", "..", "kind", "cluster.yaml");

describe("kind/cluster.yaml", () => {
    let config: ReturnType<typeof parseKindConfig>;
    before(() => (config = parseKindConfig(parseYaml(fs.readFileSync(FILE, "utf8"), "kind/cluster.yaml"))));

    it("is a kind v1alpha4 Cluster named after the default kindClusterName", () => {
        assert.equal(config.name, defaultSettings().kindClusterName);
    });

    it("maps the Front Envoy NodePort 30080 to host port 8080, on loopback", () => {
        assert.deepEqual(frontPortMapping(config, defaultSettings().frontNodePort), { containerPort: 30080, hostPort: 8080, listenAddress: "127.0.0.1" });
    });

    it("maps the Front Envoy's HTTPS NodePort 30443 to host port 8443, on loopback", () => {
        assert.deepEqual(frontTlsPortMapping(config, defaultSettings().frontTlsNodePort), { containerPort: 30443, hostPort: 8443, listenAddress: "127.0.0.1" });
    });

    it("puts those two mappings on a control-plane node (the only node, where workloads run)", () => {
        assert.deepEqual(
            config.nodes.map((n) => n.role),
            ["control-plane"],
        );
        assert.equal(config.nodes[0].extraPortMappings.length, 2);
    });

    it("pins every node image by tag and sha256 digest", () => {
        for (const node of config.nodes) {
            assert.match(node.image ?? "", /^kindest\/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
        }
    });

    it("points containerd at certs.d, as kind's local-registry guide does", () => {
        assert.equal(config.containerdConfigPatches.length, 1);
        assert.match(config.containerdConfigPatches[0], /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]\s+config_path = "\/etc\/containerd\/certs\.d"/);
    });
});

describe("ops/kindConfig: parseKindConfig", () => {
    const base = { kind: "Cluster", apiVersion: "kind.x-k8s.io/v1alpha4" };

    it("names the file and field of each bad value", () => {
        assert.throws(() => parseKindConfig({ ...base, kind: "Config" }, "x.yaml"), { message: 'x.yaml: kind: must be "Cluster" (got "Config")' });
        assert.throws(() => parseKindConfig({ ...base, apiVersion: "v1" }, "x.yaml"), /^OpsError: x\.yaml: apiVersion: must be "kind\.x-k8s\.io\/v1alpha4"/);
        assert.throws(
            () => parseKindConfig({ ...base, nodes: [{ role: "control-plane", extraPortMappings: [{ containerPort: 30080, hostPort: "8080" }] }] }, "x.yaml"),
            { message: 'x.yaml: nodes[0].extraPortMappings[0].hostPort: must be a port number 1-65535 (got "8080")' },
        );
        assert.throws(() => parseKindConfig({ ...base, nodes: [] }, "x.yaml"), { message: "x.yaml: nodes: must be a non-empty list (got [])" });
    });

    it("applies kind's defaults: one control-plane node, listen address 0.0.0.0", () => {
        assert.deepEqual(parseKindConfig(base).nodes, [{ role: "control-plane", extraPortMappings: [] }]);
        const c = parseKindConfig({ ...base, nodes: [{ role: "control-plane", extraPortMappings: [{ containerPort: 30080, hostPort: 9090 }] }] });
        assert.equal(frontPortMapping(c, 30080).listenAddress, "0.0.0.0");
    });

    it("refuses a config where the NodePort is mapped twice", () => {
        const m = { containerPort: 30080, hostPort: 8080 };
        const c = parseKindConfig({ ...base, nodes: [{ role: "control-plane", extraPortMappings: [m, { ...m, hostPort: 8081 }] }] });
        assert.throws(() => frontPortMapping(c, 30080), /2 entries map containerPort 30080; keep one/);
    });

    it("without the HTTPS mapping: names the file, the NodePort and what it is for", () => {
        const c = parseKindConfig({ ...base, nodes: [{ role: "control-plane", extraPortMappings: [{ containerPort: 30080, hostPort: 8080 }] }] });
        assert.throws(() => frontTlsPortMapping(c, 30443), {
            message: "kind/cluster.yaml: nodes[].extraPortMappings: no entry maps containerPort 30443 (the Front Envoy's HTTPS NodePort, envoy-mesh:frontTlsNodePort) to a host port",
        });
    });

    it("reports YAML syntax errors with the file name", () => {
        assert.throws(() => parseYaml("nodes: [", "kind/cluster.yaml"), /^OpsError: kind\/cluster\.yaml: not valid YAML: /);
    });
});
