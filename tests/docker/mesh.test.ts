import { strict as assert } from "node:assert";
import { load } from "js-yaml";
import { buildMeshConfigs, buildSidecarConfig, toYaml } from "../../envoy";
import { envoyConfigProblems, renderEnvoyConfig } from "../../envoy/check";
import {
  buildDockerMesh,
  dockerContainers,
  xdsFilesOf,
  type DockerCertificateFiles,
  dockerEnvoyTarget,
  type DockerContainer,
  type DockerMesh,
  type DockerTarget,
} from "../../docker";
import { parseTopology, type MeshService, type Topology } from "../../topology";
import { BUILDER_TEST_ENVOY_IMAGE } from "../helpers/images";

const TARGET: DockerTarget = { name: "envoy-mesh", envoyImage: BUILDER_TEST_ENVOY_IMAGE, front: { hostIp: "127.0.0.1", hostPort: 8080, tlsHostPort: 8443 } };
const IMAGES = { envoy: BUILDER_TEST_ENVOY_IMAGE, app: (s: MeshService) => `app-of-${s.name}` };
const SCALED = { extends: "seed", services: [{ name: "service-b", replicas: 3 }] };

/** Stand-in PEM texts that say whose they are. */
function certificatesFor(topology: Topology): DockerCertificateFiles {
  const proxies = ["front-envoy", ...topology.services.map((s) => s.name)];
  return {
    identities: new Map(proxies.map((p) => [p, { certificatePem: `cert of ${p}`, privateKeyPem: `key of ${p}`, caPem: "mesh ca" }])),
    edge: { certificatePem: "edge cert", privateKeyPem: "edge key" },
  };
}

function mesh(raw: unknown = SCALED, target: DockerTarget = TARGET): { topology: Topology; mesh: DockerMesh; containers: DockerContainer[] } {
  const topology = parseTopology(raw);
  const built = buildDockerMesh(topology, target, IMAGES, certificatesFor(topology));
  return { topology, mesh: built, containers: dockerContainers(built) };
}

const byName = (containers: DockerContainer[], name: string) => {
  const found = containers.find((c) => c.name === name);
  assert.ok(found, `no container ${name} in ${containers.map((c) => c.name).join(", ")}`);
  return found;
};

describe("docker: the mesh as containers", () => {
  it("puts everything on one user-defined bridge network named after the target", () => {
    const { mesh: built, containers } = mesh();
    assert.deepEqual(built.network, { name: "envoy-mesh", driver: "bridge", labels: { "envoy-mesh.part-of": "envoy-mesh" } });
    for (const c of containers.filter((x) => x.role === "envoy")) {
      assert.equal(c.networking.mode === "network" && c.networking.network, "envoy-mesh", c.name);
    }
  });

  it("runs an Envoy and an app container per service replica, and one Envoy for the front proxy", () => {
    const { containers } = mesh();
    assert.deepEqual(
      containers.map((c) => c.name),
      [
        "envoy-mesh-service-a-1-envoy", "envoy-mesh-service-a-1-app",
        "envoy-mesh-service-b-1-envoy", "envoy-mesh-service-b-1-app",
        "envoy-mesh-service-b-2-envoy", "envoy-mesh-service-b-2-app",
        "envoy-mesh-service-b-3-envoy", "envoy-mesh-service-b-3-app",
        "envoy-mesh-service-c-1-envoy", "envoy-mesh-service-c-1-app",
        "envoy-mesh-front-envoy-1",
      ],
    );
  });

  it("runs each app in its own replica's Envoy network namespace, listening on 127.0.0.1, publishing nothing", () => {
    const { containers } = mesh();
    for (const app of containers.filter((c) => c.role === "app")) {
      const envoyName = app.name.replace(/-app$/, "-envoy");
      assert.deepEqual(app.networking, { mode: "container", container: envoyName });
      assert.deepEqual(app.ports, []);
      assert.equal(app.environment.find((e) => e.name === "HOST")?.value, "127.0.0.1");
      assert.equal(app.environment.find((e) => e.name === "POD_NAME")?.value, app.name);
    }
  });

  it("gives every replica's Envoy of a service the service's alias, the name callers' Envoys resolve", () => {
    const { containers, topology } = mesh();
    const aliases = (proxy: string) =>
      containers.filter((c) => c.proxy === proxy && c.role === "envoy").map((c) => (c.networking.mode === "network" ? c.networking.aliases : []));
    assert.deepEqual(aliases("service-b"), [["service-b"], ["service-b"], ["service-b"]]);
    assert.deepEqual(aliases("front-envoy"), [[]]);
    const front = load(toYaml(buildMeshConfigs(topology, dockerEnvoyTarget(TARGET))[0].bootstrap)) as any;
    const hosts = front.static_resources.clusters
      .filter((c: any) => c.type === "STRICT_DNS")
      .map((c: any) => c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address);
    assert.deepEqual(hosts, ["service-a."]);
  });

  it("publishes only the front proxy, on 127.0.0.1: HTTPS 8443 to its TLS listener and plain 8080 to its HTTP listener", () => {
    const { containers, topology } = mesh();
    const published = containers.filter((c) => c.ports.length > 0);
    assert.deepEqual(published.map((c) => c.name), ["envoy-mesh-front-envoy-1"]);
    assert.deepEqual(published[0].ports, [
      { hostIp: "127.0.0.1", hostPort: 8080, containerPort: topology.ports.front, protocol: "tcp" },
      { hostIp: "127.0.0.1", hostPort: 8443, containerPort: topology.ports.frontTls, protocol: "tcp" },
    ]);
  });

  it("publishes no plain HTTP port when front.plainHttp is off, and keeps it for a redirect", () => {
    const off = mesh({ extends: "seed", front: { plainHttp: "off" } });
    assert.deepEqual(
      byName(off.containers, "envoy-mesh-front-envoy-1").ports.map((p) => [p.hostPort, p.containerPort]),
      [[8443, off.topology.ports.frontTls]],
    );
    const redirect = mesh({ extends: "seed", front: { plainHttp: "redirect" } });
    assert.deepEqual(byName(redirect.containers, "envoy-mesh-front-envoy-1").ports.map((p) => p.hostPort), [8080, 8443]);
  });

  describe("files each Envoy gets", () => {
    const paths = (c: DockerContainer) => c.files.map((f) => f.path);

    it("gives every Envoy its own identity and the mesh CA in /etc/mesh/identity, the key marked secret", () => {
      const { containers } = mesh();
      for (const c of containers.filter((x) => x.role === "envoy")) {
        const identity = c.files.filter((f) => f.path.startsWith("/etc/mesh/identity/"));
        assert.deepEqual(identity.map((f) => [f.path, f.content, f.secret]), [
          ["/etc/mesh/identity/ca.crt", "mesh ca", false],
          ["/etc/mesh/identity/tls.crt", `cert of ${c.proxy}`, false],
          ["/etc/mesh/identity/tls.key", `key of ${c.proxy}`, true],
        ], c.name);
      }
    });

    it("gives the front alone the edge certificate in /etc/mesh/edge", () => {
      const { containers } = mesh();
      for (const c of containers.filter((x) => x.role === "envoy")) {
        const edge = c.files.filter((f) => f.path.startsWith("/etc/mesh/edge/"));
        if (c.proxy === "front-envoy") {
          assert.deepEqual(edge.map((f) => [f.path, f.content, f.secret]), [
            ["/etc/mesh/edge/tls.crt", "edge cert", false],
            ["/etc/mesh/edge/tls.key", "edge key", true],
          ]);
        } else assert.deepEqual(edge, [], c.name);
      }
    });

    it("puts each xDS file of the proxy's rendered config (LDS, CDS, RDS, SDS) in /etc/mesh/xds, byte for byte", () => {
      const { topology, containers, mesh: built } = mesh();
      for (const service of topology.services) {
        const rendered = renderEnvoyConfig(buildSidecarConfig(topology, service, dockerEnvoyTarget(TARGET)));
        const envoy = byName(containers, `envoy-mesh-${service.name}-1-envoy`);
        const xds = envoy.files.filter((f) => f.path.startsWith("/etc/mesh/xds/"));
        assert.deepEqual(
          xds.map((f) => [f.path, f.content, f.secret]),
          Object.entries(rendered.xdsFiles).map(([file, yaml]) => [`/etc/mesh/xds/${file}`, yaml, false]).sort(),
        );
        assert.ok(xds.some((f) => f.path === "/etc/mesh/xds/lds.json") && xds.some((f) => f.path === "/etc/mesh/xds/cds.json"), service.name);
        assert.deepEqual(xdsFilesOf(built.proxies.find((p) => p.proxy === service.name)!), rendered.xdsFiles);
      }
      // Nothing but the bootstrap (given inline) goes to the bootstrap's folder.
      assert.ok(containers.every((c) => c.files.every((f) => !f.path.startsWith("/etc/envoy/"))));
    });

    it("never gives an app container a file", () => {
      const { containers } = mesh();
      for (const c of containers.filter((x) => x.role === "app")) assert.deepEqual(c.files, [], c.name);
    });

    it("gives every replica of a proxy the same files, sorted by path", () => {
      const { containers } = mesh();
      const replicas = containers.filter((c) => c.role === "envoy" && c.proxy === "service-b");
      assert.equal(replicas.length, 3);
      for (const r of replicas) assert.deepEqual(r.files, replicas[0].files);
      assert.deepEqual(paths(replicas[0]), [...paths(replicas[0])].sort());
    });

    it("refuses, under strict mTLS, a certificate set missing proxies' identities, naming each of them at once", () => {
      const topology = parseTopology(SCALED);
      const full = certificatesFor(topology);
      const partial: DockerCertificateFiles = { ...full, identities: new Map([...full.identities].filter(([p]) => p !== "service-b" && p !== "front-envoy")) };
      assert.throws(
        () => buildDockerMesh(topology, TARGET, IMAGES, partial),
        (e: Error) =>
          /2 problems/.test(e.message) &&
          /certificates\.identities\.front-envoy: security\.mtls is strict, but the certificate set has no identity for front-envoy/.test(e.message) &&
          /certificates\.identities\.service-b: .*no identity for service-b.*identities present: service-a, service-c\)/.test(e.message),
      );
    });

    it("refuses a certificate set without the edge certificate: the front's HTTPS listener needs it", () => {
      const topology = parseTopology(SCALED);
      const { identities } = certificatesFor(topology);
      assert.throws(() => buildDockerMesh(topology, TARGET, IMAGES, { identities }), /certificates\.edge: the front's HTTPS listener \(published on 127\.0\.0\.1:8443\) needs the edge certificate in \/etc\/mesh\/edge/);
    });

    it("needs no identity with mtls off", () => {
      const topology = parseTopology({ extends: "seed", security: { mtls: "off" } });
      const built = buildDockerMesh(topology, TARGET, IMAGES, { identities: new Map(), edge: certificatesFor(topology).edge });
      assert.ok(dockerContainers(built).every((c) => !c.files.some((f) => f.path.startsWith("/etc/mesh/identity/"))));
    });

    it("gives no identity with mtls off (the edge certificate stays)", () => {
      const { containers } = mesh({ extends: "seed", security: { mtls: "off" } });
      for (const c of containers) assert.ok(!paths(c).some((p) => p.startsWith("/etc/mesh/identity/")), c.name);
      assert.ok(paths(byName(containers, "envoy-mesh-front-envoy-1")).includes("/etc/mesh/edge/tls.key"));
    });
  });

  it("hardens every container: non-root user, read-only root, no capabilities, no privilege gain, memory limit, restart", () => {
    const { containers } = mesh();
    for (const c of containers) {
      assert.equal(c.user, c.role === "envoy" ? "101:101" : "1000:1000", c.name);
      assert.equal(c.readOnlyRootFilesystem, true);
      assert.deepEqual(c.capDrop, ["ALL"]);
      assert.deepEqual(c.securityOpt, ["no-new-privileges:true"]);
      assert.equal(c.restart, "unless-stopped");
    }
  });

  it("takes memory limits, reservations and CPU weight from the topology's resources, as the kubelet would", () => {
    const { containers } = mesh({ extends: "seed", front: { resources: { memoryLimit: "0.5Gi", cpuRequest: "250m" } }, services: [{ name: "service-c", resources: { app: { memoryLimit: "100M" } } }] });
    const front = byName(containers, "envoy-mesh-front-envoy-1");
    assert.deepEqual([front.memoryMiB, front.memoryReservationMiB, front.cpuShares], [512, 64, 256]);
    const app = byName(containers, "envoy-mesh-service-c-1-app");
    // 100 MB is 95.37 MiB: rounded up, never below what the topology asks for.
    assert.deepEqual([app.memoryMiB, app.cpuShares], [96, 25]);
    assert.equal(byName(containers, "envoy-mesh-service-c-1-envoy").memoryMiB, 128);
  });

  it("checks Envoy's /ready on its health listener and the app's /healthz on its health port", () => {
    const { containers, topology } = mesh();
    const envoy = byName(containers, "envoy-mesh-service-a-1-envoy").healthcheck;
    assert.deepEqual(envoy.test.slice(0, 3), ["CMD", "/bin/bash", "-c"]);
    assert.match(envoy.test[3], new RegExp(`/dev/tcp/127\\.0\\.0\\.1/${topology.ports.health} .*GET /ready HTTP/1\\.1`));
    const app = byName(containers, "envoy-mesh-service-a-1-app").healthcheck;
    assert.deepEqual(app.test.slice(0, 3), ["CMD", "/usr/local/bin/node", "-e"]);
    assert.ok(app.test[3].includes(`http://127.0.0.1:${topology.ports.appHealth}/healthz`));
  });

  it("starts each app only once its Envoy is healthy", () => {
    const { containers } = mesh();
    for (const app of containers.filter((c) => c.role === "app")) {
      const [envoy] = app.dependsOnHealthy;
      assert.equal(envoy, app.name.replace(/-app$/, "-envoy"));
      assert.ok(containers.findIndex((c) => c.name === envoy) < containers.indexOf(app), `${envoy} is listed after ${app.name}`);
    }
  });

  it("starts the front only once every service container is healthy, so its first requests find them ready", () => {
    const { containers } = mesh();
    const front = byName(containers, "envoy-mesh-front-envoy-1");
    const services = containers.filter((c) => c.proxy !== "front-envoy").map((c) => c.name);
    assert.deepEqual(front.dependsOnHealthy, services);
    assert.equal(containers.indexOf(front), containers.length - 1, "listed after everything it waits for");
  });

  it("stops with SIGTERM and enough time to drain: Envoy drainSeconds + 5 s, the app drainSeconds + 10 s + 5 s", () => {
    const { containers } = mesh({ extends: "seed", envoy: { drainSeconds: 7 } });
    assert.deepEqual([byName(containers, "envoy-mesh-front-envoy-1").stopSignal, byName(containers, "envoy-mesh-front-envoy-1").stopGraceSeconds], ["SIGTERM", 12]);
    assert.equal(byName(containers, "envoy-mesh-service-a-1-app").stopGraceSeconds, 22);
  });

  it("runs Envoy under a wrapper that drains before passing SIGTERM on (sidecars inbound only, the front all listeners)", () => {
    const { containers } = mesh();
    const sidecar = byName(containers, "envoy-mesh-service-a-1-envoy");
    assert.deepEqual(sidecar.entrypoint.slice(0, 2), ["/bin/bash", "-c"]);
    assert.equal(sidecar.entrypoint[3], "/usr/local/bin/envoy");
    assert.match(sidecar.entrypoint[2], /POST \/drain_listeners\?graceful&inboundonly /);
    assert.match(byName(containers, "envoy-mesh-front-envoy-1").entrypoint[2], /POST \/drain_listeners\?graceful /);
  });

  it("gives Envoy exactly the rendered bootstrap bytes with --config-yaml, its replica as node and its proxy as cluster", () => {
    const { containers, topology, mesh: built } = mesh();
    const service = topology.services.find((s) => s.name === "service-b") as MeshService;
    const expected = renderEnvoyConfig(buildSidecarConfig(topology, service, dockerEnvoyTarget(TARGET))).bootstrap;
    assert.equal(built.proxies.find((p) => p.proxy === "service-b")?.envoyBootstrap, expected);
    for (const envoy of containers.filter((c) => c.proxy === "service-b" && c.role === "envoy")) {
      const args = envoy.command;
      assert.equal(args[args.indexOf("--config-yaml") + 1], expected);
      assert.equal(args[args.indexOf("--service-node") + 1], envoy.name);
      assert.equal(args[args.indexOf("--service-cluster") + 1], "service-b");
      assert.ok(!args.includes("--config-path"));
    }
  });

  it("builds the same description from configs rendered beforehand (the Pulumi program renders each once), and refuses another proxy's", () => {
    const { topology, mesh: built } = mesh();
    const rendered = new Map(buildMeshConfigs(topology, dockerEnvoyTarget(TARGET)).map((c) => [c.proxy, renderEnvoyConfig(c)]));
    assert.deepEqual(buildDockerMesh(topology, TARGET, IMAGES, certificatesFor(topology), rendered), built);
    const swapped = new Map([...rendered].map(([proxy, r]) => [proxy, proxy === "front-envoy" ? (rendered.get("service-a") as typeof r) : r]));
    assert.throws(() => buildDockerMesh(topology, TARGET, IMAGES, certificatesFor(topology), swapped), /the rendered Envoy config given for front-envoy is service-a's/);
  });

  it("renders Envoy configs that pass the strict checker", () => {
    const { mesh: built } = mesh();
    assert.deepEqual(envoyConfigProblems(built.proxies.map((p) => ({ proxy: p.proxy, bootstrap: p.envoyBootstrap, xdsFiles: xdsFilesOf(p) }))), []);
  });

  it("uses the given images: the Envoy image for every Envoy, each service's own for its app", () => {
    const { containers } = mesh();
    for (const c of containers) assert.equal(c.image, c.role === "envoy" ? BUILDER_TEST_ENVOY_IMAGE : `app-of-${c.proxy}`);
  });

  it("runs for the target's platform when it sets one", () => {
    const { containers } = mesh(SCALED, { ...TARGET, platform: "linux/arm64" });
    for (const c of containers) assert.equal(c.platform, "linux/arm64");
    for (const c of mesh().containers) assert.equal("platform" in c, false);
  });

  it("is deterministic and does not depend on the order services are written in", () => {
    const services = [
      { name: "service-c", appPort: 8083 },
      { name: "service-a", appPort: 8081, upstreams: ["service-c", "service-b"] },
      { name: "service-b", appPort: 8082, replicas: 2 },
    ];
    const front = { routes: [{ prefix: "/", service: "service-a" }] };
    const a = JSON.stringify(mesh({ services, front }).mesh);
    const b = JSON.stringify(mesh({ services: [...services].reverse(), front }).mesh);
    assert.equal(a, b);
    assert.equal(JSON.stringify(mesh({ services, front }).mesh), a);
  });

  describe("what a change touches: the files of the proxies it concerns, or, for a bootstrap change, the Envoys' definitions", () => {
    const CANARY = (v1: number, v2: number) => ({
      extends: "seed",
      services: [{ name: "service-b", versions: [{ name: "v1", weight: v1, replicas: 2 }, { name: "v2", weight: v2, replicas: 1 }] }],
    });
    /** A container as the engine is given it, without the files the files container delivers. */
    const definition = ({ files: _files, ...rest }: DockerContainer) => JSON.stringify(rest);
    const compare = (before: DockerContainer[], after: DockerContainer[]) => ({
      definitions: after.filter((c) => definition(c) !== definition(byName(before, c.name))).map((c) => c.name),
      files: after.filter((c) => JSON.stringify(c.files) !== JSON.stringify(byName(before, c.name).files)).map((c) => c.name),
    });

    it("a canary weight changes the files of B's callers only: no container's definition", () => {
      const { definitions, files } = compare(mesh(CANARY(90, 10)).containers, mesh(CANARY(50, 50)).containers);
      assert.deepEqual(definitions, []);
      assert.deepEqual(files, ["envoy-mesh-service-a-1-envoy"]);
    });

    it("a retry policy changes files only: no container's definition", () => {
      const { definitions, files } = compare(mesh().containers, mesh({ ...SCALED, policy: { retries: { count: 1 } } }).containers);
      assert.deepEqual(definitions, []);
      assert.ok(files.includes("envoy-mesh-service-a-1-envoy") && files.includes("envoy-mesh-front-envoy-1"), files.join(", "));
      assert.ok(files.every((name) => name.endsWith("-envoy") || name === "envoy-mesh-front-envoy-1"), files.join(", "));
    });

    it("a new front route changes the front's files only", () => {
      // A route to a service the front already calls (a newly routed service gets the front as a caller).
      const after = mesh({ ...SCALED, front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/a", service: "service-a" }] } }).containers;
      assert.deepEqual(compare(mesh().containers, after), { definitions: [], files: ["envoy-mesh-front-envoy-1"] });
    });

    it("a bootstrap change (the admin port) changes every Envoy's definition, and its config-hash label", () => {
      const before = mesh().containers;
      const after = mesh({ ...SCALED, ports: { admin: 9911 } }).containers;
      const envoys = after.filter((c) => c.role === "envoy").map((c) => c.name).sort();
      assert.deepEqual(compare(before, after).definitions.filter((n) => envoys.includes(n)).sort(), envoys);
      for (const name of envoys) assert.notEqual(byName(after, name).labels["envoy-mesh.config-hash"], byName(before, name).labels["envoy-mesh.config-hash"], name);
    });
  });
});
