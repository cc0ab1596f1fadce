import { strict as assert } from "assert";
import { LEAF_TYPE, changedRuns, containerRuns, identityCopyArgs, leafCertificateUrn } from "./dockerRenewal";

const urn = (name: string, type = LEAF_TYPE) => ({ urn: `urn:pulumi:docker::envoy-mesh::envoy-mesh:mesh:ServiceMesh$envoy-mesh:tls:MeshCertificates$${type}::${name}`, type });

describe("docker end-to-end renewal helpers (offline)", () => {
    it("picks the leaf certificate of one proxy's identity, not another's or another type's", () => {
        const resources = [
            urn("envoy-mesh-certificates-service-b-identity", "tls:index/privateKey:PrivateKey"),
            urn("envoy-mesh-certificates-service-b-identity"),
            urn("envoy-mesh-certificates-service-bb-identity"),
            urn("envoy-mesh-certificates-front-envoy-identity"),
        ];
        assert.equal(leafCertificateUrn(resources, "service-b"), resources[1].urn);
        assert.equal(leafCertificateUrn(resources, "front-envoy"), resources[3].urn);
    });

    it("fails, listing the leaves, when there is no such certificate", () => {
        assert.throws(() => leafCertificateUrn([urn("envoy-mesh-certificates-service-a-identity")], "service-b"), /found 0 among: urn:pulumi:.*service-a-identity/);
        assert.throws(() => leafCertificateUrn([], "service-b"), /found 0 among: none/);
    });

    it("copies each identity file with docker cp -L, following its link into the current generation, under its own name", () => {
        assert.deepEqual(identityCopyArgs("envoy-mesh-service-c-1-envoy", "/tmp/x/service-c"), [
            ["cp", "-L", "envoy-mesh-service-c-1-envoy:/etc/mesh/identity/tls.crt", "/tmp/x/service-c/tls.crt"],
            ["cp", "-L", "envoy-mesh-service-c-1-envoy:/etc/mesh/identity/tls.key", "/tmp/x/service-c/tls.key"],
            ["cp", "-L", "envoy-mesh-service-c-1-envoy:/etc/mesh/identity/ca.crt", "/tmp/x/service-c/ca.crt"],
        ]);
    });

    const inspect = (containers: { name: string; id: string; started: string; restarts?: number }[]) =>
        JSON.stringify(containers.map((c) => ({ Id: c.id, Name: `/${c.name}`, RestartCount: c.restarts ?? 0, State: { StartedAt: c.started, Running: true } })));

    it("reads each container's ID, start time and restart count from docker inspect", () => {
        const runs = containerRuns(inspect([{ name: "envoy-mesh-service-b-1-envoy", id: "a".repeat(64), started: "2026-12-02T08:00:00.1Z", restarts: 2 }]));
        assert.deepEqual([...runs], [["envoy-mesh-service-b-1-envoy", { id: "a".repeat(64), startedAt: "2026-12-02T08:00:00.1Z", restartCount: 2 }]]);
        assert.throws(() => containerRuns(JSON.stringify([{ Name: "/x" }])), /without Id, Name or State\.StartedAt/);
    });

    it("names every container that was replaced, restarted in place, removed or added, and nothing else", () => {
        const before = containerRuns(inspect([
            { name: "b-envoy", id: "1".repeat(64), started: "t0" },
            { name: "b-app", id: "2".repeat(64), started: "t0" },
            { name: "c-envoy", id: "3".repeat(64), started: "t0" },
            { name: "gone", id: "4".repeat(64), started: "t0" },
        ]));
        const after = containerRuns(inspect([
            { name: "b-envoy", id: "1".repeat(64), started: "t0" },
            { name: "b-app", id: "2".repeat(64), started: "t1", restarts: 1 },
            { name: "c-envoy", id: "5".repeat(64), started: "t1" },
            { name: "new", id: "6".repeat(64), started: "t1" },
        ]));
        assert.deepEqual(changedRuns(before, after), [
            "b-app: started t0 -> t1, restarts 0 -> 1",
            "c-envoy: id 333333333333 -> 555555555555, started t0 -> t1",
            "gone: gone",
            "new: new",
        ]);
        assert.deepEqual(changedRuns(before, before), []);
    });
});
