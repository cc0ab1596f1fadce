import { strict as assert } from "node:assert";
import { ConfigError, DEFAULT_EDGE_POLICY, ENVOY_LOG_LEVELS, parseTopology } from "../../topology";
import { show } from "../../topology/reader";
import { issueAt, issuesOf, onlyIssue, oneService, topologyError, webCallsApi } from "./fixtures";

/** `web` is routed from `/`; `extra` is a second service, so a bad one cannot break the route. */
function withSecond(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    services: [{ name: "web", appPort: 8081 }, { appPort: 8082, ...extra }],
    front: { routes: [{ prefix: "/", service: "web" }] },
  };
}

describe("topology/parse: validation", () => {
  it("accepts a one-service topology", () => {
    const topology = parseTopology(oneService());
    assert.deepEqual(
      topology.services.map((s) => s.name),
      ["web"],
    );
  });

  describe("service names (DNS-1035 labels)", () => {
    const bad: [string, string][] = [
      ["uppercase", "Service-A"],
      ["underscore", "service_a"],
      ["leading digit", "1service"],
      ["trailing '-'", "service-"],
      ["64 characters", "s".repeat(64)],
      ["empty", ""],
    ];
    for (const [why, name] of bad) {
      it(`refuses a name with ${why}, quoting it`, () => {
        const message = onlyIssue(withSecond({ name }), "topology.services[1].name");
        assert.ok(message.startsWith(`${show(name)} is not a valid name`), message);
        assert.match(message, /DNS-1035 label/);
      });
    }

    it("says a missing name is required, not invalid", () => {
      assert.equal(onlyIssue(withSecond({}), "topology.services[1].name"), "required");
    });

    it("says an empty value (YAML `name:`) is required", () => {
      assert.equal(onlyIssue(withSecond({ name: null }), "topology.services[1].name"), "required (the value is empty)");
    });

    it("says a missing upstream service is required", () => {
      assert.equal(onlyIssue(webCallsApi([{ egressPort: 12000 }]), "topology.services[0].upstreams[0].service"), "required");
    });

    it("refuses a name that is not a string", () => {
      assert.match(onlyIssue(withSecond({ name: 42 }), "topology.services[1].name"), /^42 is not a valid name/);
    });

    it("accepts a 63-character name", () => {
      const name = `s${"-".repeat(61)}s`;
      assert.equal(parseTopology(withSecond({ name })).services.find((s) => s.name === name)?.name, name);
    });

    it("refuses a duplicate name at its second use", () => {
      const raw = withSecond({ name: "web" });
      assert.equal(onlyIssue(raw, "topology.services[1].name"), 'duplicate service name "web"');
    });

    it("reserves front-envoy for the edge proxy", () => {
      assert.match(onlyIssue(withSecond({ name: "front-envoy" }), "topology.services[1].name"), /"front-envoy" is reserved for the edge proxy/);
    });
  });

  describe("upstreams", () => {
    it("refuses an upstream naming an unknown service, listing the known ones", () => {
      assert.equal(onlyIssue(webCallsApi(["ghost"]), "topology.services[0].upstreams[0]"), 'unknown service "ghost" (known: api, db, web)');
    });

    it("locates an unknown service in the object form at its service field", () => {
      assert.match(onlyIssue(webCallsApi([{ service: "ghost" }]), "topology.services[0].upstreams[0].service"), /^unknown service "ghost"/);
    });

    it("refuses an upstream listed twice, at the second entry", () => {
      assert.equal(onlyIssue(webCallsApi(["api", "db", "api"]), "topology.services[0].upstreams[2]"), '"api" is listed twice');
    });

    it("refuses an upstream entry that is neither a name nor an object", () => {
      assert.match(onlyIssue(webCallsApi([7]), "topology.services[0].upstreams[0]"), /expected an object, got 7/);
    });

    it("refuses an app port on the app health port", () => {
      const message = onlyIssue({ extends: "seed", ports: { appHealth: 8082 } }, "topology.extends(seed).services[1].appPort");
      assert.equal(message, "8082 clashes with the app health port (topology.ports.appHealth) in pod service-b");
    });

    it("locates a problem in a seed service the user did not rewrite under extends(seed)", () => {
      const message = onlyIssue({ extends: "seed", ports: { admin: 8081 } }, "topology.extends(seed).services[0].appPort");
      assert.equal(message, "8081 clashes with the Envoy admin port (topology.ports.admin) in pod service-a");
    });

    it("refuses a service that calls itself, since every request would loop", () => {
      const message = onlyIssue(webCallsApi(["api", "web"]), "topology.services[0].upstreams[1]");
      assert.equal(message, '"web" calls itself: every request would call it again until it times out');
    });

    const LOOPS = "the demo app calls every upstream on each request, so a request would go round this cycle until it times out";
    const calls = (graph: Record<string, string[]>) => ({
      services: Object.entries(graph).map(([name, upstreams], i) => ({ name, appPort: 8081 + i, upstreams })),
      front: { routes: [{ prefix: "/", service: Object.keys(graph)[0] }] },
    });

    it("refuses a cycle through two services, naming it at the call that closes it", () => {
      const message = onlyIssue(calls({ web: ["api"], api: ["web"] }), "topology.services[1].upstreams[0]");
      assert.equal(message, `calls api → web → api: ${LOOPS}`);
    });

    it("refuses a cycle through three services", () => {
      const message = onlyIssue(calls({ web: ["api"], api: ["db"], db: ["cache", "web"], cache: [] }), "topology.services[2].upstreams[1]");
      assert.equal(message, `calls db → web → api → db: ${LOOPS}`);
    });

    it("reports every cycle at once", () => {
      const raw = calls({ web: ["api", "auth"], api: ["web"], auth: ["user"], user: ["auth"] });
      assert.deepEqual(issuesOf(raw).map((i) => [i.path, i.message.split(":")[0]]), [
        ["topology.services[1].upstreams[0]", "calls api → web → api"],
        ["topology.services[3].upstreams[0]", "calls user → auth → user"],
      ]);
    });

    it("accepts fan-in without a cycle: two callers of one service", () => {
      const topology = parseTopology(calls({ web: ["api", "db"], api: ["db"], db: [] }));
      assert.deepEqual(topology.services.map((s) => [s.name, s.upstreams.map((u) => u.service)]), [["api", ["db"]], ["db", []], ["web", ["api", "db"]]]);
    });

    it("refuses upstreams that are not a list", () => {
      assert.match(onlyIssue(webCallsApi("api" as unknown as unknown[]), "topology.services[0].upstreams"), /expected a list, got "api"/);
    });
  });

  describe("front routes", () => {
    const front = (routes: unknown) => ({ services: [{ name: "web", appPort: 8081 }], front: { routes } });

    it("refuses a route to an unknown service", () => {
      assert.equal(onlyIssue(front([{ prefix: "/", service: "ghost" }]), "topology.front.routes[0].service"), 'unknown service "ghost" (known: web)');
    });

    it("refuses a duplicate prefix at its second use", () => {
      const raw = front([
        { prefix: "/", service: "web" },
        { prefix: "/", service: "web" },
      ]);
      assert.equal(onlyIssue(raw, "topology.front.routes[1].prefix"), 'duplicate prefix "/"');
    });

    it("refuses a prefix that does not start with '/'", () => {
      const raw = front([
        { prefix: "/", service: "web" },
        { prefix: "api", service: "web" },
      ]);
      assert.equal(onlyIssue(raw, "topology.front.routes[1].prefix"), '"api" must start with "/"');
    });

    it("says a route without a prefix or service lacks a required field", () => {
      assert.equal(onlyIssue(front([{ service: "web" }]), "topology.front.routes[0].prefix"), "required");
      assert.equal(onlyIssue(front([{ prefix: "/" }]), "topology.front.routes[0].service"), "required");
    });

    it("rewrites a matched prefix to / unless told otherwise", () => {
      const raw = { services: [{ name: "web", appPort: 8081 }], front: { routes: [{ prefix: "/", service: "web" }, { prefix: "/w", service: "web", prefixRewrite: "/v1" }] } };
      assert.deepEqual(parseTopology(raw).front.routes.map(({ protection: _edge, ...route }) => route), [
        { prefix: "/w", service: "web", prefixRewrite: "/v1", policy: DEFAULT_EDGE_POLICY },
        { prefix: "/", service: "web", prefixRewrite: "/", policy: DEFAULT_EDGE_POLICY },
      ]);
    });

    const badRewrites: [unknown, string][] = [
      ["v1", '"v1" must start with "/"'],
      ["/v1?x=1", '"/v1?x=1" must not contain "?" or "#": it replaces the path only, the query is kept'],
      ["/v1//x", '"/v1//x" must not contain an empty segment ("//")'],
      ["", 'expected a non-empty string, got ""'],
    ];
    for (const [prefixRewrite, message] of badRewrites) {
      it(`refuses prefixRewrite ${JSON.stringify(prefixRewrite)}`, () => {
        assert.equal(onlyIssue(front([{ prefix: "/", service: "web", prefixRewrite }]), "topology.front.routes[0].prefixRewrite"), message);
      });
    }

    const badPrefixes: [string, string][] = [
      ["/d/", '"/d/" must not end with "/": "/d" already matches "/d" and every path below "/d/"'],
      ["/d//e", '"/d//e" must not contain an empty segment ("//"): the edge merges slashes, so no request path has one'],
      ["/d/../e", '"/d/../e" must not contain a "." or ".." segment: the edge resolves them, so no request path has one'],
      ["/d?x", '"/d?x" must not contain "?" or "#": it matches the path only'],
      ["/d e", '"/d e" must not contain " ": use only characters a URL path carries unencoded (RFC 3986)'],
    ];
    for (const [prefix, message] of badPrefixes) {
      it(`refuses the prefix ${JSON.stringify(prefix)}, which no request would reach as meant`, () => {
        assert.equal(onlyIssue(front([{ prefix: "/", service: "web" }, { prefix, service: "web" }]), "topology.front.routes[1].prefix"), message);
      });
    }

    it("refuses an empty routes list", () => {
      assert.equal(onlyIssue(front([]), "topology.front.routes"), "must list at least one route");
    });

    it("requires front routes when front is missing", () => {
      const raw = { services: [{ name: "web", appPort: 8081 }] };
      assert.match(onlyIssue(raw, "topology.front.routes"), /^required: the edge proxy needs at least one route/);
    });
    it("requires front routes when front is given without them", () => {
      const raw = { services: [{ name: "web", appPort: 8081 }], front: { replicas: 2 } };
      assert.match(onlyIssue(raw, "topology.front.routes"), /^required: the edge proxy needs at least one route/);
    });

    it("refuses a front that is not an object, once", () => {
      const raw = { services: [{ name: "web", appPort: 8081 }], front: "web" };
      assert.equal(onlyIssue(raw, "topology.front"), 'expected an object, got "web"');
    });
  });

  describe("services", () => {
    it("requires services, suggesting extends: seed", () => {
      const raw = { front: { routes: [{ prefix: "/", service: "web" }] } };
      assert.match(issueAt(raw, "topology.services"), /^required \(or set topology\.extends: seed/);
    });

    it("refuses an empty services list", () => {
      const raw = { services: [], front: { routes: [{ prefix: "/", service: "web" }] } };
      assert.equal(issueAt(raw, "topology.services"), "must list at least one service");
    });

    it("requires appPort", () => {
      assert.match(onlyIssue(withSecond({ name: "api", appPort: undefined }), "topology.services[1].appPort"), /^required: the port the app listens on/);
    });

    it("refuses a topology that is not an object", () => {
      assert.match(onlyIssue(["web"], "topology"), /expected an object, got \["web"\]/);
    });
  });

  describe("port clashes inside a pod", () => {
    const mesh: [string, number, RegExp][] = [
      ["ingress", 10000, /the Envoy ingress port \(topology\.ports\.ingress\)/],
      ["admin", 9901, /the Envoy admin port \(topology\.ports\.admin\)/],
      ["health", 9902, /the Envoy health port \(topology\.ports\.health\)/],
    ];
    for (const [port, value, names] of mesh) {
      it(`refuses an app port equal to the ${port} port`, () => {
        const message = onlyIssue(oneService({ appPort: value }), "topology.services[0].appPort");
        assert.match(message, new RegExp(`^${value} clashes with`));
        assert.match(message, names);
        assert.match(message, /in pod web$/);
      });
    }

    it("follows changed mesh ports: the app port may take a default that is no longer used", () => {
      assert.doesNotThrow(() => parseTopology(oneService({ appPort: 9901 }, { ports: { admin: 9911 } })));
      assert.match(onlyIssue(oneService({ appPort: 9911 }, { ports: { admin: 9911 } }), "topology.services[0].appPort"), /admin port/);
    });

    it("refuses an explicit egress port equal to the app port, at the egressPort field", () => {
      const message = onlyIssue(webCallsApi([{ service: "api", egressPort: 8081 }]), "topology.services[0].upstreams[0].egressPort");
      assert.equal(message, "egress port 8081 clashes with the app port (topology.services[0].appPort) in pod web");
    });

    it("refuses an explicit egress port equal to a mesh port", () => {
      const message = onlyIssue(webCallsApi([{ service: "api", egressPort: 9902 }]), "topology.services[0].upstreams[0].egressPort");
      assert.match(message, /egress port 9902 clashes with the Envoy health port/);
    });

    it("refuses two explicit egress ports that are equal, at the second", () => {
      const raw = webCallsApi([
        { service: "api", egressPort: 12000 },
        { service: "db", egressPort: 12000 },
      ]);
      assert.equal(onlyIssue(raw, "topology.services[0].upstreams[1].egressPort"), "egress port 12000 clashes with the egress port for api in pod web");
    });

    it("allows the same egress port in different pods (each pod has its own network)", () => {
      const raw = {
        services: [
          { name: "web", appPort: 8081, upstreams: [{ service: "api", egressPort: 12000 }] },
          { name: "api", appPort: 8082, upstreams: [{ service: "db", egressPort: 12000 }] },
          { name: "db", appPort: 8083 },
        ],
        front: { routes: [{ prefix: "/", service: "web" }] },
      };
      assert.deepEqual(
        parseTopology(raw).services.map((s) => s.upstreams.map((u) => u.egressPort)),
        [[12000], [], [12000]],
      );
    });

    const meshClashes: [string, Record<string, number>, string, string][] = [
      ["admin = ingress", { admin: 10000 }, "topology.ports.admin", "10000 is already the ingress port"],
      ["health = admin", { health: 9901 }, "topology.ports.health", "9901 is already the admin port"],
      ["front = health", { front: 9902 }, "topology.ports.front", "9902 is already the health port"],
      ["health = ingress", { ingress: 9902 }, "topology.ports.health", "9902 is already the ingress port"],
      ["appHealth = health", { appHealth: 9902 }, "topology.ports.appHealth", "9902 is already the health port"],
      ["appHealth = ingress", { appHealth: 10000 }, "topology.ports.appHealth", "10000 is already the ingress port"],
    ];
    for (const [what, ports, path, message] of meshClashes) {
      it(`refuses mesh ports that are equal (${what})`, () => {
        assert.equal(onlyIssue(oneService({}, { ports }), path), message);
      });
    }

    it("allows ingress = front, since they never share a pod", () => {
      assert.equal(parseTopology(oneService({}, { ports: { front: 10000 } })).ports.front, 10000);
    });
  });

  describe("port ranges", () => {
    const cases: [string, unknown][] = [
      ["below 1024", 80],
      ["above 65535", 65536],
      ["not an integer", 8081.5],
      ["a string", "8081"],
    ];
    for (const [why, value] of cases) {
      it(`refuses an app port ${why}`, () => {
        const message = onlyIssue(oneService({ appPort: value }), "topology.services[0].appPort");
        assert.equal(message, `${JSON.stringify(value)} is not an integer from 1024 to 65535 (containers run as non-root, so ports start at 1024)`);
      });
    }

    for (const key of ["ingress", "admin", "health", "egressBase", "front"]) {
      it(`checks the range of ports.${key}`, () => {
        assert.match(onlyIssue(oneService({}, { ports: { [key]: 1023 } }), `topology.ports.${key}`), /^1023 is not an integer from 1024 to 65535/);
      });
    }

    it("checks the range of an explicit egress port", () => {
      assert.match(onlyIssue(webCallsApi([{ service: "api", egressPort: 70000 }]), "topology.services[0].upstreams[0].egressPort"), /^70000 is not an integer from 1024 to 65535/);
    });

    it("accepts the range ends 1024 and 65535", () => {
      const topology = parseTopology(webCallsApi([{ service: "api", egressPort: 65535 }]));
      assert.equal(topology.services.find((s) => s.name === "web")?.upstreams[0].egressPort, 65535);
      assert.equal(parseTopology(oneService({ appPort: 1024 })).services[0].appPort, 1024);
    });
  });

  describe("replicas", () => {
    const cases: [string, unknown][] = [
      ["negative", -1],
      ["fractional", 1.5],
      ["a string", "2"],
      ["above 1000", 1001],
    ];
    for (const [why, value] of cases) {
      it(`refuses service replicas that are ${why}`, () => {
        assert.equal(onlyIssue(oneService({ replicas: value }), "topology.services[0].replicas"), `${JSON.stringify(value)} is not an integer from 0 to 1000`);
      });
    }

    const frontReplicas = (replicas: unknown) => oneService({}, { front: { replicas, routes: [{ prefix: "/", service: "web" }] } });

    it("refuses front replicas that are negative", () => {
      assert.match(onlyIssue(frontReplicas(-1), "topology.front.replicas"), /^-1 is not an integer from 1 to 1000/);
    });

    it("refuses front replicas 0, which would leave pulumi up waiting for endpoints that never come", () => {
      const message = onlyIssue(frontReplicas(0), "topology.front.replicas");
      assert.equal(
        message,
        "0 is not an integer from 1 to 1000 (the edge proxy needs a replica: with none, its Service gets no endpoint and pulumi up waits for one until it times out)",
      );
    });

    it("accepts service replicas 0 (a headless Service, which pulumi up does not wait on)", () => {
      assert.equal(parseTopology(oneService({ replicas: 0 })).services[0].replicas, 0);
    });
  });

  describe("unknown keys, at every level", () => {
    const cases: [string, Record<string, unknown>, string, string][] = [
      ["top level", { ...oneService(), colour: "blue" }, "topology.colour", "extends, services, front, ports, envoy, security, policy"],
      ["service", oneService({ colour: "blue" }), "topology.services[0].colour", "name, appPort, replicas, image, upstreams, resources, versions"],
      ["upstream object", webCallsApi([{ service: "api", port: 12000 }]), "topology.services[0].upstreams[0].port", "service, egressPort, policy, fault"],
      ["front", oneService({}, { front: { routes: [{ prefix: "/", service: "web" }], tls: true } }), "topology.front.tls", "replicas, plainHttp, routes, resources, protection"],
      ["route", oneService({}, { front: { routes: [{ prefix: "/", service: "web", host: "x" }] } }), "topology.front.routes[0].host", "prefix, service, prefixRewrite, policy, protection, fault"],
      ["ports", oneService({}, { ports: { metrics: 9100 } }), "topology.ports.metrics", "ingress, admin, health, egressBase, front, frontTls, appHealth"],
      ["envoy", oneService({}, { envoy: { timeout: 5 } }), "topology.envoy.timeout", "connectTimeoutMs, concurrency, drainSeconds, logLevel"],
      ["security", oneService({}, { security: { mode: "strict" } }), "topology.security.mode", "mtls, trustDomain, certificates"],
      [
        "certificate lifetimes",
        oneService({}, { security: { certificates: { validityDays: 90 } } }),
        "topology.security.certificates.validityDays",
        "validityHours, renewBeforeHours, caValidityHours",
      ],
      ["service resources", oneService({ resources: { sidecar: {} } }), "topology.services[0].resources.sidecar", "app, envoy"],
      ["app resources", oneService({ resources: { app: { cpuLimit: "1" } } }), "topology.services[0].resources.app.cpuLimit", "cpuRequest, memoryRequest, memoryLimit"],
      ["envoy resources", oneService({ resources: { envoy: { cpuLimit: "1" } } }), "topology.services[0].resources.envoy.cpuLimit", "cpuRequest, memoryRequest, memoryLimit"],
      [
        "front resources",
        oneService({}, { front: { routes: [{ prefix: "/", service: "web" }], resources: { cpu: "1" } } }),
        "topology.front.resources.cpu",
        "cpuRequest, memoryRequest, memoryLimit",
      ],
      ["image", oneService({ image: { ref: "nginx:1.27", tag: "x" } }), "topology.services[0].image.tag", "build, ref"],
      ["image build", oneService({ image: { build: { context: "app", args: {} } } }), "topology.services[0].image.build.args", "context, dockerfile"],
    ];
    for (const [level, raw, path, allowed] of cases) {
      it(`refuses an unknown key in ${level}, listing the allowed keys`, () => {
        assert.equal(onlyIssue(raw, path), `unknown key (allowed: ${allowed})`);
      });
    }
  });

  describe("resources", () => {
    for (const value of ["64MB", "lots", "-1", "", 64]) {
      it(`refuses the quantity ${JSON.stringify(value)}`, () => {
        const message = onlyIssue(oneService({ resources: { app: { memoryLimit: value } } }), "topology.services[0].resources.app.memoryLimit");
        assert.equal(message, `${JSON.stringify(value)} is not a Kubernetes quantity such as "50m", "64Mi" or "1"`);
      });
    }

    it("refuses a memory request above the memory limit, which Kubernetes would refuse mid-deploy", () => {
      const resources = { envoy: { memoryRequest: "256Mi", memoryLimit: "128Mi" } };
      const message = onlyIssue(oneService({ resources }), "topology.services[0].resources.envoy.memoryRequest");
      assert.equal(message, '"256Mi" is more than the memory limit "128Mi"');
    });

    it("says so when the limit a request exceeds is the default", () => {
      const message = onlyIssue(oneService({ resources: { envoy: { memoryRequest: "1Gi" } } }), "topology.services[0].resources.envoy.memoryRequest");
      assert.equal(message, '"1Gi" is more than the default memory limit "128Mi" (set memoryLimit too)');
    });

    it("blames the limit the user wrote, not the default request it is below", () => {
      const raw = oneService({}, { front: { routes: [{ prefix: "/", service: "web" }], resources: { memoryLimit: "32Mi" } } });
      assert.equal(onlyIssue(raw, "topology.front.resources.memoryLimit"), '"32Mi" is less than the default memory request "64Mi" (set memoryRequest too)');
    });

    it("reports a bad quantity once, without a second error quoting a default", () => {
      for (const resources of [{ app: { memoryRequest: "256Mi", memoryLimit: "lots" } }, { app: { memoryRequest: "lots", memoryLimit: "32Mi" } }]) {
        const path = `topology.services[0].resources.app.${resources.app.memoryLimit === "lots" ? "memoryLimit" : "memoryRequest"}`;
        assert.match(onlyIssue(oneService({ resources }), path), /^"lots" is not a Kubernetes quantity/);
      }
    });

    it("compares memory across suffixes: 1G request under a 1Gi limit is fine", () => {
      const service = parseTopology(oneService({ resources: { app: { memoryRequest: "1G", memoryLimit: "1Gi" } } })).services[0];
      assert.equal(service.resources.app.memoryRequest, "1G");
    });

    it("accepts plain, milli, decimal and binary-suffixed quantities", () => {
      const resources = { app: { cpuRequest: "0.5", memoryRequest: "1Gi", memoryLimit: "2G" }, envoy: { cpuRequest: "250m" } };
      const service = parseTopology(oneService({ resources })).services[0];
      assert.deepEqual(service.resources.app, resources.app);
      assert.equal(service.resources.envoy.cpuRequest, "250m");
    });
  });

  describe("images", () => {
    it("refuses an image with both build and ref", () => {
      const message = onlyIssue(oneService({ image: { build: { context: "app" }, ref: "nginx:1.27" } }), "topology.services[0].image");
      assert.match(message, /^set exactly one of build or ref, got \{"build"/);
    });

    it("refuses an image with neither build nor ref", () => {
      assert.equal(onlyIssue(oneService({ image: {} }), "topology.services[0].image"), "set exactly one of build or ref, got {}");
    });

    for (const ref of ["nginx", "nginx:latest", "localhost:5000/app", "ghcr.io/acme/app:latest", "nginx:", "ghcr.io/acme/app@sha256:abc"]) {
      it(`refuses the image ref ${ref} (no pinned tag)`, () => {
        const message = onlyIssue(oneService({ image: { ref } }), "topology.services[0].image.ref");
        assert.equal(message, `${JSON.stringify(ref)} must pin a tag or digest other than latest, so that pods roll only when it changes`);
      });
    }

    for (const ref of ["nginx:1.27", "localhost:5000/app:v2", `ghcr.io/acme/app@sha256:${"a".repeat(64)}`]) {
      it(`accepts the image ref ${ref}`, () => {
        assert.deepEqual(parseTopology(oneService({ image: { ref } })).services[0].image, { kind: "ref", ref });
      });
    }

    it("requires a build context", () => {
      assert.equal(onlyIssue(oneService({ image: { build: {} } }), "topology.services[0].image.build.context"), "required");
    });
  });

  describe("extends", () => {
    it("refuses a value other than seed", () => {
      assert.equal(onlyIssue({ extends: "base" }, "topology.extends"), '"base" is not one of seed');
    });
  });

  describe("envoy settings", () => {
    const cases: [string, unknown, string][] = [
      ["connectTimeoutMs", 0, "0 is not an integer from 1 to 60000"],
      ["connectTimeoutMs", 60001, "60001 is not an integer from 1 to 60000"],
      ["concurrency", 0, "0 is not an integer from 1 to 64"],
      ["concurrency", 65, "65 is not an integer from 1 to 64"],
      ["drainSeconds", 0, "0 is not an integer from 1 to 300"],
      ["drainSeconds", 301, "301 is not an integer from 1 to 300"],
      ["drainSeconds", 2.5, "2.5 is not an integer from 1 to 300"],
      ["logLevel", "verbose", `"verbose" is not one of ${ENVOY_LOG_LEVELS.join(", ")}`],
      ["logLevel", "INFO", `"INFO" is not one of ${ENVOY_LOG_LEVELS.join(", ")}`],
    ];
    for (const [key, value, message] of cases) {
      it(`refuses envoy.${key} = ${JSON.stringify(value)}`, () => {
        assert.equal(onlyIssue(oneService({}, { envoy: { [key]: value } }), `topology.envoy.${key}`), message);
      });
    }

    it("accepts every Envoy log level", () => {
      for (const logLevel of ENVOY_LOG_LEVELS) {
        assert.equal(parseTopology(oneService({}, { envoy: { logLevel } })).envoy.logLevel, logLevel);
      }
    });
  });

  describe("every problem at once", () => {
    const fiveMistakes = {
      services: [
        { name: "web", appPort: 8081, replicas: -1 },
        { name: "api", appPort: 8082, colour: "blue" },
      ],
      front: {
        routes: [
          { prefix: "/", service: "web" },
          { prefix: "api", service: "api" },
        ],
      },
      ports: { admin: 10000 },
      envoy: { logLevel: "loud" },
    };

    it("reports exactly the five independent mistakes", () => {
      assert.deepEqual(issuesOf(fiveMistakes).map((i) => i.path).sort(), [
        "topology.envoy.logLevel",
        "topology.front.routes[1].prefix",
        "topology.ports.admin",
        "topology.services[0].replicas",
        "topology.services[1].colour",
      ]);
    });

    it("throws a ConfigError whose message lists each path: message", () => {
      const error = topologyError(fiveMistakes);
      assert.ok(error instanceof ConfigError);
      assert.equal(error.name, "ConfigError");
      assert.ok(error.message.startsWith("invalid mesh topology (5 problems):\n"), error.message);
      for (const issue of error.issues) assert.ok(error.message.includes(`\n  - ${issue.path}: ${issue.message}`), `${issue.path} missing`);
    });

    it("keeps reading a service whose name is bad", () => {
      const raw = withSecond({ name: "Bad_Name", replicas: -1, image: {} });
      assert.deepEqual(issuesOf(raw).map((i) => i.path).sort(), ["topology.services[1].image", "topology.services[1].name", "topology.services[1].replicas"]);
    });
  });
});
