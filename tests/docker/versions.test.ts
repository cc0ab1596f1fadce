import { strict as assert } from "node:assert";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import { composeMeshIssues, composeSchemaIssues } from "../../checks/compose";
import { buildDockerMesh, dockerContainers, type DockerCertificateFiles, type DockerMesh, type DockerProxy, type DockerTarget } from "../../docker";
import { COMPOSE_FILE } from "../../render/composeFile";
import { renderDocker } from "../../render/renderDocker";
import { parseStackSettings, readStackValues, type DockerStackSettings } from "../../stack";
import { parseTopology, type MeshService, type Topology } from "../../topology";
import { BUILDER_TEST_ENVOY_IMAGE } from "../helpers/images";

const REPO_ROOT = resolve(__dirname, "../..");
const TARGET: DockerTarget = { name: "envoy-mesh", envoyImage: BUILDER_TEST_ENVOY_IMAGE, front: { hostIp: "127.0.0.1", hostPort: 8080, tlsHostPort: 8443 } };
const IMAGES = { envoy: BUILDER_TEST_ENVOY_IMAGE, app: (s: MeshService) => (s.image.kind === "ref" ? s.image.ref : `app-of-${s.name}`) };
const CANARY = {
  extends: "seed",
  services: [{ name: "service-b", versions: [{ name: "v1", weight: 90, replicas: 2 }, { name: "v2", weight: 10, image: { ref: "example.com/b:2.0" } }] }],
};

function certificatesFor(topology: Topology): DockerCertificateFiles {
  const proxies = ["front-envoy", ...topology.services.map((s) => s.name)];
  return {
    identities: new Map(proxies.map((p) => [p, { certificatePem: `cert of ${p}`, privateKeyPem: `key of ${p}`, caPem: "mesh ca" }])),
    edge: { certificatePem: "edge cert", privateKeyPem: "edge key" },
  };
}

describe("docker: service versions", () => {
  let mesh: DockerMesh;
  let b: DockerProxy | undefined;
  before(() => {
    const topology = parseTopology(CANARY);
    mesh = buildDockerMesh(topology, TARGET, IMAGES, certificatesFor(topology));
    b = mesh.proxies.find((p) => p.proxy === "service-b");
  });
  const env = (c: any, name: string) => c.environment.find((e: any) => e.name === name)?.value;

  it("runs each version's replicas, named and aliased <service>-<version>, with the version's image", () => {
    assert.ok(b);
    assert.deepEqual(
      b.replicas.map((r) => [r.version, r.replica, r.envoy.name, (r.envoy.networking as any).aliases, r.app?.name, r.app?.image]),
      [
        ["v1", 1, "envoy-mesh-service-b-v1-1-envoy", ["service-b-v1"], "envoy-mesh-service-b-v1-1-app", "app-of-service-b"],
        ["v1", 2, "envoy-mesh-service-b-v1-2-envoy", ["service-b-v1"], "envoy-mesh-service-b-v1-2-app", "app-of-service-b"],
        ["v2", 1, "envoy-mesh-service-b-v2-1-envoy", ["service-b-v2"], "envoy-mesh-service-b-v2-1-app", "example.com/b:2.0"],
      ],
    );
  });

  it("gives every version the service's sidecar config and identity files, and its app its version", () => {
    assert.ok(b);
    for (const r of b.replicas) {
      assert.deepEqual(r.envoy.files, b.files);
      assert.equal(r.envoy.labels["envoy-mesh.version"], r.version);
      assert.equal(env(r.app, "SERVICE_VERSION"), r.version);
      assert.equal(env(r.app, "SERVICE_NAME"), "service-b");
    }
    const a = mesh.proxies.find((p) => p.proxy === "service-a");
    assert.equal(env(a?.replicas[0].app, "SERVICE_VERSION"), undefined);
    assert.equal(a?.replicas[0].version, undefined);
  });

  it("gives every container a name of its own", () => {
    const names = dockerContainers(mesh).map((c) => c.name);
    assert.equal(new Set(names).size, names.length);
  });

  it("renders a compose file and Envoy configs that pass every check (renderDocker refuses output that fails one)", () => {
    const base = parseStackSettings(readStackValues(REPO_ROOT, "docker"), { projectDir: REPO_ROOT }) as DockerStackSettings;
    const settings = { ...base, topology: parseTopology(CANARY, { projectDir: REPO_ROOT }) };
    const rendered = renderDocker(REPO_ROOT, settings, join(REPO_ROOT, "out"), "docker");
    const compose = load(rendered.files.get(COMPOSE_FILE) as string);
    assert.deepEqual(composeSchemaIssues(compose), []);
    assert.deepEqual(composeMeshIssues(compose), []);
    const services = Object.keys((compose as any).services);
    assert.ok(services.some((s) => s.includes("service-b-v2")), services.join(", "));
  });
});
