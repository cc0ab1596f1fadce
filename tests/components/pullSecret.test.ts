import { strict as assert } from "node:assert";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, isSecret, promiseOf, type Registered } from "../helpers/pulumiMocks";
import { ServiceMesh } from "../../components";
import { pullCredentialProblems } from "../../components/pullSecret";
import { isKubernetesStack, parseStackSettings } from "../../stack";

const PROJECT_DIR = resolve(__dirname, "../..");
const SECRET = "kubernetes:core/v1:Secret";
const SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount";
const PASSWORD = "s3cret-t0ken";
const CLOUD = { target: "cloud", kubeContext: "prod", registry: "ghcr.io/acme" };

/** Direct dependencies (URNs) each registration carried, by `type::name`; the mock engine does not report them. */
let dependencies = new Map<string, string[]>();

async function deploy(config: Record<string, unknown>, password?: string): Promise<Registered[]> {
  const collect = await installMocks("prod");
  type Request = { getType(): string; getName(): string; getDependenciesList(): string[] };
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Request, cb: unknown): unknown };
  const original = monitor.registerResource.bind(monitor);
  dependencies = new Map();
  monitor.registerResource = (req, cb) => {
    dependencies.set(`${req.getType()}::${req.getName()}`, req.getDependenciesList());
    return original(req, cb);
  };
  const mesh = new ServiceMesh("envoy-mesh", {
    settings: parseStackSettings(config),
    projectDir: PROJECT_DIR,
    imageTag: "prod",
    registryPassword: password === undefined ? undefined : pulumi.secret(password),
  });
  await promiseOf(mesh.frontUrl);
  return collect();
}

/** Every input value outside Pulumi's secret wrappers, as text. */
function plainText(value: unknown): string {
  if (isSecret(value)) return "";
  if (Array.isArray(value)) return value.map(plainText).join(" ");
  if (typeof value === "object" && value !== null) return Object.entries(value).map(([k, v]) => `${k} ${plainText(v)}`).join(" ");
  return String(value);
}

/** The registry pull Secrets among the registered resources (the mesh's certificate Secrets are kubernetes.io/tls). */
function pullSecrets(resources: Registered[]): Registered[] {
  return resources.filter((r) => r.type === SECRET && r.inputs.type === "kubernetes.io/dockerconfigjson");
}

describe("registry pull Secret of the ServiceMesh component", () => {
  describe("on a cloud stack with registry credentials", () => {
    let resources: Registered[];
    before(async () => {
      resources = await deploy({ ...CLOUD, registryUsername: "acme-bot", registryPassword: { secure: "x" } }, PASSWORD);
    });

    it("creates one kubernetes.io/dockerconfigjson Secret in the mesh namespace, through the cluster's provider", () => {
      const secrets = pullSecrets(resources);
      assert.equal(secrets.length, 1);
      const [secret] = secrets;
      assert.equal(secret.name, "envoy-mesh-registry");
      assert.equal(secret.inputs.type, "kubernetes.io/dockerconfigjson");
      assert.equal(secret.inputs.metadata.name, "envoy-mesh-registry");
      assert.equal(secret.inputs.metadata.namespace, "envoy-mesh");
      assert.match(secret.provider ?? "", /pulumi:providers:kubernetes::envoy-mesh-cloud::/);
    });

    it("fills it from the same credentials that push the image, keeping the config a secret", () => {
      const [secret] = pullSecrets(resources);
      const { data } = secret.inputs;
      assert.ok(isSecret(data), "the data must stay a Pulumi secret");
      const config = JSON.parse(Buffer.from(String((data.value as Record<string, string>)[".dockerconfigjson"]), "base64").toString("utf8"));
      assert.deepEqual(config.auths["ghcr.io/acme"], {
        username: "acme-bot",
        password: PASSWORD,
        auth: Buffer.from(`acme-bot:${PASSWORD}`).toString("base64"),
      });
    });

    it("never puts the password, or the config that holds it, in any input as plain text", () => {
      const encoded = Buffer.from(PASSWORD).toString("base64");
      for (const r of resources) {
        const text = plainText(r.inputs);
        assert.ok(!text.includes(PASSWORD) && !text.includes(encoded), `${r.type} ${r.name} shows the password`);
      }
    });

    it("names it on every ServiceAccount, the front proxy's included", () => {
      const accounts = resources.filter((r) => r.type === SERVICE_ACCOUNT);
      assert.deepEqual(accounts.map((a) => a.inputs.metadata.name).sort(), ["front-envoy", "service-a", "service-b", "service-c"]);
      for (const account of accounts) assert.deepEqual(account.inputs.imagePullSecrets, [{ name: "envoy-mesh-registry" }]);
    });

    it("creates it before the ServiceAccounts and Deployments, whose pods need it to pull", () => {
      const needsSecret = [...dependencies].filter(([key]) => /::(.*-sa|.*-deployment)$/.test(key));
      assert.equal(needsSecret.length, 8);
      for (const [key, urns] of needsSecret) {
        assert.ok(urns.some((urn) => urn.endsWith("kubernetes:core/v1:Secret::envoy-mesh-registry")), `${key} does not wait for the Secret`);
      }
    });
  });

  describe("without credentials", () => {
    for (const [label, config] of Object.entries({ kind: { target: "kind" }, "a cloud stack with a public registry": CLOUD })) {
      it(`${label}: creates no Secret and names none`, async () => {
        const resources = await deploy(config);
        assert.deepEqual(pullSecrets(resources), []);
        for (const account of resources.filter((r) => r.type === SERVICE_ACCOUNT)) assert.equal(account.inputs.imagePullSecrets, undefined);
      });
    }
  });

  describe("with half the credentials", () => {
    it("refuses a username without a password before anything is registered, naming the missing key", async () => {
      const collect = await installMocks("prod");
      assert.throws(
        () =>
          new ServiceMesh("envoy-mesh", {
            settings: parseStackSettings({ ...CLOUD, registryUsername: "acme-bot" }),
            projectDir: PROJECT_DIR,
            imageTag: "prod",
          }),
        (error: unknown) =>
          error instanceof pulumi.RunError &&
          error.message.startsWith("incomplete registry credentials (1 problem):\n  - envoy-mesh:registryPassword: not set"),
      );
      assert.deepEqual(await collect(), []);
    });

    it("names the username when only the password is set", () => {
      const settings = parseStackSettings({ ...CLOUD, registryPassword: { secure: "x" } });
      assert.ok(isKubernetesStack(settings));
      assert.deepEqual(pullCredentialProblems(settings.registry, pulumi.secret(PASSWORD)).map((p) => p.path), ["envoy-mesh:registryUsername"]);
      assert.deepEqual(pullCredentialProblems(settings.registry, undefined), []);
    });
  });
});
