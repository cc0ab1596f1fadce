import { strict as assert } from "node:assert";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, isSecret, promiseOf, registered, setImageContent, type OutputsOf, type Registered } from "../helpers/pulumiMocks";
import { ServiceMesh } from "../../components";
import { parseStackSettings } from "../../stack";

const PROJECT_DIR = resolve(__dirname, "../..");
const SERVICE_MESH = "envoy-mesh:mesh:ServiceMesh";
const MESH_SERVICE = "envoy-mesh:mesh:MeshService";
const FRONT_PROXY = "envoy-mesh:mesh:FrontProxy";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const SERVICE = "kubernetes:core/v1:Service";
const SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const DOCKER_IMAGE = "docker:index/image:Image";

async function deploy(stack: string, config: Record<string, unknown>, password?: string, outputs?: OutputsOf) {
  const collect = await installMocks(stack, { outputs });
  const mesh = new ServiceMesh("envoy-mesh", {
    settings: parseStackSettings(config),
    projectDir: PROJECT_DIR,
    imageTag: stack,
    registryPassword: password === undefined ? undefined : pulumi.secret(password),
  });
  const frontUrl = await promiseOf(mesh.frontUrl);
  return { mesh, frontUrl, resources: await collect() };
}

const find = registered;

/** What the cloud reports for the front proxy's LoadBalancer Service once it has an address. */
function loadBalancerStatus(ingress: Record<string, string>[]): OutputsOf {
  return (r) => (r.type === SERVICE && r.name === "front-envoy-service" ? { status: { loadBalancer: { ingress } } } : undefined);
}

function podSpec(resources: Registered[], name: string) {
  return find(resources, DEPLOYMENT, `${name}-deployment`).inputs.spec.template.spec;
}

describe("ServiceMesh component", () => {
  describe("on kind", () => {
    let resources: Registered[];
    let frontUrl: string;
    let mesh: ServiceMesh;
    before(async () => ({ resources, frontUrl, mesh } = await deploy("kind", { target: "kind" })));

    it("creates one Kubernetes provider for the kind context", () => {
      const providers = resources.filter((r) => r.type === "pulumi:providers:kubernetes");
      assert.equal(providers.length, 1);
      assert.equal(providers[0].inputs.context, "kind-envoy-mesh");
    });

    it("registers every Kubernetes object through that provider", () => {
      const kubernetes = resources.filter((r) => r.type.startsWith("kubernetes:"));
      assert.ok(kubernetes.length >= 17);
      for (const r of kubernetes) assert.match(r.provider ?? "", /pulumi:providers:kubernetes::envoy-mesh-kind::/, `${r.name} provider`);
    });

    it("creates a MeshService per service and a FrontProxy under the ServiceMesh, each owning its objects", () => {
      const root = find(resources, SERVICE_MESH, "envoy-mesh");
      assert.equal(root.parent, undefined);
      const owners: [string, string][] = [
        [MESH_SERVICE, "service-a"],
        [MESH_SERVICE, "service-b"],
        [MESH_SERVICE, "service-c"],
        [FRONT_PROXY, "front-envoy"],
      ];
      for (const [ownerType, name] of owners) {
        const owner = find(resources, ownerType, name);
        assert.equal(owner.parent, root.urn, `${name} is a child of the ServiceMesh`);
        for (const [type, child] of [
          [SERVICE_ACCOUNT, `${name}-sa`],
          [CONFIG_MAP, `${name}-envoy-config`],
          [CONFIG_MAP, `${name}-envoy-live-config`],
          [DEPLOYMENT, `${name}-deployment`],
          [SERVICE, `${name}-service`],
        ]) {
          const object = find(resources, type, child);
          assert.equal(object.parent, owner.urn, `${child} is a child of ${name}`);
          assert.equal(object.qualifiedType, `${SERVICE_MESH}$${ownerType}$${type}`);
        }
      }
      const namespace = find(resources, NAMESPACE, "envoy-mesh-namespace");
      assert.equal(namespace.inputs.metadata.name, "envoy-mesh");
      assert.equal(namespace.parent, root.urn);
    });

    it("creates each Deployment only after the ServiceAccount and ConfigMaps it names", () => {
      for (const name of ["service-a", "service-b", "service-c", "front-envoy"]) {
        const { dependencies } = find(resources, DEPLOYMENT, `${name}-deployment`);
        const needs = [find(resources, SERVICE_ACCOUNT, `${name}-sa`), find(resources, CONFIG_MAP, `${name}-envoy-config`), find(resources, CONFIG_MAP, `${name}-envoy-live-config`)];
        for (const needed of needs) {
          assert.ok(dependencies.includes(needed.urn), `${name}-deployment waits for ${needed.name}; it waits for ${dependencies.join(", ") || "nothing"}`);
        }
      }
    });

    it("creates every namespaced object only after the namespace", () => {
      const namespace = find(resources, NAMESPACE, "envoy-mesh-namespace");
      const namespaced = resources.filter((r) => r.type.startsWith("kubernetes:") && r.type !== NAMESPACE);
      assert.ok(namespaced.length >= 16);
      for (const r of namespaced) assert.ok(r.dependencies.includes(namespace.urn), `${r.type}/${r.name} waits for the namespace`);
    });

    it("builds each service's pod on the app image it was given, waiting for its build", () => {
      const image = find(resources, DOCKER_IMAGE, "envoy-mesh-app-image");
      for (const name of ["service-a", "service-b", "service-c"]) {
        assert.ok(find(resources, DEPLOYMENT, `${name}-deployment`).dependencies.includes(image.urn), name);
      }
    });

    it("builds the demo app once for the three services and pushes it to kind's local registry", () => {
      const images = resources.filter((r) => r.type === DOCKER_IMAGE);
      assert.equal(images.length, 1);
      assert.equal(images[0].inputs.imageName, "localhost:5001/envoy-mesh-app:kind");
      assert.equal(images[0].inputs.build.context, resolve(PROJECT_DIR, "app"));
      assert.equal(images[0].inputs.skipPush, false);
      assert.equal(images[0].inputs.registry, undefined);
      assert.equal(images[0].inputs.build.platform, undefined, "on kind, the Docker engine's own platform: it runs the kind nodes");
      assert.equal(images[0].qualifiedType, `${SERVICE_MESH}$envoy-mesh:mesh:AppImage$${DOCKER_IMAGE}`);
    });

    it("runs each service pod as the app plus an Envoy native sidecar with its config mounted read-only", () => {
      const image = resources.find((r) => r.type === DOCKER_IMAGE) as Registered;
      for (const name of ["service-a", "service-b", "service-c"]) {
        const spec = podSpec(resources, name);
        const configMap = find(resources, CONFIG_MAP, `${name}-envoy-config`);
        assert.deepEqual(spec.containers.map((c: { name: string }) => c.name), ["app"]);
        assert.match(spec.containers[0].image, /^localhost:5001\/envoy-mesh-app@sha256:[0-9a-f]{64}$/);
        assert.ok(spec.containers[0].image.startsWith(image.inputs.imageName.replace(/:kind$/, "@")));
        const [envoy] = spec.initContainers;
        assert.equal(envoy.name, "envoy");
        assert.equal(envoy.restartPolicy, "Always");
        assert.deepEqual(envoy.volumeMounts[0], { name: "envoy-config", mountPath: "/etc/envoy", readOnly: true });
        assert.deepEqual(envoy.volumeMounts[1], { name: "envoy-xds", mountPath: "/etc/mesh/xds", readOnly: true });
        assert.equal(spec.volumes[0].configMap.name, configMap.inputs.metadata.name);
        assert.equal(spec.volumes[1].configMap.name, find(resources, CONFIG_MAP, `${name}-envoy-live-config`).inputs.metadata.name);
        assert.equal(configMap.inputs.immutable, true);
      }
    });

    it("gives the app of A one URL variable per upstream", () => {
      const env = podSpec(resources, "service-a").containers[0].env as { name: string; value?: string }[];
      assert.equal(env.find((e) => e.name === "SERVICE_B_URL")?.value, "http://127.0.0.1:10001");
      assert.equal(env.find((e) => e.name === "SERVICE_C_URL")?.value, "http://127.0.0.1:10002");
      assert.equal(env.find((e) => e.name === "UPSTREAMS")?.value, "service-b,service-c");
    });

    it("makes every service headless and aims it at the Envoy ingress, not the app", () => {
      for (const name of ["service-a", "service-b", "service-c"]) {
        const spec = find(resources, SERVICE, `${name}-service`).inputs.spec;
        assert.equal(spec.clusterIP, "None");
        assert.deepEqual(spec.ports.map((p: { port: number; targetPort: string }) => [p.port, p.targetPort]), [[10000, "envoy-ingress"]]);
      }
    });

    it("exposes the Front Envoy on NodePort 30080 and reports localhost:8080", () => {
      const spec = find(resources, SERVICE, "front-envoy-service").inputs.spec;
      assert.equal(spec.type, "NodePort");
      assert.equal(spec.ports[0].nodePort, 30080);
      assert.equal(spec.ports[0].port, 80);
      assert.equal(frontUrl, "http://localhost:8080");
    });

    it("reports each service's DNS name and egress ports", () => {
      assert.deepEqual(mesh.services["service-a"], {
        dns: "service-a.envoy-mesh.svc.cluster.local",
        egressPorts: { "service-b": 10001, "service-c": 10002 },
      });
      assert.deepEqual(mesh.services["service-b"].egressPorts, {});
    });
  });

  describe("on a cloud cluster", () => {
    let resources: Registered[];
    before(async () => {
      ({ resources } = await deploy(
        "prod",
        { target: "cloud", kubeconfig: "/etc/kube/config", kubeContext: "prod", registry: "ghcr.io/acme", registryUsername: "bot", registryPassword: { secure: "x" }, platform: "linux/arm64" },
        "s3cret",
      ));
    });

    it("builds images for the configured platform", () => {
      const images = resources.filter((r) => r.type === DOCKER_IMAGE);
      assert.ok(images.length > 0);
      for (const image of images) assert.equal(image.inputs.build.platform, "linux/arm64");
    });

    it("points the provider at the configured kubeconfig and context", () => {
      const [provider] = resources.filter((r) => r.type === "pulumi:providers:kubernetes");
      assert.equal(provider.inputs.kubeconfig, "/etc/kube/config");
      assert.equal(provider.inputs.context, "prod");
      assert.equal(provider.name, "envoy-mesh-cloud");
      // xDS ConfigMaps are updated in place, as on kind (inputs reach the engine JSON-encoded).
      assert.equal(provider.inputs.enableConfigMapMutable, "true");
    });

    it("pushes images to the configured registry with its credentials", () => {
      const [image] = resources.filter((r) => r.type === DOCKER_IMAGE);
      assert.equal(image.inputs.imageName, "ghcr.io/acme/envoy-mesh-app:prod");
      assert.ok(isSecret(image.inputs.registry), "registry credentials stay a secret");
      assert.deepEqual(image.inputs.registry.value, { server: "ghcr.io", username: "bot", password: "s3cret" });
    });

    it("exposes the Front Envoy through a LoadBalancer", () => {
      const spec = find(resources, SERVICE, "front-envoy-service").inputs.spec;
      assert.equal(spec.type, "LoadBalancer");
      assert.equal(spec.ports[0].nodePort, undefined);
    });
  });

  describe("the front URL on a cloud cluster", () => {
    const cloud = { target: "cloud", registry: "ghcr.io/acme" };
    const frontUrlWith = async (outputs?: OutputsOf) => (await deploy("prod", cloud, undefined, outputs)).frontUrl;

    it("is the load balancer's hostname when it has both a hostname and an IP", async () => {
      assert.equal(await frontUrlWith(loadBalancerStatus([{ hostname: "lb.example.com", ip: "192.0.2.10" }])), "http://lb.example.com");
    });

    it("is the load balancer's IP when it has no hostname", async () => {
      assert.equal(await frontUrlWith(loadBalancerStatus([{ ip: "192.0.2.10" }])), "http://192.0.2.10");
    });

    it("says pending while the load balancer has no address", async () => {
      assert.equal(await frontUrlWith(), "http://pending");
    });
  });

  describe("Envoy configs Envoy would refuse", () => {
    // The builders only produce valid configs, so stand in for a builder bug at the check's seam.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const check = require("../../envoy/check") as typeof import("../../envoy/check");
    const original = check.envoyConfigProblems;
    afterEach(() => ((check as { envoyConfigProblems: unknown }).envoyConfigProblems = original));

    it("stop the mesh before anything is registered, naming the proxy and the problem", async () => {
      (check as { envoyConfigProblems: unknown }).envoyConfigProblems = () => [
        { path: "envoy config of service-b: static_resources.clusters[0].connect_timeout", message: "invalid duration" },
      ];
      const collect = await installMocks("kind");
      assert.throws(
        () => new ServiceMesh("envoy-mesh", { settings: parseStackSettings({}), projectDir: PROJECT_DIR, imageTag: "kind" }),
        (error: unknown) =>
          error instanceof pulumi.RunError &&
          /generated Envoy configs that Envoy would refuse/.test(error.message) &&
          error.message.includes("envoy config of service-b: static_resources.clusters[0].connect_timeout: invalid duration"),
      );
      assert.deepEqual(await collect(), []);
    });
  });

  describe("rollouts", () => {
    const deploymentOf = async (config: Record<string, unknown>) => {
      const { resources } = await deploy("kind", config);
      return { deployment: find(resources, DEPLOYMENT, "service-b-deployment").inputs, configMap: find(resources, CONFIG_MAP, "service-b-envoy-config").inputs };
    };

    it("renames the bootstrap ConfigMap and changes the pod template when the Envoy bootstrap changes", async () => {
      const before = await deploymentOf({});
      const after = await deploymentOf({ topology: "extends: seed\nports: {admin: 9911}" });
      assert.notEqual(after.configMap.metadata.name, before.configMap.metadata.name);
      assert.equal(after.deployment.spec.template.spec.volumes[0].configMap.name, after.configMap.metadata.name);
      assert.notDeepEqual(after.deployment.spec.template, before.deployment.spec.template);
    });

    it("leaves the ConfigMap and the Deployment untouched when nothing changes", async () => {
      const first = await deploymentOf({});
      const second = await deploymentOf({});
      assert.deepEqual(second.configMap, first.configMap);
      assert.deepEqual(second.deployment, first.deployment);
    });

    it("changes the pod template when the app image is rebuilt with new code, and only then", async () => {
      setImageContent("v1");
      const before = await deploymentOf({});
      const same = await deploymentOf({});
      setImageContent("v2");
      const after = await deploymentOf({});
      setImageContent("v1");
      assert.deepEqual(same.deployment.spec.template, before.deployment.spec.template);
      assert.notEqual(after.deployment.spec.template.spec.containers[0].image, before.deployment.spec.template.spec.containers[0].image);
      assert.deepEqual(after.configMap, before.configMap);
    });
  });
});
