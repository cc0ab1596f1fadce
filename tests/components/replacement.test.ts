import { strict as assert } from "node:assert";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, promiseOf } from "../helpers/pulumiMocks";
import { ServiceMesh } from "../../components";
import { serviceResourceOptions } from "../../components/proxyObjects";
import { buildFrontService, buildHeadlessService } from "../../k8s";
import { parseStackSettings } from "../../stack";
import { parseTopology } from "../../topology";
import { BUILDER_TEST_ENVOY_IMAGE } from "../helpers/images";

const PROJECT_DIR = resolve(__dirname, "../..");

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getDeletebeforereplace(): boolean;
  getAdditionalsecretoutputsList(): string[];
}

/** Deploys with mocks and returns the resource options each registration carried to the engine. */
async function registeredOptions(stack: string, config: Record<string, unknown>, password?: string) {
  const collect = await installMocks(stack);
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: RegisterRequest, cb: unknown): unknown };
  const options = new Map<string, { deleteBeforeReplace: boolean; additionalSecretOutputs: string[] }>();
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    options.set(`${req.getType()}::${req.getName()}`, {
      deleteBeforeReplace: req.getDeletebeforereplace(),
      additionalSecretOutputs: req.getAdditionalsecretoutputsList(),
    });
    return original(req, cb);
  };
  const mesh = new ServiceMesh("envoy-mesh", {
    settings: parseStackSettings(config),
    projectDir: PROJECT_DIR,
    imageTag: stack,
    registryPassword: password === undefined ? undefined : pulumi.secret(password),
  });
  await promiseOf(mesh.frontUrl);
  await collect();
  return options;
}

describe("replacement of objects whose identity would collide", () => {
  it("deletes the front Service before replacing it when it pins a node port (kind), since node ports are cluster-wide", async () => {
    const options = await registeredOptions("kind", { target: "kind" });
    assert.equal(options.get("kubernetes:core/v1:Service::front-envoy-service")?.deleteBeforeReplace, true);
    for (const name of ["service-a", "service-b", "service-c"]) {
      assert.equal(options.get(`kubernetes:core/v1:Service::${name}-service`)?.deleteBeforeReplace, false, name);
    }
  });

  it("keeps create-before-delete for a LoadBalancer front Service, whose node port the cluster picks", async () => {
    const options = await registeredOptions("prod", { target: "cloud", registry: "ghcr.io/acme" });
    assert.equal(options.get("kubernetes:core/v1:Service::front-envoy-service")?.deleteBeforeReplace, false);
  });

  it("asks the engine to keep the pull Secret's data secret in its outputs too", async () => {
    const options = await registeredOptions(
      "prod",
      { target: "cloud", registry: "ghcr.io/acme", registryUsername: "bot", registryPassword: { secure: "x" } },
      "s3cret",
    );
    const secretOutputs = options.get("kubernetes:core/v1:Secret::envoy-mesh-registry")?.additionalSecretOutputs ?? [];
    assert.deepEqual([...new Set(secretOutputs)].sort(), ["data", "stringData"]);
  });

  describe("serviceResourceOptions", () => {
    let topology: ReturnType<typeof parseTopology>;
    before(() => (topology = parseTopology(undefined)));
    const target = { namespace: "envoy-mesh", clusterDomain: "cluster.local", envoyImage: BUILDER_TEST_ENVOY_IMAGE };

    it("asks for delete-before-replace exactly when a port pins a node port", () => {
      assert.deepEqual(serviceResourceOptions(buildFrontService({ ...target, front: { type: "NodePort", nodePort: 30080, tlsNodePort: 30443 } })), { deleteBeforeReplace: true });
      assert.deepEqual(serviceResourceOptions(buildFrontService({ ...target, front: { type: "LoadBalancer" } })), {});
      assert.deepEqual(serviceResourceOptions(buildHeadlessService(topology.services[0], topology, "envoy-mesh")), {});
    });
  });
});
