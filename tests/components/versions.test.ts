import { strict as assert } from "node:assert";
import { resolve } from "node:path";
import { load } from "js-yaml";
import { readFileSync } from "node:fs";
import { installMocks, promiseOf, registered, type Registered } from "../helpers/pulumiMocks";
import { ServiceMesh } from "../../components";
import { parseStackSettings } from "../../stack";

const PROJECT_DIR = resolve(__dirname, "../..");
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const SERVICE = "kubernetes:core/v1:Service";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const DOCKER_CONTAINER = "docker:index/container:Container";

/** The topology of Pulumi.canary-example.yaml. */
const CANARY = (load(readFileSync(resolve(PROJECT_DIR, "Pulumi.canary-example.yaml"), "utf8")) as any).config["envoy-mesh:topology"];

async function deploy(stack: string, config: Record<string, unknown>): Promise<Registered[]> {
  const collect = await installMocks(stack);
  const mesh = new ServiceMesh("envoy-mesh", { settings: parseStackSettings(config), projectDir: PROJECT_DIR, imageTag: stack });
  await promiseOf(mesh.frontUrl);
  return collect();
}

describe("ServiceMesh component: service versions", () => {
  it("registers one Deployment, headless Service and budget per version of B on kind, and none of B's own", async () => {
    const resources = await deploy("kind", { target: "kind", topology: CANARY });
    const names = (type: string) => resources.filter((r) => r.type === type).map((r) => r.name).filter((n) => n.startsWith("service-b")).sort();
    assert.deepEqual(names(DEPLOYMENT), ["service-b-v1-deployment", "service-b-v2-deployment"]);
    assert.deepEqual(names(SERVICE), ["service-b-v1-service", "service-b-v2-service"]);
    assert.deepEqual(names(PDB), ["service-b-v1-pdb"]);
    const v2 = registered(resources, DEPLOYMENT, "service-b-v2-deployment").inputs;
    assert.equal(v2.metadata.name, "service-b-v2");
    assert.equal(v2.spec.template.spec.serviceAccountName, "service-b");
  });

  it("runs a container pair per version replica on docker", async () => {
    const resources = await deploy("docker", { target: "docker", topology: CANARY });
    const containers = resources.filter((r) => r.type === DOCKER_CONTAINER).map((r) => r.name).filter((n) => n.startsWith("service-b")).sort();
    assert.deepEqual(containers, [
      // One files container per service: the sidecar config and identity are the service's.
      "service-b-files",
      "service-b-v1-1-app",
      "service-b-v1-1-envoy",
      "service-b-v1-2-app",
      "service-b-v1-2-envoy",
      "service-b-v2-1-app",
      "service-b-v2-1-envoy",
    ]);
  });
});
