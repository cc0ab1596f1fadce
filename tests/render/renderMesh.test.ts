import { strict as assert } from "node:assert";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import { renderMesh, type RenderedMesh } from "../../render/renderMesh";
import { writeTree } from "../../render/writeTree";
import { DEFAULT_ENVOY_IMAGE, PLACEHOLDER_TAG } from "../../stack";
import { ConfigError } from "../../topology";

const REPO_ROOT = resolve(__dirname, "../..");

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
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
      copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
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
  
    it("renders the object form of the topology (structured stack config)", () => {
      const topology = {
        services: [{ name: "web", appPort: 8081, image: { ref: "ghcr.io/acme/web:1.0.0" }, replicas: 3 }],
        front: { routes: [{ prefix: "/", service: "web" }] },
      };
      stackFile("object", { "envoy-mesh:topology": topology });
      assert.equal(deployment(renderMesh(dir, "object"), "web").spec.replicas, 3);
    });

    it("takes the defaults from the project's Pulumi.yaml, not from a copy in the code", () => {
      const project = readFileSync(join(dir, "Pulumi.yaml"), "utf8").replace("default: cluster.local", "default: mesh.example");
      writeFileSync(join(dir, "Pulumi.yaml"), project);
      stackFile("refs", { "envoy-mesh:topology": { services: [{ name: "web", appPort: 8081, image: { ref: "ghcr.io/acme/web:1.0.0" } }], front: { routes: [{ prefix: "/", service: "web" }] } } });
      assert.equal(renderMesh(dir, "refs").settings.mesh.clusterDomain, "mesh.example");
    });

    it("refuses a project without Pulumi.yaml", () => {
      rmSync(join(dir, "Pulumi.yaml"));
      stackFile("kind", {});
      assert.deepEqual(renderError("kind").issues, [{ path: join(dir, "Pulumi.yaml"), message: "not found" }]);
    });

    it("refuses a Pulumi.yaml that Pulumi refuses, with Pulumi's message", () => {
      const broken = readFileSync(join(dir, "Pulumi.yaml"), "utf8").replace("type: integer\n    default: 30080", "type: integer\n    default: eighty");
      writeFileSync(join(dir, "Pulumi.yaml"), broken);
      stackFile("kind", {});
      const error = renderError("kind");
      assert.equal(error.issues.length, 1);
      assert.equal(error.issues[0].path, join(dir, "Pulumi.yaml"));
      assert.equal(error.issues[0].message, "could not unmarshal: The default value specified for configuration key 'frontNodePort' is not of the expected type 'integer'");
    });

    it("refuses a stack file that Pulumi refuses, with Pulumi's message", () => {
      stackFile("typed", { "envoy-mesh:frontNodePort": "port" });
      assert.deepEqual(renderError("typed").issues, [
        { path: join(dir, "Pulumi.typed.yaml"), message: "Stack 'typed' with configuration key 'frontNodePort' must be of type 'integer'" },
      ]);
    });
  });
});
