import { strict as assert } from "node:assert";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import { composeConsistencyIssues, composeMeshIssues, composeSchemaIssues } from "../../checks/compose";
import { dockerContainers, xdsFilesOf, type DockerTarget } from "../../docker";
import fc from "fast-check";
import { COMPOSE_FILE, composeBuildContext, composeServiceName, escapeInterpolation } from "../../render/composeFile";
import { LIVE_RELOAD_NOTE, PLACEHOLDER_MARK, dockerRenderProblems, renderDocker, type RenderedDocker } from "../../render/renderDocker";
import { renderMesh } from "../../render/renderMesh";
import { parseStackSettings, readStackValues, type DockerStackSettings } from "../../stack";
import { interpolate, interpolateDocument } from "../helpers/composeInterpolation";

const REPO_ROOT = resolve(__dirname, "../..");

type Service = Record<string, any>;
type Compose = { name: string; services: Record<string, Service>; networks: Record<string, any>; configs?: unknown; secrets?: unknown };

function dockerSettings(projectDir: string, stack: string): DockerStackSettings {
  const settings = parseStackSettings(readStackValues(projectDir, stack), { projectDir });
  assert.equal(settings.target, "docker");
  return settings as DockerStackSettings;
}

/** The compose file as compose reads it: YAML, then interpolation. */
function composeOf(rendered: RenderedDocker): Compose {
  return interpolateDocument(load(rendered.files.get(COMPOSE_FILE) as string)) as Compose;
}

describe("render/renderDocker: the docker stack as a compose file", () => {
  const out = join(REPO_ROOT, "out");
  let rendered: RenderedDocker;
  let compose: Compose;
  before(() => {
    rendered = renderDocker(REPO_ROOT, dockerSettings(REPO_ROOT, "docker"), out);
    compose = composeOf(rendered);
  });

  it("writes each proxy's bootstrap, its xDS files in xds/<proxy>/, placeholders for its certificates, and docker-compose.yaml", () => {
    const proxies = ["front-envoy", "service-a", "service-b", "service-c"];
    const xds = rendered.mesh.proxies.flatMap((p) => Object.keys(xdsFilesOf(p)).map((file) => `xds/${p.proxy}/${file}`));
    for (const p of proxies) for (const file of ["lds.json", "cds.json", "sds-identity.json", "sds-mesh-ca.json"]) assert.ok(xds.includes(`xds/${p}/${file}`), `${p}: ${file}`);
    for (const p of rendered.mesh.proxies) {
      for (const [file, text] of Object.entries(xdsFilesOf(p))) assert.equal(rendered.files.get(`xds/${p.proxy}/${file}`), text, `${p.proxy}: ${file}`);
    }
    assert.deepEqual([...rendered.files.keys()].sort(), [
      "docker-compose.yaml",
      ...proxies.map((p) => `envoy/${p}.json`),
      ...xds,
      ...proxies.flatMap((p) => ["ca.crt", "tls.crt", "tls.key"].map((f) => `tls/${p}/${f}`)),
      "tls/front-envoy-edge/tls.crt",
      "tls/front-envoy-edge/tls.key",
      "observability/grafana-dashboard.json",
      "observability/prometheus-rules.yaml",
    ].sort());
  });

  it("never writes key material: every certificate and key file is a marked placeholder, and a note says where real ones come from", () => {
    for (const [path, content] of rendered.files) {
      assert.ok(!content.includes("PRIVATE KEY-----"), `${path} holds a private key`);
      assert.ok(!content.includes("BEGIN CERTIFICATE"), `${path} holds a certificate`);
      if (path.startsWith("tls/")) assert.ok(content.startsWith(PLACEHOLDER_MARK), path);
    }
    assert.equal(rendered.notes.length, 2);
    // The folder as the user types it: npm runs scripts in the project folder.
    assert.match(rendered.notes[0], /placeholders.*run `npm run certs -- --stack docker --out out` to issue them/);
    assert.equal(rendered.notes[1], LIVE_RELOAD_NOTE);
  });

  it("mounts each proxy's xDS folder read-only at /etc/mesh/xds and its certificates as secrets, into its Envoy services only, at the paths Envoy reads", () => {
    const source = (name: string) => (compose.secrets as Record<string, { file: string }>)[name].file;
    assert.equal(compose.configs, undefined, "no file is mounted alone as a config: its inode would be pinned");
    for (const container of dockerContainers(rendered.mesh)) {
      const s = compose.services[composeServiceName(rendered.mesh.network as unknown as DockerTarget, container)] as Service;
      if (container.role === "app") {
        assert.equal(s.volumes, undefined, container.name);
        assert.equal(s.secrets, undefined, container.name);
        continue;
      }
      assert.deepEqual(s.volumes, [{ type: "bind", source: `./xds/${container.proxy}`, target: "/etc/mesh/xds", read_only: true }], container.name);
      const secrets = (s.secrets ?? []) as { source: string; target: string }[];
      assert.deepEqual(
        [...secrets.map((m) => m.target), ...Object.keys(xdsFilesOf(container)).map((f) => `/etc/mesh/xds/${f}`)].sort(),
        container.files.map((f) => f.path),
        container.name,
      );
      for (const m of secrets) {
        const file = source(m.source);
        // The mounted file is the one the render wrote for this proxy.
        assert.ok(rendered.files.has(file.replace(/^\.\//, "")), `${container.name}: ${file}`);
        assert.ok(m.target.startsWith("/etc/mesh/identity/") || m.target.startsWith("/etc/mesh/edge/"), `${container.name}: ${m.target}`);
        assert.ok(file.startsWith(`./tls/${container.proxy}/`) || file.startsWith(`./tls/${container.proxy}-edge/`), file);
      }
    }
  });

  it("is a compose file the Compose Specification's schema and compose's reference checks accept", () => {
    const raw = load(rendered.files.get(COMPOSE_FILE) as string);
    assert.deepEqual(composeSchemaIssues(raw), []);
    assert.deepEqual(composeConsistencyIssues(raw), []);
  });

  it("keeps the mesh's rules", () => {
    assert.deepEqual(composeMeshIssues(load(rendered.files.get(COMPOSE_FILE) as string)), []);
  });

  it("interpolates to itself: no variable, no invalid template, whatever the environment", () => {
    assert.doesNotThrow(() => composeOf(rendered));
  });

  it("publishes only the front proxy, on 127.0.0.1: plain HTTP 8080 and HTTPS 8443", () => {
    const published = Object.entries(compose.services).filter(([, s]) => s.ports !== undefined);
    assert.deepEqual(published, [["front-envoy-1", published[0][1]]]);
    assert.deepEqual(published[0][1].ports, [
      { target: 8080, host_ip: "127.0.0.1", published: "8080", protocol: "tcp" },
      { target: 8443, host_ip: "127.0.0.1", published: "8443", protocol: "tcp" },
    ]);
  });

  it("runs exactly the containers of the docker target, each as the pure description says", () => {
    const containers = dockerContainers(rendered.mesh);
    const byContainer = new Map(Object.entries(compose.services).map(([name, s]) => [s.container_name as string, { name, ...s }]));
    assert.deepEqual([...byContainer.keys()], containers.map((c) => c.name));
    for (const c of containers) {
      const s = byContainer.get(c.name) as Service;
      assert.equal(s.image, c.image, c.name);
      assert.deepEqual(s.entrypoint ?? [], c.entrypoint, c.name);
      assert.deepEqual(s.command ?? [], c.command, c.name);
      assert.deepEqual(s.environment ?? {}, Object.fromEntries(c.environment.map((e) => [e.name, e.value])), c.name);
      assert.equal(s.user, c.user, c.name);
      assert.equal(s.mem_limit, `${c.memoryMiB}m`, c.name);
      assert.equal(s.mem_reservation, `${c.memoryReservationMiB}m`, c.name);
      assert.equal(s.cpu_shares, c.cpuShares, c.name);
      assert.deepEqual(s.healthcheck.test, c.healthcheck.test, c.name);
      assert.equal(s.stop_signal, c.stopSignal, c.name);
      assert.equal(s.stop_grace_period, `${c.stopGraceSeconds}s`, c.name);
      assert.equal(s.restart, c.restart, c.name);
      assert.deepEqual(s.labels, c.labels, c.name);
      assert.deepEqual(s.security_opt, c.securityOpt, c.name);
      if (c.networking.mode === "container") {
        assert.equal(s.network_mode, `service:${(byContainer.get(c.networking.container) as Service).name}`, c.name);
        assert.deepEqual(s.depends_on, { [(byContainer.get(c.networking.container) as Service).name]: { condition: "service_healthy" } }, c.name);
      } else {
        assert.deepEqual(Object.keys(s.networks), [c.networking.network], c.name);
        assert.deepEqual(s.networks[c.networking.network].aliases ?? [], c.networking.aliases, c.name);
      }
    }
    assert.equal(compose.name, rendered.mesh.network.name);
    assert.deepEqual(compose.networks, { [rendered.mesh.network.name]: { name: rendered.mesh.network.name, driver: "bridge", labels: rendered.mesh.network.labels } });
  });

  it("gives every Envoy, byte for byte, the config in envoy/<proxy>.json", () => {
    for (const s of Object.values(compose.services).filter((s) => s.labels["envoy-mesh.role"] === "envoy")) {
      const at = (s.command as string[]).indexOf("--config-yaml");
      assert.ok(at >= 0, s.container_name);
      assert.equal(s.command[at + 1], rendered.files.get(`envoy/${s.labels["envoy-mesh.proxy"]}.json`), s.container_name);
    }
  });

  it("keeps a $ in any string exactly, through compose's interpolation", () => {
    const script = dockerContainers(rendered.mesh).find((c) => c.proxy === "front-envoy")?.entrypoint[2] as string;
    assert.match(script, /"\$!"/, "the wrapper script uses shell variables");
    const raw = load(rendered.files.get(COMPOSE_FILE) as string) as Compose;
    const written = raw.services["front-envoy-1"].entrypoint[2] as string;
    assert.notEqual(written, script);
    assert.equal(interpolate(written), script);
  });

  it("escapes any string so that compose's interpolation gives it back unchanged", () => {
    for (const s of ["$HOME", "${A:-b}", "${", "$$", "a$", "$0 $@ $!", "\\$x"]) assert.equal(interpolate(escapeInterpolation(s)), s);
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom("$", "{", "}", "a", "_", "0", ":", "-", " ") }), (s) => interpolate(escapeInterpolation(s)) === s));
  });

  it("builds the app image from the repository's app/ folder, named relative to the output folder", () => {
    const app = compose.services["service-a-1-app"];
    assert.deepEqual(app.build, { context: "../app", dockerfile: "Dockerfile" });
    assert.equal(app.pull_policy, "build");
    assert.equal(app.image, "envoy-mesh-app:compose");
    assert.equal(compose.services["service-b-1-app"].image, app.image, "one image for every service built from app/");
    assert.doesNotMatch(rendered.files.get(COMPOSE_FILE) as string, new RegExp(REPO_ROOT.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
  });

  it("names a build context relative to wherever the output folder is", () => {
    const build = { context: "app", dockerfile: "Dockerfile" };
    assert.equal(composeBuildContext("/repo", "/repo/out", build), "../app");
    assert.equal(composeBuildContext("/repo", "/repo/a/b", build), "../../app");
    assert.equal(composeBuildContext("/repo", "/elsewhere/out", build), "../../repo/app");
    assert.equal(composeBuildContext("/repo", "/repo", { context: ".", dockerfile: "Dockerfile" }), ".");
  });

  it("renders the same bytes again", () => {
    const again = renderDocker(REPO_ROOT, dockerSettings(REPO_ROOT, "docker"), out);
    assert.deepEqual([...again.files], [...rendered.files]);
  });

  it("is what renderMesh renders for the docker stack", () => {
    const viaMesh = renderMesh(REPO_ROOT, "docker", { outDir: out });
    assert.deepEqual([...viaMesh.files], [...rendered.files]);
    assert.equal(viaMesh.composeServiceCount, Object.keys(compose.services).length);
  });

  describe("refuses a defect before anything is written", () => {
    const configs = () => rendered.mesh.proxies.map((p) => ({ proxy: p.proxy, bootstrap: p.envoyBootstrap, xdsFiles: xdsFilesOf(p) }));
    const planted = (change: (doc: Compose) => void) => {
      const doc = load(rendered.files.get(COMPOSE_FILE) as string) as Compose;
      change(doc);
      return dockerRenderProblems(configs(), doc);
    };

    it("passes the render as it is", () => assert.deepEqual(planted(() => undefined), []));

    it("an app publishing a port", () => {
      const problems = planted((doc) => (doc.services["service-a-1-app"].ports = ["127.0.0.1:8081:8081"]));
      assert.deepEqual(problems.map((p) => p.path), ["docker-compose.yaml services.service-a-1-app.ports"]);
    });

    it("the front published on every interface", () => {
      const problems = planted((doc) => (doc.services["front-envoy-1"].ports = ["8080:8080"]));
      assert.deepEqual(problems.map((p) => p.path), ["docker-compose.yaml services.front-envoy-1.ports[0]"]);
    });

    it("a field compose does not know", () => {
      const problems = planted((doc) => (doc.services["service-b-1-envoy"].readonly = true));
      assert.deepEqual(problems, [{ path: "docker-compose.yaml services.service-b-1-envoy", message: 'additional property "readonly" is not allowed' }]);
    });

    it("an SDS file whose Secret is not the one the bootstrap asks for", () => {
      const bad = configs().map((c) =>
        c.proxy === "service-b" ? { ...c, xdsFiles: { ...c.xdsFiles, "sds-identity.json": c.xdsFiles["sds-identity.json"].replace('"name": "identity"', '"name": "service-b"') } } : c,
      );
      const problems = dockerRenderProblems(bad, load(rendered.files.get(COMPOSE_FILE) as string));
      // The SDS reference is in the listener that reads it, in service-b's LDS file.
      assert.ok(problems.some((p) => p.path.startsWith("lds.json of service-b:") && /Unexpected SDS secret/.test(p.message)), JSON.stringify(problems));
    });

    it("an Envoy config Envoy would refuse", () => {
      const bad = configs().map((c) => (c.proxy === "service-b" ? { ...c, bootstrap: c.bootstrap.replace(/"connect_timeout": "[^"]*"/, '"connect_timeout": "soon"') } : c));
      assert.notDeepEqual(bad, configs(), "the bootstrap has a connect_timeout to break");
      const problems = dockerRenderProblems(bad, load(rendered.files.get(COMPOSE_FILE) as string));
      assert.ok(problems.some((p) => p.path.startsWith("envoy config of service-b:")), JSON.stringify(problems));
    });
  });

  describe("replicas", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), "envoy-mesh-docker-"));
      copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
      mkdirSync(join(dir, "app"));
      writeFileSync(join(dir, "app", "Dockerfile"), "FROM scratch\n");
      const topology = "extends: seed\nservices:\n  - name: service-b\n    replicas: 2\n";
      writeFileSync(join(dir, "Pulumi.dev.yaml"), JSON.stringify({ config: { "envoy-mesh:target": "docker", "envoy-mesh:topology": topology } }));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("become distinct compose services, each an Envoy with the service's alias and its own app", () => {
      const replicas = composeOf(renderDocker(dir, dockerSettings(dir, "dev"), join(dir, "out")));
      const names = Object.keys(replicas.services).filter((n) => n.startsWith("service-b-"));
      assert.deepEqual(names, ["service-b-1-envoy", "service-b-1-app", "service-b-2-envoy", "service-b-2-app"]);
      for (const n of [1, 2]) {
        assert.deepEqual(replicas.services[`service-b-${n}-envoy`].networks, { "envoy-mesh": { aliases: ["service-b"] } });
        assert.equal(replicas.services[`service-b-${n}-app`].network_mode, `service:service-b-${n}-envoy`);
      }
      assert.deepEqual(composeMeshIssues(replicas), []);
    });
  });
});
