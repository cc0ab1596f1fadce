import { strict as assert } from "node:assert";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import type { ProxyObjects } from "../../k8s";
import { PLACEHOLDER_PASSWORD, PLACEHOLDER_USERNAME, renderMesh, type RenderStage, type RenderedMesh } from "../../render/renderMesh";
import { writeTree } from "../../render/writeTree";
import { isKubernetesStack, projectDefaults, PLACEHOLDER_TAG } from "../../stack";
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

/** The registry pull Secrets (the certificate Secrets are kubernetes.io/tls). */
function pullSecrets(rendered: RenderedMesh): Doc[] {
  return ofKind(rendered, "Secret").filter((d) => d.type === "kubernetes.io/dockerconfigjson");
}

/** Notes other than the certificate placeholders' (which every stack with mtls strict has). */
function otherNotes(rendered: RenderedMesh): readonly string[] {
  return rendered.notes.filter((n) => !/^\d+ identity Secrets \(|edge certificate and key are placeholders/.test(n));
}

function deployment(rendered: RenderedMesh, name: string): Doc {
  const found = ofKind(rendered, "Deployment").find((d) => d.metadata.name === name);
  assert.ok(found, `no Deployment ${name}`);
  return found;
}

/**
 * The Kubernetes files in the order `kubectl apply -f <folder>` takes them: by file name
 * (kubernetes/cli-runtime pkg/resource/visitor.go walks the folder with filepath.Walk, which
 * visits names in lexical order), not in the order render produced them.
 */
function applyOrder(rendered: RenderedMesh): (Doc & { file: string })[] {
  return [...rendered.files.keys()]
    .filter((path) => path.startsWith("k8s/"))
    .sort()
    .map((file) => ({ file, ...(load(rendered.files.get(file) as string) as Doc) }));
}

/** Asserts that each object comes after everything it needs, reading only the files' kinds and names. */
function assertDependencyOrder(rendered: RenderedMesh): void {
  const docs = applyOrder(rendered);
  const position = (kind: string, name: string) => {
    const at = docs.findIndex((d) => d.kind === kind && d.metadata.name === name);
    assert.ok(at >= 0, `no ${kind} ${name} rendered`);
    return at;
  };
  const namespaces = docs.filter((d) => d.kind === "Namespace").map((d) => d.metadata.name);
  for (const [at, doc] of docs.entries()) {
    if (doc.kind === "Namespace") continue;
    const namespaceAt = position("Namespace", doc.metadata.namespace as string);
    assert.ok(namespaceAt < at, `${doc.file} sorts before the namespace it lives in (${namespaces.join(", ")})`);
  }
  const deployments = docs.filter((d) => d.kind === "Deployment");
  assert.ok(deployments.length > 0);
  for (const deployment of deployments) {
    const at = position("Deployment", deployment.metadata.name);
    const pod = deployment.spec.template.spec;
    const accountAt = position("ServiceAccount", pod.serviceAccountName);
    assert.ok(accountAt < at, `${deployment.file} sorts before its ServiceAccount ${docs[accountAt].file}`);
    const configMaps = (pod.volumes as { configMap?: { name: string } }[]).flatMap((v) => (v.configMap ? [v.configMap.name] : []));
    assert.ok(configMaps.length > 0, `${deployment.file} mounts no ConfigMap`);
    for (const name of configMaps) {
      const configMapAt = position("ConfigMap", name);
      assert.ok(configMapAt < at, `${deployment.file} sorts before its ConfigMap ${docs[configMapAt].file}`);
    }
  }
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

    it("renders each proxy's bootstrap, with its xDS files (LDS, CDS, RDS, SDS) in a folder of the proxy's name beside it", () => {
      const envoy = [...rendered.files.keys()].filter((p) => p.startsWith("envoy/"));
      const sds = (proxy: string) => (proxy === "front-envoy" ? ["sds-edge.json", "sds-identity.json", "sds-mesh-ca.json"] : ["sds-identity.json", "sds-mesh-ca.json"]);
      const rds: Record<string, string[]> = {
        "front-envoy": ["rds-front.json", "rds-front_tls.json"],
        "service-a": ["rds-egress_service_b.json", "rds-egress_service_c.json", "rds-ingress.json"],
        "service-b": ["rds-ingress.json"],
        "service-c": ["rds-ingress.json"],
      };
      assert.deepEqual(
        envoy,
        ["front-envoy", "service-a", "service-b", "service-c"].flatMap((proxy) => [
          `envoy/${proxy}.json`,
          ...["cds.json", "lds.json", ...rds[proxy], ...sds(proxy)].map((file) => `envoy/${proxy}/${file}`),
        ]),
      );
      assert.equal(rendered.envoyConfigCount, 4);
    });

    it("renders only envoy/ and k8s/ files, and the dashboard and alert rules in observability/", () => {
      const observability = ["observability/grafana-dashboard.json", "observability/prometheus-rules.yaml"];
      assert.ok([...rendered.files.keys()].every((p) => observability.includes(p) || /^envoy\/([a-z0-9-]+\/)?[^/]+\.json$/.test(p) || /^k8s\/[^/]+\.yaml$/.test(p)));
      assert.deepEqual([...rendered.files.keys()].filter((p) => p.startsWith("observability/")), observability);
    });

    it("names the Kubernetes files so that applying them in name order creates what each object needs first", () => {
      assertDependencyOrder(rendered);
      assert.equal(applyOrder(rendered)[0].file, "k8s/00-namespace-envoy-mesh.yaml");
      assert.equal(rendered.manifestCount, applyOrder(rendered).length);
    });

    it("names each Kubernetes file after its object's kind and name", () => {
      for (const [path, content] of rendered.files) {
        if (!path.startsWith("k8s/")) continue;
        const doc = load(content) as Doc;
        assert.equal(path.replace(/^k8s\/\d+-/, ""), `${doc.kind.toLowerCase()}-${doc.metadata.name}.yaml`);
      }
    });

    it("stores each proxy's rendered bootstrap and xDS files, byte for byte, in its two ConfigMaps", () => {
      const configMaps = ofKind(rendered, "ConfigMap");
      assert.equal(configMaps.length, 8);
      for (const configMap of configMaps) {
        const proxy = configMap.metadata.labels?.["app.kubernetes.io/name"];
        assert.ok(configMap.data, configMap.metadata.name);
        if (configMap.metadata.name === `${proxy}-xds`) {
          const files = [...rendered.files].filter(([path]) => path.startsWith(`envoy/${proxy}/`)).map(([path, text]) => [path.slice(`envoy/${proxy}/`.length), text]);
          assert.deepEqual(configMap.data, Object.fromEntries(files), `xDS ConfigMap of ${proxy}`);
        } else {
          assert.deepEqual(configMap.data, { "envoy.json": rendered.files.get(`envoy/${proxy}.json`) }, `bootstrap ConfigMap of ${proxy}`);
        }
      }
    });

    it("mounts each proxy's ConfigMaps in its Deployment", () => {
      for (const configMap of ofKind(rendered, "ConfigMap")) {
        const proxy = configMap.metadata.labels?.["app.kubernetes.io/name"] as string;
        const volumes = deployment(rendered, proxy).spec.template.spec.volumes as { configMap?: { name: string } }[];
        assert.ok(
          volumes.some((v) => v.configMap?.name === configMap.metadata.name),
          `${proxy}: ${configMap.metadata.name}`,
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
      assert.ok(all.includes(projectDefaults().envoyImage), all.join(", "));
    });

    it("writes no pull Secret (kind's local registry needs none) and notes only the certificate placeholders", () => {
      assert.deepEqual(pullSecrets(rendered), []);
      for (const account of ofKind(rendered, "ServiceAccount")) assert.equal(account.imagePullSecrets, undefined);
      assert.deepEqual(otherNotes(rendered), []);
      assert.equal(rendered.notes.length, 2);
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

  it("says where its time goes when asked: every stage of a Kubernetes stack, the same files either way", () => {
    const stageTimes = new Map<RenderStage, number>();
    const timed = renderMesh(REPO_ROOT, "kind", { stageTimes });
    assert.deepEqual([...stageTimes.keys()].sort(), ["build", "envoy checks", "kubernetes checks", "observability", "serialize", "settings"]);
    assert.ok([...stageTimes.values()].every((ms) => Number.isFinite(ms) && ms >= 0));
    assert.deepEqual([...timed.files], [...renderMesh(REPO_ROOT, "kind").files]);
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
      assert.deepEqual(otherNotes(rendered), [
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

  describe("its own checks of what it renders", () => {
    // The builders only produce valid output, so stand in for a builder bug at their seam: the
    // real checks must then refuse the result before anything is written.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mesh = require("../../k8s/mesh") as { buildAllProxyObjects: (...args: any[]) => readonly ProxyObjects[] };
    const original = mesh.buildAllProxyObjects;
    afterEach(() => (mesh.buildAllProxyObjects = original));

    /** Renders the kind stack with `change` applied to service-b's objects as built. */
    function renderWithBuilderBug(change: (objects: any) => void): ConfigError {
      mesh.buildAllProxyObjects = (...args) =>
        original(...args).map((objects) => {
          if (objects.proxy !== "service-b") return objects;
          const copy = structuredClone(objects);
          change(copy);
          return copy;
        });
      try {
        renderMesh(REPO_ROOT, "kind");
      } catch (error) {
        assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
        assert.match(error.message, /rendered output failed its checks/);
        return error;
      }
      assert.fail("expected render to refuse the output");
    }

    it("refuses a pod that gives up a protection of the restricted profile (the pod policy check)", () => {
      const error = renderWithBuilderBug((objects) => (objects.deployment.spec.template.spec.hostNetwork = true));
      assert.ok(
        error.issues.some((i) => i.path === "Deployment/envoy-mesh/service-b spec.template.spec.hostNetwork" && i.message.endsWith("[restricted/host-namespaces]")),
        error.message,
      );
    });

    it("refuses an object the API server would reject (the schema check)", () => {
      const error = renderWithBuilderBug((objects) => (objects.service.spec.clusterIp = "None"));
      assert.ok(
        error.issues.some((i) => i.path.startsWith("Service/envoy-mesh/service-b") && i.path.includes("clusterIp")),
        error.message,
      );
    });

    it("refuses an app container that mounts its pod's identity Secret (the key mount check)", () => {
      const error = renderWithBuilderBug((objects) => {
        objects.deployment.spec.template.spec.containers[0].volumeMounts = [{ name: "mesh-identity", mountPath: "/keys", readOnly: true }];
      });
      assert.ok(error.issues.some((i) => i.path.startsWith("Deployment/envoy-mesh/service-b spec.template.spec.containers[0]") && i.message.endsWith("[secrets/key-reader]")), error.message);
    });

    it("refuses a Secret holding a PEM private key (render never writes key material)", () => {
      const key = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\n-----END EC PRIVATE KEY-----\n";
      const error = renderWithBuilderBug((objects) => (objects.identitySecret.data["tls.key"] = Buffer.from(key).toString("base64")));
      assert.ok(error.issues.some((i) => i.path === 'Secret/envoy-mesh/service-b-identity data["tls.key"]' && i.message.endsWith("[secrets/no-key-material]")), error.message);
    });

    it("refuses an Envoy config Envoy would refuse (the Envoy check)", () => {
      const error = renderWithBuilderBug((objects) => (objects.envoyBootstrap = objects.envoyBootstrap.replace(/"connect_timeout": "[^"]*"/, '"connect_timeout": "soon"')));
      assert.ok(
        error.issues.some((i) => i.path.startsWith("envoy config of service-b:") && i.path.includes("connect_timeout")),
        error.message,
      );
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
      mkdirSync(join(dir, "app"));
      writeFileSync(join(dir, "app", "Dockerfile"), "FROM scratch\n");
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

    it("refuses a topology whose build context is missing from the project, with every other problem", () => {
      stackFile("nobuild", { "envoy-mesh:namespace": "Bad_Namespace" });
      assert.deepEqual(
        renderError("nobuild").issues.map((i) => i.path),
        [
          "envoy-mesh:namespace",
          "envoy-mesh:topology.services[0].image.build.context",
          "envoy-mesh:topology.services[1].image.build.context",
          "envoy-mesh:topology.services[2].image.build.context",
        ],
      );
    });

    describe("with the observability add-ons on", () => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const addons = require("../../k8s/addons") as { buildObservabilityAddons: (...args: any[]) => any };
      const original = addons.buildObservabilityAddons;
      afterEach(() => (addons.buildObservabilityAddons = original));
      const services = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `svc-${String(i).padStart(2, "0")}`, appPort: 8081 + i, upstreams: i + 1 < n ? [`svc-${String(i + 1).padStart(2, "0")}`] : [], image: { ref: "ghcr.io/acme/web:1.0.0" } }));
      const addonStack = (n: number) =>
        stackFile("addons", { "envoy-mesh:target": "kind", "envoy-mesh:observability": { addons: true }, "envoy-mesh:topology": JSON.stringify({ services: services(n), front: { routes: [{ prefix: "/", service: "svc-00" }] } }) });

      it("renders 40 services whose dashboard ConfigMap is small (a row per edge passed 1 MiB at about 31 services)", () => {
        addonStack(40);
        const rendered = renderMesh(dir, "addons");
        const [, yaml] = [...rendered.files].find(([path]) => path.startsWith("k8s/") && path.includes("configmap-grafana-dashboards"))!;
        const dashboards = load(yaml) as { data: Record<string, string> };
        assert.ok(Buffer.byteLength(dashboards.data["envoy-mesh.json"]) < 40_000);
      });

      it("refuses an add-on ConfigMap over 1 MiB, naming it and its size (the API server would refuse it at up)", () => {
        addonStack(2);
        addons.buildObservabilityAddons = (topology, target) => original(topology, target, { dashboard: { uid: "x", title: "x", panels: [], description: "x".repeat(1024 * 1024) } });
        const error = renderError("addons");
        assert.deepEqual(
          error.issues.filter((i) => i.path.startsWith("ConfigMap ")).map((i) => i.path),
          ["ConfigMap observability/grafana-dashboards"],
        );
        assert.match(error.issues.find((i) => i.path.startsWith("ConfigMap "))!.message, /^would hold 10\d{5} bytes, more than the 1048576 bytes the API server accepts/);
      });
    });

    it("keeps name order equal to apply order past 100 objects", () => {
      const services = Array.from({ length: 40 }, (_, i) => ({
        name: `svc-${String(i).padStart(2, "0")}`,
        appPort: 8081 + i,
        image: { ref: "ghcr.io/acme/web:1.0.0" },
      }));
      const topology = { services, front: { routes: [{ prefix: "/", service: "svc-00" }] } };
      stackFile("big", { "envoy-mesh:topology": JSON.stringify(topology) });
      const rendered = renderMesh(dir, "big");
      assert.ok(rendered.manifestCount > 100, `only ${rendered.manifestCount} objects`);
      assertDependencyOrder(rendered);
      const names = [...rendered.files.keys()].filter((p) => p.startsWith("k8s/"));
      assert.deepEqual([...names].sort(), names, "name order is the order render built them in");
      assert.equal(names[0], "k8s/000-namespace-envoy-mesh.yaml");
      });

    describe("registry credentials", () => {
      const topology = {
        services: [{ name: "web", appPort: 8081, image: { ref: "registry.example:5000/team/web:1.0.0" } }],
        front: { routes: [{ prefix: "/", service: "web" }] },
      };
      const cloud = { "envoy-mesh:target": "cloud", "envoy-mesh:registry": "registry.example:5000/team", "envoy-mesh:topology": JSON.stringify(topology) };
      const secretOf = pullSecrets;

      it("with a username and an encrypted password: the Secret, and only the placeholder note", () => {
        stackFile("both", { ...cloud, "envoy-mesh:registryUsername": "bot", "envoy-mesh:registryPassword": { secure: "v1:abc" } });
        const rendered = renderMesh(dir, "both");
        const auths = pullAuths(secretOf(rendered)[0]);
        assert.deepEqual(Object.keys(auths), ["registry.example:5000/team"]);
        assert.equal(auths["registry.example:5000/team"].username, "bot");
        assert.equal(auths["registry.example:5000/team"].password, PLACEHOLDER_PASSWORD);
        assert.equal(otherNotes(rendered).length, 1);
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
        assert.deepEqual(otherNotes(rendered), []);
      });
    });

    it("renders prebuilt images without any build context", () => {
      const topology = {
        services: [{ name: "web", appPort: 8081, image: { ref: "ghcr.io/acme/web:1.0.0" } }],
        front: { routes: [{ prefix: "/", service: "web" }] },
      };
      stackFile("refs", { "envoy-mesh:topology": JSON.stringify(topology), "envoy-mesh:namespace": "shop" });
      const rendered = renderMesh(dir, "refs");
      assert.deepEqual([...rendered.files.keys()].filter((p) => /^envoy\/[^/]+$/.test(p)), ["envoy/front-envoy.json", "envoy/web.json"]);
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
      const { settings } = renderMesh(dir, "refs");
      assert.ok(isKubernetesStack(settings));
      assert.equal(settings.mesh.clusterDomain, "mesh.example");
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
