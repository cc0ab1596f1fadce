import { strict as assert } from "node:assert";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import { PLACEHOLDER_PASSWORD, PLACEHOLDER_USERNAME, renderMesh, type RenderedMesh } from "../../render/renderMesh";
import { writeTree } from "../../render/writeTree";
import { DEFAULT_ENVOY_IMAGE, PLACEHOLDER_TAG } from "../../stack";
import { ConfigError } from "../../topology";

const REPO_ROOT = resolve(__dirname, "../..");

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  type?: string;
  imagePullSecrets?: { name: string }[];
  data?: Record<string, string>;
  spec?: any;
}

function k8sDocs(rendered: RenderedMesh): Doc[] {
  return [...rendered.files].filter(([path]) => path.startsWith("k8s/")).map(([, content]) => load(content) as Doc);
}

function ofKind(rendered: RenderedMesh, kind: string): Doc[] {
  return k8sDocs(rendered).filter((d) => d.kind === kind);
}

function deployment(rendered: RenderedMesh, name: string): Doc {
  const found = ofKind(rendered, "Deployment").find((d) => d.metadata.name === name);
  assert.ok(found, `no Deployment ${name}`);
  return found;
}

/** The registry entries of a rendered pull Secret, decoded as the kubelet reads them. */
function pullAuths(doc: Doc): Record<string, { username: string; password: string; auth: string }> {
  return JSON.parse(Buffer.from((doc.data as Record<string, string>)[".dockerconfigjson"], "base64").toString("utf8")).auths;
}

function images(doc: Doc): string[] {
  const pod = doc.spec.template.spec;
  return [...(pod.initContainers ?? []), ...pod.containers].map((c: { image: string }) => c.image);
}

describe("render/renderMesh", () => {
  describe("the kind stack of the repository", () => {
    let rendered: RenderedMesh;
    before(() => {
      rendered = renderMesh(REPO_ROOT, "kind");
    });

    it("renders one Envoy config per proxy", () => {
      const envoy = [...rendered.files.keys()].filter((p) => p.startsWith("envoy/"));
      assert.deepEqual(envoy, ["envoy/front-envoy.yaml", "envoy/service-a.yaml", "envoy/service-b.yaml", "envoy/service-c.yaml"]);
      assert.equal(rendered.envoyConfigCount, 4);
    });

    it("renders only envoy/ and k8s/ files", () => {
      assert.ok([...rendered.files.keys()].every((p) => /^(envoy|k8s)\/[^/]+\.yaml$/.test(p)));
    });

    it("numbers the Kubernetes files in apply order, the namespace first", () => {
      const k8s = [...rendered.files.keys()].filter((p) => p.startsWith("k8s/"));
      assert.ok(k8s[0].startsWith("k8s/00-namespace-"), k8s[0]);
      k8s.forEach((path, i) => assert.ok(path.startsWith(`k8s/${String(i).padStart(2, "0")}-`), path));
      assert.equal(rendered.manifestCount, k8s.length);
    });

    it("names each Kubernetes file after its object's kind and name", () => {
      for (const [path, content] of rendered.files) {
        if (!path.startsWith("k8s/")) continue;
        const doc = load(content) as Doc;
        assert.equal(path.replace(/^k8s\/\d+-/, ""), `${doc.kind.toLowerCase()}-${doc.metadata.name}.yaml`);
      }
    });

    it("stores each proxy's rendered Envoy config, byte for byte, in its ConfigMap", () => {
      const configMaps = ofKind(rendered, "ConfigMap");
      assert.equal(configMaps.length, 4);
      for (const configMap of configMaps) {
        const proxy = configMap.metadata.labels?.["app.kubernetes.io/name"];
        assert.ok(configMap.data, configMap.metadata.name);
        assert.equal(configMap.data["envoy.yaml"], rendered.files.get(`envoy/${proxy}.yaml`), `ConfigMap of ${proxy}`);
      }
    });

    it("mounts each proxy's ConfigMap in its Deployment", () => {
      for (const configMap of ofKind(rendered, "ConfigMap")) {
        const proxy = configMap.metadata.labels?.["app.kubernetes.io/name"] as string;
        const volumes = deployment(rendered, proxy).spec.template.spec.volumes as { configMap?: { name: string } }[];
        assert.ok(
          volumes.some((v) => v.configMap?.name === configMap.metadata.name),
          proxy,
        );
      }
    });

    it("puts every namespaced object in the stack's namespace", () => {
      for (const doc of k8sDocs(rendered)) {
        if (doc.kind !== "Namespace") assert.equal(doc.metadata.namespace, "envoy-mesh", `${doc.kind}/${doc.metadata.name}`);
      }
    });

    it("gives built app images a placeholder tag on kind's local registry, and Envoy the pinned image", () => {
      const all = images(deployment(rendered, "service-a"));
      assert.ok(all.includes(`localhost:5001/envoy-mesh-app:${PLACEHOLDER_TAG}`), all.join(", "));
      assert.ok(all.includes(DEFAULT_ENVOY_IMAGE), all.join(", "));
    });

    it("writes no pull Secret (kind's local registry needs none) and notes nothing", () => {
      assert.deepEqual(ofKind(rendered, "Secret"), []);
      for (const account of ofKind(rendered, "ServiceAccount")) assert.equal(account.imagePullSecrets, undefined);
      assert.deepEqual(rendered.notes, []);
    });

    it("exposes the front proxy on NodePort 30080", () => {
      const front = ofKind(rendered, "Service").find((s) => s.metadata.name === "front-envoy");
      assert.equal(front?.spec.type, "NodePort");
      assert.ok(front?.spec.ports.some((p: { nodePort?: number }) => p.nodePort === 30080));
    });

    it("gives byte-identical output when rendered again", () => {
      const again = renderMesh(REPO_ROOT, "kind");
      assert.deepEqual([...again.files.keys()], [...rendered.files.keys()]);
      for (const [path, content] of again.files) assert.equal(content, rendered.files.get(path), path);
    });
  });

  describe("the cloud example stack of the repository", () => {
    let rendered: RenderedMesh;
    before(() => {
      rendered = renderMesh(REPO_ROOT, "cloud-example");
    });

    it("exposes the front proxy through a LoadBalancer", () => {
      assert.equal(ofKind(rendered, "Service").find((s) => s.metadata.name === "front-envoy")?.spec.type, "LoadBalancer");
    });

    it("names app images after the stack's registry", () => {
      assert.ok(images(deployment(rendered, "service-b")).includes(`ghcr.io/acme/envoy-mesh-app:${PLACEHOLDER_TAG}`));
    });

    it("writes the registry pull Secret, marked as a placeholder, and every ServiceAccount names it", () => {
      const [secret] = ofKind(rendered, "Secret");
      assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
      assert.equal(secret.metadata.name, "envoy-mesh-registry");
      assert.deepEqual(pullAuths(secret)["ghcr.io/acme"].username, "acme-bot");
      assert.deepEqual(pullAuths(secret)["ghcr.io/acme"].password, PLACEHOLDER_PASSWORD);
      assert.match(secret.metadata.annotations?.["envoy-mesh/placeholder"] ?? "", /placeholder/);
      const path = [...rendered.files.keys()].find((p) => p.includes("-secret-")) as string;
      assert.equal(path, "k8s/01-secret-envoy-mesh-registry.yaml");
      assert.match(rendered.files.get(path) as string, /^# Placeholder credential/);
      const accounts = ofKind(rendered, "ServiceAccount");
      assert.deepEqual(accounts.map((a) => a.metadata.name), ["front-envoy", "service-a", "service-b", "service-c"]);
      for (const account of accounts) assert.deepEqual(account.imagePullSecrets, [{ name: "envoy-mesh-registry" }]);
    });

    it("notes the placeholder and that pulumi up needs the password the example leaves unset", () => {
      assert.deepEqual(rendered.notes, [
        "k8s/01-secret-envoy-mesh-registry.yaml holds a placeholder password; pulumi up creates it with the stack's secret envoy-mesh:registryPassword",
        "envoy-mesh:registryPassword not set: pulumi up refuses until both registry credentials are set (pods pull with the ones that push)",
      ]);
    });

    it("applies the stack's topology changes over the seed", () => {
      assert.equal(deployment(rendered, "service-b").spec.replicas, 3);
      assert.equal(deployment(rendered, "front-envoy").spec.replicas, 2);
      assert.equal(deployment(rendered, "service-a").spec.replicas, 1);
    });
  });

  describe("a project of the test's own", () => {
    let dir: string;
    const stackFile = (stack: string, config: Record<string, unknown>) =>
      writeFileSync(join(dir, `Pulumi.${stack}.yaml`), JSON.stringify({ config }));

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "envoy-mesh-project-"));
    });
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    function renderError(stack: string): ConfigError {
      try {
        renderMesh(dir, stack);
      } catch (error) {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
        return error;
      }
      assert.fail("expected the render to be refused");
    }

    it("refuses a stack whose topology is invalid, naming the config path, and so writes nothing", () => {
      stackFile("bad", { "envoy-mesh:topology": "extends: seed\nservices:\n  - name: Service_D\n    appPort: 8084\n" });
      const out = join(dir, "out");
      const error = renderError("bad");
      assert.deepEqual(
        error.issues.map((i) => i.path),
        ["envoy-mesh:topology.services[0].name"],
      );
      assert.throws(() => writeTree(out, renderMesh(dir, "bad").files), ConfigError);
      assert.equal(existsSync(out), false);
    });

    it("refuses a topology whose build context is missing from the project", () => {
      stackFile("nobuild", {});
      assert.deepEqual(
        renderError("nobuild").issues.map((i) => i.path),
        [
          "envoy-mesh:topology (service service-a).image.build.context",
          "envoy-mesh:topology (service service-b).image.build.context",
          "envoy-mesh:topology (service service-c).image.build.context",
        ],
      );
    });

    describe("registry credentials", () => {
      const topology = {
        services: [{ name: "web", appPort: 8081, image: { ref: "registry.example:5000/team/web:1.0.0" } }],
        front: { routes: [{ prefix: "/", service: "web" }] },
      };
      const cloud = { "envoy-mesh:target": "cloud", "envoy-mesh:registry": "registry.example:5000/team", "envoy-mesh:topology": JSON.stringify(topology) };
      const secretOf = (rendered: RenderedMesh) => ofKind(rendered, "Secret");

      it("with a username and an encrypted password: the Secret, and only the placeholder note", () => {
        stackFile("both", { ...cloud, "envoy-mesh:registryUsername": "bot", "envoy-mesh:registryPassword": { secure: "v1:abc" } });
        const rendered = renderMesh(dir, "both");
        const auths = pullAuths(secretOf(rendered)[0]);
        assert.deepEqual(Object.keys(auths), ["registry.example:5000/team"]);
        assert.equal(auths["registry.example:5000/team"].username, "bot");
        assert.equal(auths["registry.example:5000/team"].password, PLACEHOLDER_PASSWORD);
        assert.equal(rendered.notes.length, 1);
        assert.ok(!JSON.stringify([...rendered.files.values()]).includes("v1:abc"), "the encrypted value is never written out");
      });

      it("with a username but no password: the Secret, and a note that pulumi up will refuse", () => {
        stackFile("user", { ...cloud, "envoy-mesh:registryUsername": "bot" });
        const rendered = renderMesh(dir, "user");
        assert.equal(secretOf(rendered).length, 1);
        assert.match(rendered.notes[1], /^envoy-mesh:registryPassword not set: pulumi up refuses/);
      });

      it("with a password but no username: the Secret with a placeholder username, and a note naming the username", () => {
        stackFile("pass", { ...cloud, "envoy-mesh:registryPassword": { secure: "v1:abc" } });
        const rendered = renderMesh(dir, "pass");
        assert.equal(pullAuths(secretOf(rendered)[0])["registry.example:5000/team"].username, PLACEHOLDER_USERNAME);
        assert.match(rendered.notes[1], /^envoy-mesh:registryUsername not set: pulumi up refuses/);
      });

      it("with neither: no Secret, no imagePullSecrets, no notes (a public registry)", () => {
        stackFile("public", cloud);
        const rendered = renderMesh(dir, "public");
        assert.deepEqual(secretOf(rendered), []);
        for (const account of ofKind(rendered, "ServiceAccount")) assert.equal(account.imagePullSecrets, undefined);
        assert.deepEqual(rendered.notes, []);
      });
    });

    it("renders prebuilt images without any build context", () => {
      const topology = {
        services: [{ name: "web", appPort: 8081, image: { ref: "ghcr.io/acme/web:1.0.0" } }],
        front: { routes: [{ prefix: "/", service: "web" }] },
      };
      stackFile("refs", { "envoy-mesh:topology": JSON.stringify(topology), "envoy-mesh:namespace": "shop" });
      const rendered = renderMesh(dir, "refs");
      assert.deepEqual([...rendered.files.keys()].filter((p) => p.startsWith("envoy/")), ["envoy/front-envoy.yaml", "envoy/web.yaml"]);
      assert.ok(images(deployment(rendered, "web")).includes("ghcr.io/acme/web:1.0.0"));
      assert.ok(rendered.files.has("k8s/00-namespace-shop.yaml"));
    });
  });
});
