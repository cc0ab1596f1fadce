import { X509Certificate } from "node:crypto";
import { strict as assert } from "node:assert";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { captureWarnings, installMocks, isSecret, promiseOf, registered, type Registered } from "../helpers/pulumiMocks";
import { ServiceMesh } from "../../components";
import { MTLS_OFF_WARNING } from "../../components/serviceMesh";
import { parseStackSettings } from "../../stack";

const PROJECT_DIR = resolve(__dirname, "../..");
const SECRET = "kubernetes:core/v1:Secret";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const NAMESPACE = "kubernetes:core/v1:Namespace";
const PROXIES: [string, string][] = [
  ["envoy-mesh:mesh:FrontProxy", "front-envoy"],
  ["envoy-mesh:mesh:MeshService", "service-a"],
  ["envoy-mesh:mesh:MeshService", "service-b"],
  ["envoy-mesh:mesh:MeshService", "service-c"],
];

async function deploy(config: Record<string, unknown>) {
  const collect = await installMocks("kind");
  const mesh = new ServiceMesh("envoy-mesh", { settings: parseStackSettings(config), projectDir: PROJECT_DIR, imageTag: "kind" });
  await promiseOf(mesh.frontUrl);
  return { mesh, resources: await collect() };
}

describe("ServiceMesh component: certificate Secrets on Kubernetes", () => {
  describe("on kind (mtls strict, a local edge certificate)", () => {
    let resources: Registered[];
    let mesh: ServiceMesh;
    let warnings: string[];
    before(async () => ({ result: { resources, mesh }, warnings } = await captureWarnings(() => deploy({ target: "kind" }))));

    it("registers each proxy's identity Secret under that proxy's component, after the namespace", () => {
      const namespace = registered(resources, NAMESPACE, "envoy-mesh-namespace");
      for (const [type, proxy] of PROXIES) {
        const owner = registered(resources, type, proxy);
        const secret = registered(resources, SECRET, `${proxy}-identity`);
        assert.equal(secret.parent, owner.urn, `${proxy}-identity belongs to ${proxy}`);
        assert.equal(secret.inputs.type, "kubernetes.io/tls");
        assert.equal(secret.inputs.metadata.name, `${proxy}-identity`);
        assert.ok(secret.dependencies.includes(namespace.urn), `${proxy}-identity waits for the namespace`);
        assert.match(secret.provider ?? "", /pulumi:providers:kubernetes::envoy-mesh-kind::/);
      }
    });

    it("keeps the certificate data a Pulumi secret (encrypted in the state, hidden in diffs)", () => {
      for (const secret of resources.filter((r) => r.type === SECRET)) {
        assert.ok(isSecret(secret.inputs.data), `${secret.name}: data must be a secret`);
        const data = (secret.inputs.data as { value: Record<string, string> }).value;
        for (const key of ["tls.crt", "tls.key"]) assert.match(Buffer.from(data[key], "base64").toString("utf8"), /^-----BEGIN /, `${secret.name} ${key}`);
      }
    });

    it("puts the certificates the MeshCertificates component issued into the Secrets", () => {
      const certificates = registered(resources, "envoy-mesh:mesh:MeshCertificates", "envoy-mesh-certificates");
      assert.equal(certificates.parent, registered(resources, "envoy-mesh:mesh:ServiceMesh", "envoy-mesh").urn);
      const data = (registered(resources, SECRET, "service-b-identity").inputs.data as { value: Record<string, string> }).value;
      const certificate = new X509Certificate(Buffer.from(data["tls.crt"], "base64").toString("utf8"));
      assert.equal(certificate.subjectAltName, "URI:spiffe://cluster.local/ns/envoy-mesh/sa/service-b");
      assert.ok(certificate.checkIssued(new X509Certificate(Buffer.from(data["ca.crt"], "base64").toString("utf8"))));
    });

    it("creates each Deployment only after the Secrets its pods mount", () => {
      for (const [, proxy] of PROXIES) {
        const { dependencies } = registered(resources, DEPLOYMENT, `${proxy}-deployment`);
        assert.ok(dependencies.includes(registered(resources, SECRET, `${proxy}-identity`).urn), `${proxy}-deployment waits for its identity`);
      }
      const edge = registered(resources, SECRET, "front-envoy-edge");
      assert.equal(edge.parent, registered(resources, "envoy-mesh:mesh:FrontProxy", "front-envoy").urn);
      assert.ok(registered(resources, DEPLOYMENT, "front-envoy-deployment").dependencies.includes(edge.urn));
    });

    it("mounts each identity into its own Envoy only", () => {
      for (const [, proxy] of PROXIES) {
        const spec = registered(resources, DEPLOYMENT, `${proxy}-deployment`).inputs.spec.template.spec;
        const volume = spec.volumes.find((v: any) => v.secret?.secretName === `${proxy}-identity`);
        assert.ok(volume, proxy);
        const containers = [...(spec.initContainers ?? []), ...spec.containers];
        assert.deepEqual(containers.filter((c: any) => (c.volumeMounts ?? []).some((m: any) => m.name === volume.name)).map((c: any) => c.name), ["envoy"]);
      }
    });

    it("exposes every certificate's expiry and the edge CA as outputs", async () => {
      const expiries = await promiseOf(mesh.certificateExpiries);
      for (const [, proxy] of PROXIES) assert.ok(expiries[proxy], proxy);
      assert.ok(mesh.edgeCaCertificate, "kind's local edge CA");
      assert.match(await promiseOf(mesh.edgeCaCertificate as pulumi.Output<string>), /^-----BEGIN /);
    });

    it("warns about nothing", () => {
      assert.deepEqual(warnings, []);
    });
  });

  describe("with mtls off", () => {
    let resources: Registered[];
    let warnings: string[];
    before(async () => ({ result: { resources }, warnings } = await captureWarnings(() => deploy({ target: "kind", topology: "extends: seed\nsecurity: {mtls: \"off\"}" }))));

    it("warns once, naming topology.security.mtls and that it is for debugging only", () => {
      assert.deepEqual(warnings, [MTLS_OFF_WARNING]);
      assert.match(MTLS_OFF_WARNING, /topology\.security\.mtls/);
      assert.match(MTLS_OFF_WARNING, /debugging only/);
    });

    it("creates no identity Secret; the edge keeps its certificate", () => {
      assert.deepEqual(resources.filter((r) => r.type === SECRET).map((r) => r.name), ["front-envoy-edge"]);
    });
  });
});
