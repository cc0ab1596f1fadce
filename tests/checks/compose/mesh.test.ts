import { strict as assert } from "node:assert";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";
import { composeConsistencyIssues, composeFileIssues, composeMeshIssues, publishedHostIp } from "../../../checks/compose";

const FIXTURES = join(__dirname, "fixtures");

function hardened(role: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const labels =
    role === "front"
      ? { "envoy-mesh.proxy": "front-envoy", "envoy-mesh.role": "envoy" }
      : { "envoy-mesh.proxy": "service-a", "envoy-mesh.role": role === "sidecar" ? "envoy" : "app" };
  return {
    image: "example/image@sha256:" + "0".repeat(64),
    labels,
    user: "101:101",
    read_only: true,
    cap_drop: ["ALL"],
    security_opt: ["no-new-privileges:true"],
    mem_limit: "128m",
    restart: "unless-stopped",
    stop_grace_period: "20s",
    healthcheck: { test: ["CMD", "/bin/true"], interval: "5s" },
    ...extra,
  };
}

/** A small mesh that keeps every rule: a front, and one service (Envoy + app). */
function goodMesh(): { services: Record<string, Record<string, unknown>>; networks: Record<string, unknown> } {
  return {
    services: {
      front: hardened("front", { ports: ["127.0.0.1:8080:8080"], networks: { mesh: null } }),
      "service-a-envoy-0": hardened("sidecar", { networks: { mesh: { aliases: ["service-a"] } } }),
      "service-a-app-0": hardened("app", { network_mode: "service:service-a-envoy-0", depends_on: { "service-a-envoy-0": { condition: "service_healthy" } } }),
    },
    networks: { mesh: {} },
  };
}

describe("checks/compose: mesh rules", () => {
  it("accept a mesh that keeps them", () => {
    assert.deepEqual(composeFileIssues(goodMesh()), []);
  });

  describe("certificates and keys (compose secrets)", () => {
    /** The good mesh with each proxy's identity key as a secret mounted by its own Envoy. */
    function withSecrets() {
      const mesh = goodMesh() as ReturnType<typeof goodMesh> & { secrets: Record<string, unknown> };
      mesh.secrets = { "front-key": { file: "./tls/front-envoy/tls.key" }, "a-key": { file: "./tls/service-a/tls.key" } };
      mesh.services.front.secrets = [{ source: "front-key", target: "/etc/mesh/identity/tls.key" }];
      mesh.services["service-a-envoy-0"].secrets = [{ source: "a-key", target: "/etc/mesh/identity/tls.key" }];
      return mesh;
    }

    it("accept each proxy's secrets mounted by its own Envoys, replicas included", () => {
      const mesh = withSecrets();
      assert.deepEqual(composeFileIssues(mesh), []);
      mesh.services["service-a-envoy-1"] = { ...mesh.services["service-a-envoy-0"] };
      mesh.services["service-a-app-1"] = hardened("app", { network_mode: "service:service-a-envoy-1", depends_on: { "service-a-envoy-1": { condition: "service_healthy" } } });
      assert.deepEqual(composeMeshIssues(mesh), []);
    });

    it("refuse an app that mounts a secret, in either syntax", () => {
      for (const entry of ["a-key", { source: "a-key", target: "/run/secrets/key" }]) {
        const mesh = withSecrets();
        mesh.services["service-a-app-0"].secrets = [entry];
        assert.deepEqual(composeMeshIssues(mesh), [{ path: "services.service-a-app-0.secrets", message: "must be empty: an app never sees a certificate or key, got a-key" }]);
      }
    });

    it("refuse one proxy's identity mounted by another proxy's Envoy", () => {
      const mesh = withSecrets();
      mesh.services.front.secrets = [{ source: "front-key", target: "/etc/mesh/identity/tls.key" }, "a-key"];
      assert.deepEqual(composeMeshIssues(mesh), [{ path: "secrets.a-key", message: "must be mounted by one proxy's Envoys only, got front-envoy, service-a" }]);
    });
  });

  describe("mounted folders (the xDS folder each Envoy reloads)", () => {
    const xds = { type: "bind", source: "./xds/service-a", target: "/etc/mesh/xds", read_only: true };

    it("accept an Envoy that mounts its folder read-only, in either syntax", () => {
      for (const entry of [xds, "./xds/service-a:/etc/mesh/xds:ro"]) {
        const mesh = goodMesh();
        mesh.services["service-a-envoy-0"].volumes = [entry];
        assert.deepEqual(composeFileIssues(mesh), []);
      }
    });

    it("refuse a writable mount: the read-only root filesystem would mean nothing", () => {
      for (const entry of [{ ...xds, read_only: false }, { type: "bind", source: "./xds/service-a", target: "/etc/mesh/xds" }, "./xds/service-a:/etc/mesh/xds", "./xds/service-a:/etc/mesh/xds:rw"]) {
        const mesh = goodMesh();
        mesh.services["service-a-envoy-0"].volumes = [entry];
        assert.deepEqual(composeMeshIssues(mesh), [{ path: "services.service-a-envoy-0.volumes[0]", message: "must be read-only (read_only: true, or :ro)" }], JSON.stringify(entry));
      }
    });

    it("refuse an app that mounts anything: an Envoy's config is its own", () => {
      const mesh = goodMesh();
      mesh.services["service-a-app-0"].volumes = [xds];
      assert.deepEqual(composeMeshIssues(mesh), [{ path: "services.service-a-app-0.volumes", message: "must be empty: an app mounts nothing of its Envoy's, got /etc/mesh/xds" }]);
    });
  });

  it("refuse an app that publishes a port", () => {
    const mesh = goodMesh();
    mesh.services["service-a-app-0"].ports = ["127.0.0.1:8081:8081"];
    assert.deepEqual(composeMeshIssues(mesh), [{ path: "services.service-a-app-0.ports", message: "must be empty: only the front proxy publishes, an app publishes nothing" }]);
  });

  it("refuse a sidecar that publishes a port", () => {
    const mesh = goodMesh();
    mesh.services["service-a-envoy-0"].ports = ["127.0.0.1:9901:9901"];
    assert.deepEqual(composeMeshIssues(mesh).map((i) => i.path), ["services.service-a-envoy-0.ports"]);
  });

  it("refuse a front published on every interface, in either syntax", () => {
    const mesh = goodMesh();
    mesh.services.front.ports = ["8080:8080", { target: 8080, published: "8443" }, "0.0.0.0:9000:9000"];
    assert.deepEqual(composeMeshIssues(mesh), [
      { path: "services.front.ports[0]", message: "must bind 127.0.0.1 only, got every interface" },
      { path: "services.front.ports[1]", message: "must bind 127.0.0.1 only, got every interface" },
      { path: "services.front.ports[2]", message: 'must bind 127.0.0.1 only, got "0.0.0.0"' },
    ]);
  });

  it("refuse an app with its own network namespace", () => {
    const mesh = goodMesh();
    delete mesh.services["service-a-app-0"].network_mode;
    const issues = composeMeshIssues(mesh);
    assert.ok(issues.some((i) => i.path === "services.service-a-app-0.network_mode"), JSON.stringify(issues));
    assert.ok(issues.some((i) => i.path === "services.service-a-envoy-0" && /exactly one app/.test(i.message)), JSON.stringify(issues));
  });

  it("refuse an app sharing the front's namespace instead of a sidecar's", () => {
    const mesh = goodMesh();
    mesh.services["service-a-app-0"].network_mode = "service:front";
    mesh.services["service-a-app-0"].depends_on = { front: { condition: "service_healthy" } };
    assert.ok(composeMeshIssues(mesh).some((i) => i.path === "services.service-a-app-0.network_mode"));
  });

  it("refuse an app that starts before its Envoy is healthy", () => {
    for (const dependsOn of [undefined, ["service-a-envoy-0"], { "service-a-envoy-0": { condition: "service_started" } }]) {
      const mesh = goodMesh();
      mesh.services["service-a-app-0"].depends_on = dependsOn;
      if (dependsOn === undefined) delete mesh.services["service-a-app-0"].depends_on;
      assert.deepEqual(composeMeshIssues(mesh), [{ path: "services.service-a-app-0.depends_on.service-a-envoy-0.condition", message: "must be service_healthy: the app starts once its Envoy is ready" }]);
    }
  });

  describe("refuse every service that is not hardened", () => {
    const cases: [string, Record<string, unknown>, string][] = [
      ["writable root filesystem", { read_only: false }, "read_only"],
      ["capabilities kept", { cap_drop: ["NET_RAW"] }, "cap_drop"],
      ["a capability added", { cap_add: ["NET_ADMIN"] }, "cap_add"],
      ["privileged", { privileged: true }, "privileged"],
      ["privilege gain allowed", { security_opt: ["no-new-privileges:false"] }, "security_opt"],
      ["root by name", { user: "root" }, "user"],
      ["root by id", { user: "0:0" }, "user"],
      ["no user", { user: undefined }, "user"],
      ["no memory limit", { mem_limit: undefined }, "mem_limit"],
      ["never restarted", { restart: "no" }, "restart"],
      ["no graceful stop", { stop_grace_period: undefined }, "stop_grace_period"],
      ["no health check", { healthcheck: undefined }, "healthcheck"],
      ["health check disabled", { healthcheck: { disable: true } }, "healthcheck"],
    ];
    for (const [what, change, field] of cases) {
      for (const name of ["front", "service-a-envoy-0", "service-a-app-0"]) {
        it(`${what}: ${name}`, () => {
          const mesh = goodMesh();
          const service = { ...mesh.services[name], ...change };
          for (const key of Object.keys(change)) if (change[key] === undefined) delete service[key];
          mesh.services[name] = service;
          assert.deepEqual(composeMeshIssues(mesh).map((i) => i.path), [`services.${name}.${field}`]);
        });
      }
    }
  });

  it("accept the engine's other spellings of no-new-privileges and of labels", () => {
    const mesh = goodMesh();
    mesh.services.front.security_opt = ["no-new-privileges"];
    mesh.services["service-a-envoy-0"].security_opt = ["no-new-privileges=true"];
    mesh.services["service-a-app-0"].labels = ["envoy-mesh.role=app", "envoy-mesh.proxy=service-a"];
    assert.deepEqual(composeMeshIssues(mesh), []);
  });

  it("refuse Envoy's own front-proxy example: no roles, no hardening, ports published on every interface", () => {
    const example = load(readFileSync(join(FIXTURES, "accepted", "envoy-examples-front-proxy.yaml"), "utf8"));
    const issues = composeMeshIssues(example);
    assert.ok(issues.some((i) => i.path === "services.front-envoy.labels"), JSON.stringify(issues));
    assert.ok(issues.some((i) => i.path === "services" && /exactly one front proxy/.test(i.message)));
  });

  describe("publishedHostIp reads compose's port syntaxes", () => {
    const cases: [unknown, string | undefined][] = [
      ["8080", undefined],
      ["8080:80", undefined],
      ["127.0.0.1:8080:80", "127.0.0.1"],
      ["127.0.0.1::80/tcp", "127.0.0.1"],
      ["[::1]:8080:80", "::1"],
      [8080, undefined],
      [{ target: 80, host_ip: "127.0.0.1", published: 8080 }, "127.0.0.1"],
      [{ target: 80 }, undefined],
    ];
    for (const [port, ip] of cases) it(JSON.stringify(port), () => assert.equal(publishedHostIp(port), ip));
  });
});

describe("checks/compose: compose's consistency checks", () => {
  it("accept the compose files written elsewhere", () => {
    for (const file of readdirSync(join(FIXTURES, "accepted"))) {
      assert.deepEqual(composeConsistencyIssues(load(readFileSync(join(FIXTURES, "accepted", file), "utf8"))), [], file);
    }
  });

  it("refuse broken references, all at once", () => {
    const mesh = goodMesh();
    mesh.services["service-a-app-0"].networks = ["mesh"];
    mesh.services["service-a-app-0"].depends_on = { "service-b-envoy-0": { condition: "service_healthy" } };
    mesh.services["service-a-envoy-0"].networks = { elsewhere: null };
    delete mesh.services.front.image;
    mesh.services["service-a-envoy-0"].healthcheck = { test: ["curl", "-f", "http://localhost/ready"] };
    assert.deepEqual(composeConsistencyIssues(mesh), [
      { path: "services.front", message: "has neither an image nor a build context specified" },
      { path: "services.service-a-app-0", message: "declares mutually exclusive `network_mode` and `networks`" },
      { path: "services.service-a-app-0.depends_on", message: 'depends on undefined service "service-b-envoy-0"' },
      { path: "services.service-a-envoy-0.healthcheck.test", message: 'must start either by "CMD", "CMD-SHELL" or "NONE"' },
      { path: "services.service-a-envoy-0.networks", message: "refers to undefined network elsewhere" },
    ]);
  });

  it("refuse an app sharing the namespace of a service that does not exist", () => {
    const mesh = goodMesh();
    mesh.services["service-a-app-0"].network_mode = "service:nowhere";
    assert.ok(composeFileIssues(mesh).some((i) => i.message === "service \"nowhere\" not found for network_mode 'service:nowhere'"));
  });
});
