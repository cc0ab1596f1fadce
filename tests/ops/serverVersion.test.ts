import { strict as assert } from "assert";
import * as path from "path";
import { serverVersionProblem } from "../../k8s/serverVersion";
import { KIND_CONFIG_FILE, parseKindConfig } from "../../ops/kindConfig";
import { checkNodeImages, nodeImageVersion, parseKubectlVersion } from "../../ops/serverVersion";
import { readYamlFile } from "../../ops/yaml";
import { kubectlVersionJson } from "./fakes";

const REPO = path.resolve(__dirname, "..", "..");

describe("ops/serverVersion", () => {
    it("the node image pinned in kind/cluster.yaml is Kubernetes 1.35 and passes the gate", () => {
        const config = parseKindConfig(readYamlFile(path.join(REPO, KIND_CONFIG_FILE), KIND_CONFIG_FILE));
        const images = config.nodes.map((n) => n.image ?? "");
        assert.ok(images.length > 0);
        for (const image of images) {
            const version = nodeImageVersion(image);
            assert.ok(version, `no version in ${image}`);
            assert.equal(`${version.major}.${version.minor}`, "1.35");
            assert.equal(serverVersionProblem(version, image), undefined);
        }
        assert.doesNotThrow(() => checkNodeImages(config, KIND_CONFIG_FILE));
    });

    it("reads the version from a node image tag, with or without a digest or registry", () => {
        assert.equal(nodeImageVersion("kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0")?.gitVersion, "v1.35.8");
        assert.equal(nodeImageVersion("localhost:5001/kindest/node:v1.31.2")?.gitVersion, "v1.31.2");
        assert.equal(nodeImageVersion("kindest/node"), undefined);
        assert.equal(nodeImageVersion("kindest/node@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0"), undefined);
        assert.equal(nodeImageVersion("my/node:latest"), undefined);
    });

    it("lists every node image that is too old, at once", () => {
        const config = parseKindConfig({
            kind: "Cluster",
            apiVersion: "kind.x-k8s.io/v1alpha4",
            nodes: [{ role: "control-plane", image: "kindest/node:v1.28.15" }, { role: "worker", image: "kindest/node:v1.35.8" }, { role: "worker", image: "kindest/node:v1.29.14" }],
        });
        assert.throws(
            () => checkNodeImages(config, "x.yaml"),
            (e: Error) =>
                /^x\.yaml: nodes\[0\]\.image kindest\/node:v1\.28\.15: Kubernetes v1\.28\.15 is older than 1\.30/.test(e.message) &&
                /\nx\.yaml: nodes\[2\]\.image kindest\/node:v1\.29\.14: Kubernetes v1\.29\.14 is older/.test(e.message) &&
                !e.message.includes("nodes[1]"),
        );
    });

    describe("parseKubectlVersion", () => {
        for (const v of ["v1.29.4", "v1.30.0+k3s1", "v1.31.2-eks-7f9249a", "v1.33.1-gke.1584000"]) {
            it(`reads serverVersion.gitVersion ${v}`, () => {
                assert.equal(parseKubectlVersion(kubectlVersionJson(v)).gitVersion, v);
            });
        }

        it("refuses output that is not JSON, or JSON without a server version, saying which", () => {
            assert.throws(() => parseKubectlVersion("Client Version: v1.35.8\n"), { message: '`kubectl version -o json` printed no JSON: "Client Version: v1.35.8"' });
            assert.throws(() => parseKubectlVersion('{"clientVersion":{"gitVersion":"v1.35.8"}}'), { message: "`kubectl version -o json` has no serverVersion.gitVersion" });
            assert.throws(() => parseKubectlVersion(kubectlVersionJson("v1.x")), /not a Kubernetes version .*: "v1\.x"/);
        });
    });
});
