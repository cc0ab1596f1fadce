import { tmpdir } from "node:os";
import { join } from "node:path";
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, promiseOf } from "./helpers/pulumiMocks";
import { TLS_TYPES, tlsProviderOutputs } from "./helpers/tlsProvider";

const PROGRAM = require.resolve("../index");

/** Runs the Pulumi program as `pulumi up` would, with the given stack config. */
async function runProgram(config: Record<string, string>, secretKeys: readonly string[] = []) {
  const collect = await installMocks("kind", { config, secretKeys });
  delete require.cache[PROGRAM];
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { exports: require(PROGRAM) as Record<string, unknown>, error: undefined, resources: await collect() };
  } catch (error) {
    return { exports: undefined, error, resources: await collect() };
  }
}

describe("Pulumi program (index.ts)", () => {
  it("exports the front URL, the namespace and each service's DNS name and egress ports", async () => {
    const { exports, error } = await runProgram({ target: "kind" });
    assert.equal(error, undefined);
    assert.equal(await promiseOf(exports?.frontUrl as pulumi.Output<string>), "http://localhost:8080");
    assert.equal(exports?.namespace, "envoy-mesh");
    const services = exports?.services as Record<string, { dns: string; egressPorts: Record<string, number> }>;
    assert.deepEqual(Object.keys(services), ["service-a", "service-b", "service-c"]);
    assert.equal(services["service-c"].dns, "service-c.envoy-mesh.svc.cluster.local");
  });

  it("exports envoyConfig on kind and docker: per proxy, its bootstrap version and the version each xDS subscription must report", async () => {
    for (const target of ["kind", "docker"]) {
      const { exports, error } = await runProgram({ target });
      assert.equal(error, undefined);
      const envoyConfig = (await promiseOf(exports?.envoyConfig as pulumi.Output<Record<string, { bootstrap: string; live: Record<string, string> }>>)) ?? {};
      assert.deepEqual(Object.keys(envoyConfig), ["front-envoy", "service-a", "service-b", "service-c"], target);
      assert.match(envoyConfig["service-b"].bootstrap, /^[0-9a-f]{16}$/, target);
      assert.deepEqual(Object.keys(envoyConfig["service-b"].live), ["cluster_manager.cds", "http.ingress.rds.ingress", "listener_manager.lds"], target);
    }
  });

  it("deploys the docker target without Kubernetes and exports the same shape: localhost:8080, the network, the aliases", async () => {
    const { exports, error, resources } = await runProgram({ target: "docker" });
    assert.equal(error, undefined);
    assert.equal(await promiseOf(exports?.frontUrl as pulumi.Output<string>), "http://localhost:8080");
    assert.equal(exports?.namespace, "envoy-mesh");
    const services = exports?.services as Record<string, { dns: string; egressPorts: Record<string, number> }>;
    assert.equal(services["service-c"].dns, "service-c");
    assert.deepEqual(resources.filter((r) => r.type.startsWith("kubernetes:") || r.type === "pulumi:providers:kubernetes"), []);
    assert.ok(resources.some((r) => r.type === "docker:index/container:Container"));
  });

  it("exports, for a service with versions, the name of each version (the service's own name resolves nothing)", async () => {
    const topology = JSON.stringify({ extends: "seed", services: [{ name: "service-b", versions: [{ name: "v1", weight: 90 }, { name: "v2", weight: 10 }] }] });
    for (const [target, v2] of [["kind", "service-b-v2.envoy-mesh.svc.cluster.local"], ["docker", "service-b-v2"]]) {
      const { exports, error } = await runProgram({ target, topology });
      assert.equal(error, undefined);
      const services = exports?.services as Record<string, { dns?: string; versions?: Record<string, string> }>;
      assert.equal(services["service-b"].dns, undefined, target);
      assert.equal(services["service-b"].versions?.v2, v2, target);
      assert.equal(services["service-c"].versions, undefined, target);
    }
  });

  it("refuses a bad topology with every problem named, and registers nothing", async () => {
    const topology = JSON.stringify({ extends: "seed", services: [{ name: "Service_D", appPort: 80 }, { name: "service-b", upstreams: ["nope"] }] });
    const { error, resources } = await runProgram({ target: "kind", topology });
    assert.ok(error instanceof pulumi.RunError, `expected a RunError (printed without a stack trace), got ${error}`);
    const message = (error as Error).message;
    assert.match(message, /envoy-mesh:topology\.services\[0\]\.name: "Service_D" is not a valid name/);
    assert.match(message, /envoy-mesh:topology\.services\[0\]\.appPort: 80 is not an integer from 1024 to 65535/);
    assert.match(message, /envoy-mesh:topology\.services\[1\]\.upstreams\[0\]: unknown service "nope"/);
    assert.deepEqual(resources, []);
  });

  it("refuses an unknown config key and a bad target before creating anything", async () => {
    const { error, resources } = await runProgram({ target: "minikube", replicaz: "3" });
    assert.ok(error instanceof pulumi.RunError);
    assert.match((error as Error).message, /envoy-mesh:target: "minikube" is not one of kind, cloud/);
    assert.match((error as Error).message, /envoy-mesh:replicaz: unknown config key/);
    assert.deepEqual(resources, []);
  });

  // A kubeconfig that does not exist, so the program's server-version check never asks a real cluster.
  const CLOUD = { target: "cloud", registry: "ghcr.io/acme", registryUsername: "bot", kubeconfig: join(tmpdir(), "envoy-mesh-no-such-kubeconfig") };

  it("deploys a cloud stack whose registryPassword was set with --secret", async () => {
    const { error, resources } = await runProgram({ ...CLOUD, registryPassword: "s3cret" }, ["registryPassword"]);
    assert.equal(error, undefined);
    const image = resources.find((r) => r.type === "docker:index/image:Image");
    assert.ok(image);
    assert.deepEqual(image.inputs.registry.value, { server: "ghcr.io", username: "bot", password: "s3cret" });
  });

  it("refuses a registryPassword set without --secret, and registers nothing", async () => {
    const { error, resources } = await runProgram({ ...CLOUD, registryPassword: "s3cret" });
    assert.ok(error instanceof pulumi.RunError);
    assert.match((error as Error).message, /envoy-mesh:registryPassword: must be a secret: set it with pulumi config set --secret registryPassword <token>/);
    assert.doesNotMatch((error as Error).message, /s3cret/);
    assert.deepEqual(resources, []);
  });

  describe("with the stack's own mesh CA", () => {
    let ca: { certPem: string; keyPem: string };
    before(async () => {
      const key = String((await tlsProviderOutputs({ type: TLS_TYPES.privateKey, name: "k", inputs: { algorithm: "ECDSA", ecdsaCurve: "P256" } }))?.privateKeyPem);
      const inputs = { privateKeyPem: key, isCaCertificate: true, subject: { commonName: "Acme CA" }, validityPeriodHours: 24, allowedUses: ["cert_signing"] };
      ca = { certPem: String((await tlsProviderOutputs({ type: TLS_TYPES.selfSignedCert, name: "ca", inputs }))?.certPem), keyPem: key };
    });

    it("deploys a cloud stack whose caPrivateKey was set with --secret", async () => {
      const { error } = await runProgram({ ...CLOUD, registryPassword: "s3cret", caCertificate: ca.certPem, caPrivateKey: ca.keyPem }, ["registryPassword", "caPrivateKey"]);
      assert.equal(error, undefined);
    });

    it("refuses a caPrivateKey set without --secret, never showing it, and registers nothing", async () => {
      const { error, resources } = await runProgram({ ...CLOUD, registryPassword: "s3cret", caCertificate: ca.certPem, caPrivateKey: ca.keyPem }, ["registryPassword"]);
      assert.ok(error instanceof pulumi.RunError);
      assert.match((error as Error).message, /envoy-mesh:caPrivateKey: must be a secret: set it with pulumi config set --secret caPrivateKey < ca\.key/);
      assert.doesNotMatch((error as Error).message, /PRIVATE KEY/);
      assert.deepEqual(resources, []);
    });
  });

  it("reads the topology as structured config (JSON, as the CLI passes an object)", async () => {
    const topology = JSON.stringify({ extends: "seed", front: { replicas: 2 }, services: [{ name: "service-b", replicas: 3 }] });
    const { error, resources } = await runProgram({ target: "kind", topology });
    assert.equal(error, undefined);
    const replicas = (name: string) => resources.find((r) => r.type === "kubernetes:apps/v1:Deployment" && r.name === `${name}-deployment`)?.inputs.spec.replicas;
    assert.equal(replicas("front-envoy"), 2);
    assert.equal(replicas("service-b"), 3);
  });
});
