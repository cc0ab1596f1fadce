import { strict as assert } from "node:assert";
import { parseTopology, VERSION_TOTAL_WEIGHT } from "../../topology";
import { issuesOf, oneService } from "./fixtures";

/** `web` with the given versions. */
const versioned = (versions: unknown, service: Record<string, unknown> = {}) => oneService({ versions, ...service });
const messages = (raw: unknown) => issuesOf(raw).map((i) => `${i.path}: ${i.message}`);

describe("topology/versions", () => {
  it("leaves versions out of a service that declares none", () => {
    assert.equal("versions" in parseTopology(oneService()).services[0], false);
  });

  it("defaults a version's replicas and image to the service's, sorted by name", () => {
    const web = parseTopology(
      versioned([{ name: "v2", weight: 10, image: { ref: "example.com/web:2.0" } }, { name: "v1", weight: 90 }], { replicas: 3 }),
    ).services[0];
    assert.deepEqual(web.versions, [
      { name: "v1", weight: 90, replicas: 3, image: web.image },
      { name: "v2", weight: 10, replicas: 3, image: { kind: "ref", ref: "example.com/web:2.0" } },
    ]);
  });

  it("takes a version's own replicas, and a weight of 0 (reached only with the pinning header)", () => {
    const web = parseTopology(versioned([{ name: "v1", weight: 100 }, { name: "v2", weight: 0, replicas: 3 }])).services[0];
    assert.deepEqual(web.versions?.map((v) => [v.name, v.weight, v.replicas]), [["v1", 100, 1], ["v2", 0, 3]]);
  });

  it("accepts one version with all the traffic", () => {
    assert.deepEqual(parseTopology(versioned([{ name: "stable", weight: 100 }])).services[0].versions?.map((v) => v.name), ["stable"]);
  });

  it(`refuses weights that do not add up to ${VERSION_TOTAL_WEIGHT}, showing the sum`, () => {
    assert.deepEqual(messages(versioned([{ name: "v1", weight: 90 }, { name: "v2", weight: 20 }])), [
      "topology.services[0].versions: weights 90 + 20 = 110, but must add up to 100 (each is the version's share of the traffic in percent)",
    ]);
  });

  it("refuses a duplicate version name at its second use", () => {
    assert.deepEqual(messages(versioned([{ name: "v1", weight: 50 }, { name: "v1", weight: 50 }])), [
      'topology.services[0].versions[1].name: duplicate version name "v1"',
    ]);
  });

  it("refuses an empty list, and a bad name, weight and replicas, all at once", () => {
    assert.deepEqual(messages(versioned([])), [
      "topology.services[0].versions: must list at least one version (leave versions out for a service without versions)",
    ]);
    const found = messages(versioned([{ name: "V_2", weight: 101, replicas: -1 }, { weight: "x" }]));
    assert.ok(found.some((m) => m.startsWith('topology.services[0].versions[0].name: "V_2" is not a valid version name')), found.join("\n"));
    assert.ok(found.some((m) => m.startsWith("topology.services[0].versions[0].weight: ")), found.join("\n"));
    assert.ok(found.some((m) => m.startsWith("topology.services[0].versions[0].replicas: ")), found.join("\n"));
    assert.ok(found.some((m) => m.startsWith("topology.services[0].versions[1].name: ")), found.join("\n"));
    assert.ok(found.some((m) => m.startsWith("topology.services[0].versions[1].weight: ")), found.join("\n"));
  });

  it("requires a weight", () => {
    assert.deepEqual(messages(versioned([{ name: "v1" }])), [
      "topology.services[0].versions[0].weight: required: the version's share of the traffic, an integer from 0 to 100",
    ]);
  });

  it("refuses an unknown key in a version", () => {
    assert.ok(messages(versioned([{ name: "v1", weight: 100, port: 1 }])).some((m) => m.startsWith("topology.services[0].versions[0]")));
  });

  it("refuses traffic to a version without replicas", () => {
    assert.deepEqual(messages(versioned([{ name: "v1", weight: 90 }, { name: "v2", weight: 10, replicas: 0 }])), [
      "topology.services[0].versions[1].replicas: 0 replicas, but weight 10 sends traffic to this version: its callers would answer 503 (set weight 0 or replicas above 0)",
    ]);
  });

  it("refuses a version whose cluster name is another service's", () => {
    const raw = {
      services: [
        { name: "web", appPort: 8081, versions: [{ name: "v2", weight: 100 }] },
        { name: "web-v2", appPort: 8082 },
      ],
      front: { routes: [{ prefix: "/", service: "web" }] },
    };
    assert.deepEqual(messages(raw), [
      'topology.services[0].versions[0].name: version "v2" of "web" is named "web-v2" in the cluster, like service "web-v2"',
    ]);
  });

  it("refuses two versions of two services that share a cluster name", () => {
    const raw = {
      services: [
        { name: "b", appPort: 8081, versions: [{ name: "c-d", weight: 100 }] },
        { name: "b-c", appPort: 8082, versions: [{ name: "d", weight: 100 }] },
      ],
      front: { routes: [{ prefix: "/", service: "b" }] },
    };
    assert.deepEqual(messages(raw), ['topology.services[1].versions[0].name: version "d" of "b-c" is named "b-c-d" in the cluster, like version "c-d" of "b"']);
  });

  it("refuses a version name that makes the Deployment name longer than 63 characters", () => {
    const name = `s${"x".repeat(59)}`;
    const found = messages({ services: [{ name, appPort: 8081, versions: [{ name: "v10", weight: 100 }] }], front: { routes: [{ prefix: "/", service: name }] } });
    assert.equal(found.length, 1, found.join("\n"));
    assert.match(found[0], /^topology\.services\[0\]\.versions\[0\]\.name: "v10" makes the Deployment name "s.* longer than 63 characters$/);
  });

  it("refuses a bad image of a version at its path", () => {
    assert.deepEqual(messages(versioned([{ name: "v1", weight: 100, image: { ref: "web:latest" } }])), [
      'topology.services[0].versions[0].image.ref: "web:latest" must pin a tag or digest other than latest, so that pods roll only when it changes',
    ]);
  });

  it("keeps versions written over a seed service (extends: seed)", () => {
    const topology = parseTopology({ extends: "seed", services: [{ name: "service-b", versions: [{ name: "v1", weight: 90 }, { name: "v2", weight: 10 }] }] });
    assert.deepEqual(topology.services.find((s) => s.name === "service-b")?.versions?.map((v) => v.weight), [90, 10]);
  });
});
