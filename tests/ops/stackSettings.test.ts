import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { KIND_CONFIG_FILE, frontPortMapping, parseKindConfig } from "../../ops/kindConfig";
import { defaultSettings, localRegistryPort, readDockerSettings, readSettings } from "../../ops/stackSettings";
import { readYamlFile } from "../../ops/yaml";
import { makeRepo } from "./fakes";

const REPO = path.resolve(__dirname, "..", "..");

describe("ops/stackSettings: readSettings", () => {
    const repos: string[] = [];
    const repoWith = (config: Record<string, string | number>) => {
        const dir = makeRepo(config);
        repos.push(dir);
        return dir;
    };
    after(() => repos.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("defaults: namespace and cluster envoy-mesh, registry localhost:5001, NodePort 30080", () => {
        assert.deepEqual(readSettings(repoWith({ "envoy-mesh:target": "kind" })), {
            target: "kind",
            namespace: "envoy-mesh",
            kindClusterName: "envoy-mesh",
            registry: "localhost:5001",
            frontNodePort: 30080,
            frontTlsNodePort: 30443,
            healthPort: 9902,
            security: { mtls: "strict", plainHttp: "serve", renewBeforeHours: 720 },
            addons: false,
        });
        assert.deepEqual(readSettings(repoWith({})), defaultSettings(), "target defaults to kind");
    });

    it("takes the values set in Pulumi.kind.yaml; an empty registry means kind's local registry", () => {
        const s = readSettings(repoWith({ "envoy-mesh:kindClusterName": "dev", "envoy-mesh:frontNodePort": "30090", "envoy-mesh:namespace": "mesh", "envoy-mesh:registry": "" }));
        assert.deepEqual(s, { target: "kind", namespace: "mesh", kindClusterName: "dev", registry: "localhost:5001", frontNodePort: 30090, frontTlsNodePort: 30443, healthPort: 9902, security: { mtls: "strict", plainHttp: "serve", renewBeforeHours: 720 }, addons: false });
    });

    it("carries the topology's mtls, plainHttp and renewal window, which up acts on", () => {
        const topology = JSON.stringify({ extends: "seed", front: { plainHttp: "redirect" }, security: { mtls: "off", certificates: { renewBeforeHours: 48 } } });
        assert.deepEqual(readSettings(repoWith({ "envoy-mesh:topology": topology })).security, { mtls: "off", plainHttp: "redirect", renewBeforeHours: 48 });
    });

    it("refuses a target other than kind, naming file, key and value", () => {
        assert.throws(() => readSettings(repoWith({ "envoy-mesh:target": "cloud" })), {
            name: "OpsError",
            message: 'Pulumi.kind.yaml: config envoy-mesh:target is "cloud"; npm run up deploys the local kind stack, whose target must be "kind"',
        });
    });

    it("reports bad values with the program's messages, prefixed by the file", () => {
        assert.throws(() => readSettings(repoWith({ "envoy-mesh:frontNodePort": 8080 })), (e: Error) => {
            assert.equal(e.name, "OpsError");
            assert.match(e.message, /^Pulumi\.kind\.yaml: invalid stack configuration \(1 problem\):\n {2}- envoy-mesh:frontNodePort: /);
            return true;
        });
        assert.throws(() => readSettings(repoWith({ "envoy-mesh:topology": "services: [" })), /^OpsError: Pulumi\.kind\.yaml: .*\n {2}- envoy-mesh:topology: not valid YAML/);
    });

    it("the repository's Pulumi.kind.yaml gives the documented defaults", () => {
        assert.deepEqual(readSettings(REPO), defaultSettings());
    });

    it("the repository's kind/cluster.yaml maps that NodePort to host port 8080", () => {
        const config = parseKindConfig(readYamlFile(path.join(REPO, KIND_CONFIG_FILE)));
        assert.equal(frontPortMapping(config, readSettings(REPO).frontNodePort).hostPort, 8080);
    });
});

describe("ops/stackSettings: readDockerSettings", () => {
    const repos: string[] = [];
    const repoWith = (config: Record<string, string | number>) => {
        const dir = makeRepo(undefined, config);
        repos.push(dir);
        return dir;
    };
    after(() => repos.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("refuses a docker stack file whose target is another, naming file, key and value", () => {
        assert.throws(() => readDockerSettings(repoWith({ "envoy-mesh:target": "cloud" })), {
            name: "OpsError",
            message: 'Pulumi.docker.yaml: config envoy-mesh:target is "cloud"; npm run up deploys the local docker stack, whose target must be "docker"',
        });
    });

    it("the kind stack's file must still say kind: a docker target there is refused", () => {
        const dir = makeRepo({ "envoy-mesh:target": "docker" });
        repos.push(dir);
        assert.throws(() => readSettings(dir), {
            name: "OpsError",
            message: 'Pulumi.kind.yaml: config envoy-mesh:target is "docker"; npm run up deploys the local kind stack, whose target must be "kind"',
        });
    });

    it("the repository's Pulumi.docker.yaml is a docker stack published on 127.0.0.1:8080, on the network envoy-mesh", () => {
        assert.deepEqual(readDockerSettings(REPO), { target: "docker", frontHost: "127.0.0.1", frontHostPort: 8080, frontTlsHostPort: 8443, network: "envoy-mesh", healthPort: 9902, security: { mtls: "strict", plainHttp: "serve", renewBeforeHours: 720 } });
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
