import { strict as assert } from "node:assert";
import {
  DEFAULT_APP_RESOURCES,
  DEFAULT_ENVOY_RESOURCES,
  DEFAULT_ENVOY_SETTINGS,
  DEFAULT_FRONT_RESOURCES,
  DEFAULT_PORTS,
  parseTopology,
  type Topology,
} from "../../topology";
import { oneService } from "./fixtures";

describe("topology/defaults: applied by parseTopology", () => {
  let minimal: Topology;
  before(() => (minimal = parseTopology(oneService())));

  it("runs one replica of a service", () => {
    assert.equal(minimal.services[0].replicas, 1);
  });

  it("runs one replica of the front proxy", () => {
    assert.equal(minimal.front.replicas, 1);
  });

  it("keeps replicas 0 (scaled to zero) for a service", () => {
    assert.equal(parseTopology(oneService({ replicas: 0 })).services[0].replicas, 0);
  });

  it("builds the image from the app folder with its Dockerfile", () => {
    assert.deepEqual(minimal.services[0].image, { kind: "build", build: { context: "app", dockerfile: "Dockerfile" } });
  });

  it("uses Dockerfile when a build names only its context", () => {
    const image = parseTopology(oneService({ image: { build: { context: "services/web" } } })).services[0].image;
    assert.deepEqual(image, { kind: "build", build: { context: "services/web", dockerfile: "Dockerfile" } });
  });

  it("keeps a Dockerfile that is named", () => {
    const image = parseTopology(oneService({ image: { build: { context: "app", dockerfile: "Dockerfile.dev" } } })).services[0].image;
    assert.deepEqual(image, { kind: "build", build: { context: "app", dockerfile: "Dockerfile.dev" } });
  });

  it("gives the app and sidecar containers their default resources", () => {
    assert.deepEqual(minimal.services[0].resources, { app: DEFAULT_APP_RESOURCES, envoy: DEFAULT_ENVOY_RESOURCES });
  });

  it("gives the front proxy its default resources", () => {
    assert.deepEqual(minimal.front.resources, DEFAULT_FRONT_RESOURCES);
  });

  it("fills in the resource fields a service leaves out", () => {
    const resources = parseTopology(oneService({ resources: { app: { memoryLimit: "512Mi" }, envoy: { cpuRequest: "10m" } } })).services[0].resources;
    assert.deepEqual(resources.app, { ...DEFAULT_APP_RESOURCES, memoryLimit: "512Mi" });
    assert.deepEqual(resources.envoy, { ...DEFAULT_ENVOY_RESOURCES, cpuRequest: "10m" });
  });

  it("fills in the front resource fields left out", () => {
    const raw = oneService({}, { front: { routes: [{ prefix: "/", service: "web" }], resources: { memoryLimit: "1Gi" } } });
    assert.deepEqual(parseTopology(raw).front.resources, { ...DEFAULT_FRONT_RESOURCES, memoryLimit: "1Gi" });
  });

  it("uses the default mesh ports: ingress 10000, admin 9901, health 9902, egress from 10001, front 8080, front HTTPS 8443, app health 9903", () => {
    assert.deepEqual(minimal.ports, { ingress: 10000, admin: 9901, health: 9902, egressBase: 10001, front: 8080, frontTls: 8443, appHealth: 9903 });
    assert.deepEqual(minimal.ports, DEFAULT_PORTS);
  });

  it("fills in the mesh ports left out", () => {
    assert.deepEqual(parseTopology(oneService({}, { ports: { front: 8000 } })).ports, { ...DEFAULT_PORTS, front: 8000 });
  });

  it("uses the default Envoy settings: 250 ms connect timeout, 2 workers, 10 s drain, info logs", () => {
    assert.deepEqual(minimal.envoy, { connectTimeoutMs: 250, concurrency: 2, drainSeconds: 10, logLevel: "info" });
    assert.deepEqual(minimal.envoy, DEFAULT_ENVOY_SETTINGS);
  });

  it("fills in the Envoy settings left out", () => {
    assert.deepEqual(parseTopology(oneService({}, { envoy: { concurrency: 4 } })).envoy, { ...DEFAULT_ENVOY_SETTINGS, concurrency: 4 });
  });

  it("gives a service no upstreams when it lists none", () => {
    assert.deepEqual(minimal.services[0].upstreams, []);
  });
});
