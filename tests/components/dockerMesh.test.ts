import { strict as assert } from "node:assert";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, promiseOf, registered, setImageContent, type OutputsOf, type Registered } from "../helpers/pulumiMocks";
import { ServiceMesh, deployDockerMesh } from "../../components";
import type { MeshCertificateSet } from "../../components/certificates";
import { dockerCertificateFiles } from "../../components/dockerMesh";
import { fileUpload, filesExitProblem } from "../../components/dockerContainers";
import { isKubernetesStack, parseStackSettings, type DockerStackSettings } from "../../stack";

const PROJECT_DIR = resolve(__dirname, "../..");
const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";
const IMAGE = "docker:index/image:Image";
const REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage";
const PROVIDER = "pulumi:providers:docker";
const SCALED = { extends: "seed", services: [{ name: "service-b", replicas: 2 }] };

/** Whether each registration asked the engine to delete before replacing, by `type::name`. */
let deleteFirst = new Map<string, boolean>();

async function deploy(config: Record<string, unknown>) {
  const collect = await installMocks("docker");
  deleteFirst = new Map();
  type Request = { getType(): string; getName(): string; getDeletebeforereplace(): boolean };
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Request, cb: unknown): unknown };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    deleteFirst.set(`${req.getType()}::${req.getName()}`, req.getDeletebeforereplace());
    return original(req, cb);
  };
  const mesh = new ServiceMesh("envoy-mesh", { settings: parseStackSettings({ target: "docker", ...config }), projectDir: PROJECT_DIR, imageTag: "docker" });
  const frontUrl = await promiseOf(mesh.frontUrl);
  return { mesh, frontUrl, resources: await collect() };
}

const containers = (resources: Registered[]) => resources.filter((r) => r.type === CONTAINER);
const container = (resources: Registered[], name: string) => registered(resources, CONTAINER, name);
const urnOf = (resources: Registered[], type: string, name: string) => registered(resources, type, name).urn;

describe("ServiceMesh component on the docker target", () => {
  let resources: Registered[];
  let frontUrl: string;
  let mesh: ServiceMesh;
  before(async () => ({ resources, frontUrl, mesh } = await deploy({ topology: SCALED })));

  it("registers nothing of Kubernetes, and everything of Docker through one provider it creates", () => {
    assert.deepEqual(resources.filter((r) => r.type.startsWith("kubernetes:") || r.type === "pulumi:providers:kubernetes"), []);
    const providers = resources.filter((r) => r.type === PROVIDER);
    assert.deepEqual(providers.map((p) => p.name), ["envoy-mesh-docker"]);
    for (const r of resources.filter((x) => x.type.startsWith("docker:"))) {
      assert.match(r.provider ?? "", /pulumi:providers:docker::envoy-mesh-docker::/, `${r.name} provider`);
    }
  });

  it("creates the user-defined network named after the namespace", () => {
    const network = registered(resources, NETWORK, "envoy-mesh-network");
    assert.equal(network.inputs.name, "envoy-mesh");
    assert.equal(network.inputs.driver, "bridge");
  });

  it("runs one Envoy and one app container per service replica, the front's Envoy, and one files container per proxy, under their components", () => {
    assert.deepEqual(containers(resources).map((c) => c.inputs.name).sort(), [
      "envoy-mesh-front-envoy-1", "envoy-mesh-front-envoy-files",
      "envoy-mesh-service-a-1-app", "envoy-mesh-service-a-1-envoy", "envoy-mesh-service-a-files",
      "envoy-mesh-service-b-1-app", "envoy-mesh-service-b-1-envoy",
      "envoy-mesh-service-b-2-app", "envoy-mesh-service-b-2-envoy", "envoy-mesh-service-b-files",
      "envoy-mesh-service-c-1-app", "envoy-mesh-service-c-1-envoy", "envoy-mesh-service-c-files",
    ]);
    const b = container(resources, "service-b-2-app");
    assert.equal(b.parent, urnOf(resources, "envoy-mesh:docker:MeshService", "service-b"));
    assert.equal(container(resources, "front-envoy-1-envoy").parent, urnOf(resources, "envoy-mesh:docker:FrontProxy", "front-envoy"));
    assert.equal(registered(resources, "envoy-mesh:docker:MeshService", "service-b").parent, urnOf(resources, "envoy-mesh:mesh:ServiceMesh", "envoy-mesh"));
  });

  it("puts each app in its own Envoy's network namespace, and starts it after that Envoy", () => {
    for (const app of containers(resources).filter((c) => c.name.endsWith("-app"))) {
      const envoy = container(resources, app.name.replace(/-app$/, "-envoy"));
      assert.equal(app.inputs.networkMode, `container:${envoy.name}-id`, app.name);
      assert.equal(app.inputs.networksAdvanced, undefined);
      assert.equal(app.inputs.ports?.length ?? 0, 0);
      assert.ok(app.dependencies.includes(envoy.urn), `${app.name} does not wait for ${envoy.name}`);
    }
  });

  it("attaches every service Envoy to the network with the service's alias, and waits for it to be healthy", () => {
    for (const [name, alias] of [["service-b-1-envoy", "service-b"], ["service-b-2-envoy", "service-b"], ["service-a-1-envoy", "service-a"]]) {
      const envoy = container(resources, name);
      assert.deepEqual(envoy.inputs.networksAdvanced, [{ name: "envoy-mesh", aliases: [alias] }]);
      assert.ok(envoy.dependencies.includes(urnOf(resources, NETWORK, "envoy-mesh-network")));
      assert.equal(envoy.inputs.wait, true);
    }
  });

  it("publishes only the front proxy, on 127.0.0.1:8080 and HTTPS on 127.0.0.1:8443", () => {
    const published = containers(resources).filter((c) => (c.inputs.ports ?? []).length > 0);
    assert.deepEqual(published.map((c) => c.name), ["front-envoy-1-envoy"]);
    assert.deepEqual(published[0].inputs.ports, [
      { internal: 8080, external: 8080, ip: "127.0.0.1", protocol: "tcp" },
      { internal: 8443, external: 8443, ip: "127.0.0.1", protocol: "tcp" },
    ]);
    assert.equal(frontUrl, "http://localhost:8080");
  });

  it("hardens every long-running container: user, read-only root, no capabilities, no-new-privileges, memory, restart", () => {
    // The one-shot files containers are checked with the certificates below.
    for (const c of containers(resources).filter((c) => !c.name.endsWith("-files"))) {
      const envoy = c.name.endsWith("-envoy");
      assert.equal(c.inputs.user, envoy ? "101:101" : "1000:1000", c.name);
      assert.equal(c.inputs.readOnly, true, c.name);
      assert.deepEqual(c.inputs.capabilities, { drops: ["ALL"] });
      assert.deepEqual(c.inputs.securityOpts, ["no-new-privileges:true"]);
      assert.equal(c.inputs.memory, c.name.startsWith("front") ? 256 : 128, c.name);
      assert.equal(c.inputs.restart, "unless-stopped");
    }
  });

  it("health-checks Envoy's /ready and the app's /healthz, and stops each with SIGTERM and time to drain", () => {
    const envoy = container(resources, "service-a-1-envoy").inputs;
    assert.match(envoy.healthcheck.tests.join(" "), /GET \/ready /);
    assert.equal(envoy.stopSignal, "SIGTERM");
    assert.equal(envoy.stopTimeout, 15);
    assert.equal(envoy.destroyGraceSeconds, 15);
    const app = container(resources, "service-a-1-app").inputs;
    assert.match(app.healthcheck.tests.join(" "), /127\.0\.0\.1:9903\/healthz/);
    assert.deepEqual([app.stopTimeout, app.wait], [25, true]);
  });

  it("replaces a container or the network by deleting it first: their names and the host port are fixed", () => {
    for (const c of containers(resources)) assert.equal(deleteFirst.get(`${CONTAINER}::${c.name}`), true, c.name);
    assert.equal(deleteFirst.get(`${NETWORK}::envoy-mesh-network`), true);
  });

  it("builds the app image locally without pushing it, and runs containers from image IDs", () => {
    const images = resources.filter((r) => r.type === IMAGE);
    assert.deepEqual(images.map((i) => [i.inputs.imageName, i.inputs.skipPush, i.inputs.registry]), [["envoy-mesh-app:docker", true, undefined]]);
    const envoyImage = resources.filter((r) => r.type === REMOTE_IMAGE);
    assert.equal(envoyImage.length, 1);
    assert.match(envoyImage[0].inputs.name, /^envoyproxy\/envoy:v[0-9.]+@sha256:/);
    assert.equal(envoyImage[0].inputs.keepLocally, true);
    for (const c of containers(resources)) assert.match(c.inputs.image, /^sha256:[0-9a-f]{64}$/, c.name);
  });

  it("starts the front once the services' containers exist", () => {
    const front = container(resources, "front-envoy-1-envoy");
    assert.ok(front.dependencies.includes(container(resources, "service-a-1-app").urn));
  });

  it("exports each service's network alias and egress ports, and the network as the namespace", () => {
    assert.equal(mesh.namespace, "envoy-mesh");
    assert.deepEqual(mesh.services["service-a"], { dns: "service-a", egressPorts: { "service-b": 10001, "service-c": 10002 } });
  });
});

describe("docker target: what a change replaces", () => {
  const inputsByName = (resources: Registered[]) =>
    new Map(containers(resources).map((c) => [c.name, JSON.stringify({ ...c.inputs, networkMode: c.inputs.networkMode })]));
  const changed = (before: Map<string, string>, after: Map<string, string>) => [...after].filter(([name, inputs]) => before.get(name) !== inputs).map(([name]) => name).sort();

  afterEach(() => setImageContent("v1"));

  it("changes only the front's files container when only the front's routes change", async () => {
    const before = inputsByName((await deploy({ topology: SCALED })).resources);
    // A new route to a service the front already calls: routing a new service would make the
    // front one of its declared callers, which changes that service's Envoy config too.
    const after = inputsByName((await deploy({ topology: { ...SCALED, front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/a", service: "service-a" }] } } })).resources);
    assert.deepEqual(changed(before, after), ["front-envoy-files"]);
  });

  it("changes a service's files container and its apps, not its Envoys, when its app port changes", async () => {
    const before = inputsByName((await deploy({ topology: SCALED })).resources);
    const after = inputsByName((await deploy({ topology: { ...SCALED, services: [{ name: "service-b", replicas: 2, appPort: 8092 }] } })).resources);
    // The app's own PORT changes with the sidecar's local cluster, which is in the CDS file.
    assert.deepEqual(changed(before, after), ["service-b-1-app", "service-b-2-app", "service-b-files"]);
  });

  it("changes only the app containers when the app's code changes", async () => {
    const before = inputsByName((await deploy({ topology: SCALED })).resources);
    setImageContent("v2");
    const after = inputsByName((await deploy({ topology: SCALED })).resources);
    assert.deepEqual(changed(before, after), ["service-a-1-app", "service-b-1-app", "service-b-2-app", "service-c-1-app"]);
  });

  // The apps follow their Envoy's replacement in a real run: their network mode is the Envoy's ID
  // (a property dependency), which the mock engine keeps the same.
  it("changes every Envoy container, and no app's own inputs, when the Envoy image changes", async () => {
    const before = inputsByName((await deploy({ topology: SCALED })).resources);
    const other = `envoyproxy/envoy:v1.39.2@sha256:${"a".repeat(64)}`;
    const after = inputsByName((await deploy({ topology: SCALED, envoyImage: other })).resources);
    // The files containers run the Envoy image too (its bash), so they run again, writing the same files.
    assert.deepEqual(changed(before, after), [...after.keys()].filter((n) => n.endsWith("-envoy") || n.endsWith("-files")).sort());
  });

  it("changes nothing when nothing changed", async () => {
    const before = inputsByName((await deploy({ topology: SCALED })).resources);
    const after = inputsByName((await deploy({ topology: SCALED })).resources);
    assert.deepEqual(changed(before, after), []);
  });
});

describe("docker target: certificates delivered as files", () => {
  // How the SDK marks a secret value in a request (runtime/rpc.js: specialSigKey, specialSecretSig).
  const SIG_KEY = "4dabf18193072939515e22adb298388d";
  const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
  let resources: Registered[];

  before(async () => {
    const collect = await installMocks("docker");
    const settings = parseStackSettings({ target: "docker", topology: SCALED }) as DockerStackSettings;
    assert.ok(!isKubernetesStack(settings));
    const proxies = ["front-envoy", ...settings.topology.services.map((s) => s.name)];
    const certificates: MeshCertificateSet = {
      identities: new Map(
        proxies.map((p) => [
          p,
          {
            certificatePem: pulumi.output(`CERT ${p}`),
            privateKeyPem: pulumi.secret(`KEY ${p}`),
            caPem: pulumi.output("MESH CA"),
            expiresAt: pulumi.output("2030-01-01T00:00:00Z"),
          },
        ]),
      ),
      edge: { kind: "pem", certificatePem: pulumi.output("EDGE CERT"), privateKeyPem: pulumi.secret("EDGE KEY") },
    };
    class Parent extends pulumi.ComponentResource {
      constructor() {
        super("test:index:Parent", "parent", {});
        deployDockerMesh("envoy-mesh", settings, PROJECT_DIR, "docker", this, certificates);
      }
    }
    new Parent();
    resources = await collect();
  });

  /** An input value, unwrapped from the mock's secret envelope; `secret` says whether it was one. */
  const unwrap = (value: any): { value: any; secret: boolean } =>
    value !== null && typeof value === "object" && value[SIG_KEY] === SECRET_SIG ? { value: value.value, secret: true } : { value, secret: false };
  // A list holding a secret is sent as one secret, so secrecy is checked on the list and on each upload.
  const uploadsOf = (c: Registered) => { const list = unwrap(c.inputs.uploads); return (list.value ?? []).map((u: any) => ({ file: u.file, ...unwrap(u.content), permissions: u.permissions, listSecret: list.secret })); };

  it("uploads into the one-shot files container of each proxy only: never into an Envoy or an app (their root filesystem is read-only)", () => {
    const withUploads = containers(resources).filter((c) => c.inputs.uploads !== undefined).map((c) => c.inputs.name).sort();
    assert.deepEqual(withUploads, ["envoy-mesh-front-envoy-files", "envoy-mesh-service-a-files", "envoy-mesh-service-b-files", "envoy-mesh-service-c-files"]);
    for (const c of containers(resources).filter((x) => x.inputs.uploads === undefined)) assert.equal(c.inputs.readOnly, true, c.name);
  });

  it("uploads each proxy's own identity, its private key as a secret, and the front's edge certificate", () => {
    const b = uploadsOf(container(resources, "service-b-files"));
    const identity = b.filter((u: any) => u.file.startsWith("/staging/etc/mesh/identity/"));
    assert.deepEqual(identity.map((u: any) => [u.file, u.value]), [
      ["/staging/etc/mesh/identity/ca.crt", "MESH CA"],
      ["/staging/etc/mesh/identity/tls.crt", "CERT service-b"],
      ["/staging/etc/mesh/identity/tls.key", "KEY service-b"],
    ]);
    assert.ok(b.every((u: any) => u.listSecret), "the uploads holding a key are a secret in the state");
    assert.ok(!b.some((u: any) => u.file.includes("/edge/")));
    const front = uploadsOf(container(resources, "front-envoy-files"));
    assert.deepEqual(front.filter((u: any) => u.file.includes("/edge/")).map((u: any) => [u.file, u.value, u.listSecret]), [
      ["/staging/etc/mesh/edge/tls.crt", "EDGE CERT", true],
      ["/staging/etc/mesh/edge/tls.key", "EDGE KEY", true],
    ]);
    for (const u of [...b, ...front]) assert.equal(u.permissions, "0400", u.file);
  });

  it("runs the files container once, as root in Envoy's group, without network or capabilities, and publishes into the volumes", () => {
    const files = container(resources, "service-a-files");
    assert.equal(files.inputs.user, "0:101");
    assert.equal(files.inputs.networkMode, "none");
    assert.deepEqual(files.inputs.capabilities, { drops: ["ALL"] });
    assert.equal(files.inputs.mustRun, false);
    assert.equal(files.inputs.attach, true);
    assert.deepEqual(files.inputs.mounts.map((m: any) => [m.source, m.target]), [
      ["envoy-mesh-service-a-etc-mesh-identity", "/volumes/etc/mesh/identity"],
      ["envoy-mesh-service-a-etc-mesh-xds", "/volumes/etc/mesh/xds"],
    ]);
  });

  it("mounts a proxy's volumes read-only into each of its Envoys at the paths Envoy reads, and into no app", () => {
    for (const c of containers(resources).filter((x) => x.inputs.labels.some((l: any) => l.label === "envoy-mesh.role" && l.value === "envoy"))) {
      const proxy = c.inputs.labels.find((l: any) => l.label === "envoy-mesh.proxy").value;
      const mounts = c.inputs.mounts as any[];
      assert.ok(mounts.every((m) => m.type === "volume" && m.readOnly === true && m.source.startsWith(`envoy-mesh-${proxy}-etc-`)), c.name);
      assert.ok(mounts.some((m) => m.target === "/etc/mesh/identity"), c.name);
      assert.equal(mounts.some((m) => m.target === "/etc/mesh/edge"), proxy === "front-envoy", c.name);
      // The Envoy waits for its files.
      assert.ok(c.dependencies.includes(urnOf(resources, CONTAINER, `${proxy}-files`)), c.name);
    }
    for (const c of containers(resources).filter((x) => x.inputs.labels.some((l: any) => l.label === "envoy-mesh.role" && l.value === "app"))) {
      assert.equal(c.inputs.mounts, undefined, c.name);
    }
  });

  it("creates one named volume per proxy and folder", () => {
    const volumes = resources.filter((r) => r.type === "docker:index/volume:Volume").map((v) => v.inputs.name).sort();
    assert.ok(volumes.includes("envoy-mesh-front-envoy-etc-mesh-edge"));
    for (const p of ["front-envoy", "service-a", "service-b", "service-c"]) assert.ok(volumes.includes(`envoy-mesh-${p}-etc-mesh-identity`), p);
  });

  it("makes a key's upload content a Pulumi secret even when the key was given as plain text", async () => {
    const key = fileUpload({ path: "/etc/mesh/identity/tls.key", content: "plain", secret: true });
    assert.equal(await pulumi.isSecret(key.content as pulumi.Output<string>), true);
    const cert = fileUpload({ path: "/etc/mesh/identity/tls.crt", content: "plain", secret: false });
    assert.equal(cert.content, "plain");
  });

});

/** Stand-in certificates for the given proxies, and a PEM edge certificate unless `edge` says otherwise. */
function certificateSet(proxies: readonly string[], edge: MeshCertificateSet["edge"] | null = null): MeshCertificateSet {
  return {
    identities: new Map(
      proxies.map((p) => [
        p,
        { certificatePem: pulumi.output(`CERT ${p}`), privateKeyPem: pulumi.secret(`KEY ${p}`), caPem: pulumi.output("MESH CA"), expiresAt: pulumi.output("2030-01-01T00:00:00Z") },
      ]),
    ),
    edge: edge ?? { kind: "pem", certificatePem: pulumi.output("EDGE CERT"), privateKeyPem: pulumi.secret("EDGE KEY") },
  };
}

describe("docker target: a certificate set it cannot deliver is refused before anything is registered", () => {
  const settings = () => parseStackSettings({ target: "docker", topology: SCALED }) as DockerStackSettings;

  /** Deploys with `certificates` under a parent; returns the error and what reached the engine. */
  async function attempt(certificates: MeshCertificateSet): Promise<{ error: Error; resources: Registered[] }> {
    const collect = await installMocks("docker");
    let error: Error | undefined;
    class Parent extends pulumi.ComponentResource {
      constructor() {
        super("test:index:Parent", "parent", {});
        deployDockerMesh("envoy-mesh", settings(), PROJECT_DIR, "docker", this, certificates);
      }
    }
    try {
      new Parent();
    } catch (e) {
      error = e as Error;
    }
    assert.ok(error, "deployDockerMesh accepted the certificate set");
    return { error, resources: await collect() };
  }

  const dockerResources = (resources: Registered[]) => resources.filter((r) => r.type.startsWith("docker:") || r.type === PROVIDER).map((r) => `${r.type}/${r.name}`);

  it("refuses, under strict mTLS, a proxy whose identity is missing, instead of running its Envoy without one", async () => {
    const { error, resources } = await attempt(certificateSet(["front-envoy", "service-a", "service-c"]));
    assert.match(error.message, /docker target envoy-mesh cannot deliver every Envoy's certificates \(1 problem\)/);
    assert.match(error.message, /certificates\.identities\.service-b: security\.mtls is strict, but the certificate set has no identity for service-b/);
    assert.deepEqual(dockerResources(resources), []);
  });

  it("refuses an edge certificate that is a Kubernetes Secret's name, saying what to give instead, with every other problem at once", async () => {
    const { error, resources } = await attempt(certificateSet(["front-envoy", "service-a", "service-b"], { kind: "secret", name: "my-tls" }));
    assert.match(error.message, /\(2 problems\)/);
    assert.match(error.message, /certificates\.edge: the edge certificate is the Kubernetes Secret "my-tls" \(edgeCertificateSecret\), which the docker target cannot mount: there is no Kubernetes on Docker\. Give the certificate and its key as PEM instead/);
    assert.match(error.message, /certificates\.identities\.service-c: /);
    assert.doesNotMatch(error.message, /has none/, "the Secret-named edge is not also reported as missing");
    assert.deepEqual(dockerResources(resources), []);
  });

  it("accepts the full set", () => {
    const files = dockerCertificateFiles(certificateSet(["front-envoy", "service-a", "service-b", "service-c"]), settings().topology, settings().docker);
    assert.deepEqual([...files.identities.keys()], ["front-envoy", "service-a", "service-b", "service-c"]);
    assert.ok(files.edge);
  });
});

describe("docker target: renewal and a failed publish", () => {
  const settings = () => parseStackSettings({ target: "docker", topology: SCALED }) as DockerStackSettings;
  const ALL = ["front-envoy", "service-a", "service-b", "service-c"];

  /** Deploys with `certificates` under a parent, the mock engine reporting `outputs`. */
  async function deployWith(certificates: MeshCertificateSet, outputs?: OutputsOf): Promise<Registered[]> {
    const collect = await installMocks("docker", { outputs });
    class Parent extends pulumi.ComponentResource {
      constructor() {
        super("test:index:Parent", "parent", {});
        deployDockerMesh("envoy-mesh", settings(), PROJECT_DIR, "docker", this, certificates);
      }
    }
    new Parent();
    return collect();
  }

  it("a renewed certificate changes the inputs of its proxy's files container only: no Envoy or app is replaced", async () => {
    const before = await deployWith(certificateSet(ALL));
    const renewed = certificateSet(ALL);
    const b = renewed.identities.get("service-b")!;
    (renewed.identities as Map<string, typeof b>).set("service-b", { ...b, certificatePem: pulumi.output("CERT service-b, renewed"), privateKeyPem: pulumi.secret("KEY service-b, renewed") });
    const after = await deployWith(renewed);
    const inputs = (rs: Registered[]) => new Map(containers(rs).map((c) => [c.name, JSON.stringify(c.inputs)]));
    const [was, now] = [inputs(before), inputs(after)];
    assert.deepEqual([...now].filter(([name, i]) => was.get(name) !== i).map(([name]) => name), ["service-b-files"]);
    // No Envoy takes a property from its files container, so the engine does not replace it with
    // the files container (pulumi/pulumi step_generator.go, calculateDependentReplacements: only
    // property dependencies on a replaced resource can force a dependent's replacement).
    for (const envoy of containers(after).filter((c) => c.name.endsWith("-envoy"))) {
      assert.doesNotMatch(JSON.stringify(envoy.inputs), /files-id/, envoy.name);
    }
  });

  it("fails the update, naming the container and what to do, when a files container exits non-zero", async () => {
    const seen: unknown[] = [];
    const record = (reason: unknown) => seen.push(reason);
    process.on("unhandledRejection", record);
    try {
      await deployWith(certificateSet(ALL), (r) =>
        r.type === CONTAINER && typeof r.inputs.name === "string" && r.inputs.name.endsWith("-files") ? { exitCode: r.inputs.name === "envoy-mesh-service-b-files" ? 1 : 0 } : undefined,
      );
      // The rejection surfaces once the component's outputs are serialized.
      for (let i = 0; i < 50 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      process.off("unhandledRejection", record);
    }
    const messages = [...new Set(seen.map((e) => (e as Error).message))];
    assert.equal(messages.length, 1, `expected one failure, got: ${messages.join(" | ")}`);
    assert.match(messages[0], /the files container envoy-mesh-service-b-files exited with code 1: its Envoys still have their previous files/);
    assert.match(messages[0], /docker logs envoy-mesh-service-b-files/);
  });

  it("says nothing when every files container exited 0, or the engine did not report the code", () => {
    assert.equal(filesExitProblem("envoy-mesh-service-b-files", 0), undefined);
    assert.equal(filesExitProblem("envoy-mesh-service-b-files", undefined), undefined);
    assert.match(filesExitProblem("x-files", 127) ?? "", /x-files exited with code 127/);
  });
});

describe("docker target: live config (xDS files) versus the bootstrap", () => {
  const ALL = ["front-envoy", "service-a", "service-b", "service-c"];
  const CANARY = (v1: number, v2: number, policy?: unknown) => ({
    extends: "seed",
    services: [{ name: "service-b", versions: [{ name: "v1", weight: v1, replicas: 2 }, { name: "v2", weight: v2, replicas: 1 }] }],
    ...(policy === undefined ? {} : { policy }),
  });

  /** The docker target's resources for a topology (and stack config), registered under a parent as the ServiceMesh does. */
  async function resourcesOf(topology: unknown, config: Record<string, unknown> = {}): Promise<Registered[]> {
    const collect = await installMocks("docker");
    const settings = parseStackSettings({ target: "docker", topology, ...config }) as DockerStackSettings;
    class Parent extends pulumi.ComponentResource {
      constructor() {
        super("test:index:Parent", "parent", {});
        deployDockerMesh("envoy-mesh", settings, PROJECT_DIR, "docker", this, certificateSet(ALL));
      }
    }
    new Parent();
    return collect();
  }
  /** Each container's inputs as the engine gets them, byte for byte. */
  const inputs = (rs: Registered[]) => new Map(containers(rs).map((c) => [c.name, JSON.stringify(c.inputs)]));
  const changed = (before: Registered[], after: Registered[]) => {
    const [was, now] = [inputs(before), inputs(after)];
    return [...now].filter(([name, i]) => was.get(name) !== i).map(([name]) => name).sort();
  };
  // A list holding a key is sent as one secret (runtime/rpc.js: specialSigKey, specialSecretSig).
  const unwrap = (value: any): any => (value !== null && typeof value === "object" && value["4dabf18193072939515e22adb298388d"] !== undefined ? value.value : value);
  const uploadsOf = (rs: Registered[], name: string): { file: string; content: unknown; permissions: string }[] => unwrap(container(rs, name).inputs.uploads);
  const uploadOf = (rs: Registered[], name: string, file: string) => unwrap(uploadsOf(rs, name).find((u) => u.file === file)?.content);
  /** The canary at 90/10, deployed once: each test deploys only its change. */
  let base: Registered[];
  before(async () => {
    base = await resourcesOf(CANARY(90, 10));
  });

  it("a canary weight change replaces B's callers' files containers only: every Envoy and app keeps its inputs byte for byte", async () => {
    const before = base;
    const after = await resourcesOf(CANARY(50, 50));
    assert.deepEqual(changed(before, after), ["service-a-files"]);
    const rds = "/staging/etc/mesh/xds/rds-egress_service_b.json";
    assert.match(String(uploadOf(before, "service-a-files", rds)), /"weight": 90/);
    assert.match(String(uploadOf(after, "service-a-files", rds)), /"weight": 50/);
  });

  it("a retry policy change replaces files containers only", async () => {
    const before = base;
    const after = await resourcesOf(CANARY(90, 10, { retries: { count: 1 } }));
    const names = changed(before, after);
    assert.ok(names.length > 0 && names.every((n) => n.endsWith("-files")), names.join(", "));
  });

  it("delivers every xDS file through the files container into the xDS volume, which each Envoy mounts read-only, and gives no Envoy any of their content", async () => {
    const rs = base;
    const files = container(rs, "service-a-files");
    const uploaded = uploadsOf(rs, "service-a-files").map((u) => u.file).filter((f) => f.startsWith("/staging/etc/mesh/xds/"));
    for (const f of ["lds.json", "cds.json", "rds-egress_service_b.json", "sds-identity.json"]) assert.ok(uploaded.includes(`/staging/etc/mesh/xds/${f}`), f);
    assert.ok(uploadsOf(rs, "service-a-files").every((u) => u.permissions === "0400"));
    assert.ok(files.inputs.mounts.some((m: any) => m.source === "envoy-mesh-service-a-etc-mesh-xds" && m.target === "/volumes/etc/mesh/xds"));
    assert.match(files.inputs.entrypoints[2], /publish '\/staging\/etc\/mesh\/xds' '\/volumes\/etc\/mesh\/xds'/);
    const envoy = container(rs, "service-a-1-envoy");
    assert.deepEqual(envoy.inputs.mounts.find((m: any) => m.target === "/etc/mesh/xds"), {
      type: "volume", source: "envoy-mesh-service-a-etc-mesh-xds", target: "/etc/mesh/xds", readOnly: true, volumeOptions: { noCopy: true },
    });
    const lds = String(uploadOf(rs, "service-a-files", "/staging/etc/mesh/xds/lds.json"));
    const listener = /"name": "(egress_service_b)"/.exec(lds)?.[1];
    assert.ok(listener !== undefined, "the LDS file holds the egress listener");
    for (const c of containers(rs).filter((x) => !x.name.endsWith("-files"))) assert.doesNotMatch(JSON.stringify(c.inputs), /version_info/, c.name);
  });

  it("a bootstrap change (the admin port) replaces every Envoy (its config-hash label changes), the files containers run again", async () => {
    const before = base;
    const after = await resourcesOf({ ...CANARY(90, 10), ports: { admin: 9911 } });
    const names = changed(before, after);
    const envoys = [...inputs(after).keys()].filter((n) => n.endsWith("-envoy")).sort();
    assert.deepEqual(names.filter((n) => n.endsWith("-envoy")), envoys);
    const hash = (rs: Registered[], name: string) => container(rs, name).inputs.labels.find((l: any) => l.label === "envoy-mesh.config-hash").value;
    for (const name of envoys) assert.notEqual(hash(after, name), hash(before, name), name);
  });

  it("nothing changes when nothing changed", async () => {
    assert.deepEqual(changed(base, await resourcesOf(CANARY(90, 10))), []);
  });
});
