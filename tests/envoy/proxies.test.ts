import { strict as assert } from "node:assert";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { KEEP_ALIVE_TIMEOUT_MS } from "../../app/server";
import { buildMeshConfigs, toYaml, type EnvoyObject, type ProxyConfig } from "../../envoy";
import { parseTopology, SEED_TOPOLOGY } from "../../topology";
import { matchSnapshot } from "../helpers/snapshot";
import { renderEnvoyConfig } from "../../envoy/check";
import { kubernetesEnvoyTarget } from "../../k8s";
import type { EnvoyTarget } from "../../envoy";

const CONTEXT: EnvoyTarget = { namespace: "mesh", upstreamHost: (service) => kubernetesEnvoyTarget(KIND_NAMES).upstreamHost(service) };
const KIND_NAMES = { namespace: "envoy-mesh", clusterDomain: "cluster.local" };
let seed: readonly ProxyConfig[] | undefined;
/** Built on first use, inside a test: a builder bug fails tests instead of aborting the run. */
const seedConfigs = (): readonly ProxyConfig[] => (seed ??= buildMeshConfigs(parseTopology(undefined), CONTEXT));

function config(proxy: string): any {
  const found = seedConfigs().find((c) => c.proxy === proxy);
  assert.ok(found, `no config for ${proxy}`);
  return found.bootstrap;
}

const listeners = (bootstrap: any): any[] => bootstrap.static_resources.listeners;
const clusters = (bootstrap: any): any[] => bootstrap.static_resources.clusters;
const listener = (bootstrap: any, name: string) => listeners(bootstrap).find((l) => l.name === name);
const cluster = (bootstrap: any, name: string) => clusters(bootstrap).find((c) => c.name === name);
const hcm = (l: any) => l.filter_chains[0].filters[0].typed_config;
const routes = (l: any): any[] => hcm(l).route_config.virtual_hosts[0].routes;
const address = (x: any) => `${x.socket_address.address}:${x.socket_address.port_value}`;
const seconds = (d: string) => {
  assert.match(d, /^\d+(\.\d+)?s$/);
  return parseFloat(d);
};
const endpoint = (c: any) => address(c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address);

/** Every object in a config, with its path, to check rules that hold everywhere. */
function* walk(value: unknown, path = ""): Generator<[string, any]> {
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) yield* walk(value[i], `${path}[${i}]`);
  else if (typeof value === "object" && value !== null) {
    yield [path, value];
    for (const [k, v] of Object.entries(value)) yield* walk(v, path ? `${path}.${k}` : k);
  }
}

describe("Envoy configs of the seed mesh", () => {
  it("has one config per proxy: the front proxy, then A, B and C", () => {
    assert.deepEqual(seedConfigs().map((c) => c.proxy), ["front-envoy", "service-a", "service-b", "service-c"]);
  });

  it("front proxy: listens on [::]:8080 and routes / to service A's sidecars by DNS, round robin", () => {
    const front = config("front-envoy");
    assert.equal(address(listener(front, "front").address), ":::8080");
    assert.deepEqual(routes(listener(front, "front")).map((r) => [r.match.prefix, r.route.cluster]), [["/", "upstream_service_a"]]);
    const upstream = cluster(front, "upstream_service_a");
    assert.equal(upstream.type, "STRICT_DNS");
    assert.equal(upstream.lb_policy, "ROUND_ROBIN");
    assert.equal(endpoint(upstream), "service-a.envoy-mesh.svc.cluster.local.:10000");
  });

  it("front proxy: generates request IDs at the edge and logs every request to stdout", () => {
    const manager = hcm(listener(config("front-envoy"), "front"));
    assert.equal(manager.generate_request_id, true);
    assert.equal(manager.use_remote_address, true);
    assert.deepEqual(manager.access_log.map((a: any) => a.typed_config["@type"]), [
      "type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog",
    ]);
  });

  it("service A: ingress on the pod to the local app, one loopback egress listener per upstream", () => {
    const a = config("service-a");
    assert.equal(address(listener(a, "ingress").address), ":::10000");
    assert.equal(routes(listener(a, "ingress"))[0].route.cluster, "local_app");
    assert.equal(cluster(a, "local_app").type, "STATIC");
    assert.equal(endpoint(cluster(a, "local_app")), "127.0.0.1:8081");
    assert.equal(address(listener(a, "egress_service_b").address), "127.0.0.1:10001");
    assert.equal(address(listener(a, "egress_service_c").address), "127.0.0.1:10002");
    assert.equal(routes(listener(a, "egress_service_b"))[0].route.cluster, "upstream_service_b");
    assert.equal(endpoint(cluster(a, "upstream_service_b")), "service-b.envoy-mesh.svc.cluster.local.:10000");
    assert.equal(endpoint(cluster(a, "upstream_service_c")), "service-c.envoy-mesh.svc.cluster.local.:10000");
    assert.equal(cluster(a, "upstream_service_c").type, "STRICT_DNS");
  });

  it("services B and C: ingress to their app and no egress, like the seed's leaf services", () => {
    for (const [name, port] of [["service-b", 8082], ["service-c", 8083]] as const) {
      const leaf = config(name);
      assert.deepEqual(listeners(leaf).map((l) => l.name), ["ingress", "health"]);
      assert.deepEqual(clusters(leaf).map((c) => c.name), ["local_app", "admin"]);
      assert.equal(endpoint(cluster(leaf, "local_app")), `127.0.0.1:${port}`);
    }
  });

  it("keeps admin on 127.0.0.1 and exposes only /ready and /stats/prometheus on the health listener", () => {
    for (const { proxy, bootstrap } of seedConfigs()) {
      assert.equal(address((bootstrap as any).admin.address), "127.0.0.1:9901", proxy);
      const health = listener(bootstrap, "health");
      assert.equal(address(health.address), ":::9902");
      const table = routes(health).map((r) => [r.match.path ?? r.match.prefix, r.route?.cluster ?? r.direct_response.status]);
      assert.deepEqual(table, [["/ready", "admin"], ["/stats/prometheus", "admin"], ["/stats", "admin"], ["/", 404]], proxy);
      assert.equal(endpoint(cluster(bootstrap, "admin")), "127.0.0.1:9901");
    }
  });

  it("uses only the v3 API: typed_config with @type, load_assignment, router last, no v2 fields", () => {
    for (const { proxy, bootstrap } of seedConfigs()) {
      for (const [path, node] of walk(bootstrap)) {
        for (const v2 of ["config", "hosts", "access_log_path"]) assert.ok(!(v2 in node), `${proxy} ${path} has ${v2}`);
        if (path.endsWith("filters[0]") || /http_filters\[\d+\]$/.test(path) || /access_log\[\d+\]$/.test(path)) {
          assert.match(node.typed_config?.["@type"] ?? "", /^type\.googleapis\.com\/envoy\./, `${proxy} ${path}`);
        }
      }
      for (const l of listeners(bootstrap)) {
        const filters = hcm(l).http_filters;
        assert.equal(filters[filters.length - 1].name, "envoy.filters.http.router", `${proxy} ${l.name}`);
      }
      for (const c of clusters(bootstrap)) assert.ok(c.load_assignment, `${proxy} ${c.name}`);
    }
  });

  it("binds every listener that takes traffic on the pod IP to [::] with ipv4_compat, so IPv4, IPv6 and dual-stack pods all work", () => {
    for (const { proxy, bootstrap } of seedConfigs()) {
      for (const l of listeners(bootstrap)) {
        const socket = l.address.socket_address;
        if (l.traffic_direction === "OUTBOUND") {
          assert.deepEqual(socket.address, "127.0.0.1", `${proxy} ${l.name}`);
          assert.equal(socket.ipv4_compat, undefined, `${proxy} ${l.name}`);
        } else {
          assert.equal(socket.address, "::", `${proxy} ${l.name}`);
          assert.equal(socket.ipv4_compat, true, `${proxy} ${l.name}`);
        }
      }
    }
  });

  it("resolves each upstream's fully qualified name with a trailing dot, so no search domain is tried", () => {
    for (const { proxy, bootstrap } of seedConfigs()) {
      for (const c of clusters(bootstrap).filter((x) => x.type === "STRICT_DNS")) {
        assert.match(c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address, /\.svc\.cluster\.local\.$/, `${proxy} ${c.name}`);
      }
    }
  });

  it("health-checks every upstream pod on the app's /healthz through its sidecar ingress, often enough to beat the drain", () => {
    const topology = parseTopology(undefined);
    for (const [proxy, name] of [["front-envoy", "upstream_service_a"], ["service-a", "upstream_service_b"], ["service-a", "upstream_service_c"]]) {
      const c = cluster(config(proxy), name);
      assert.equal(c.health_checks.length, 1, `${proxy} ${name}`);
      const [check] = c.health_checks;
      // HTTP/2, like the requests: the caller offers only h2 by ALPN, so the callee's codec is HTTP/2.
      assert.deepEqual(check.http_health_check, { path: "/healthz", codec_client_type: "HTTP2" });
      assert.equal(c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, topology.ports.ingress);
      // A draining app answers 503, which marks the host unhealthy at the next check; that
      // must come well inside the drain, with or without traffic.
      assert.ok(seconds(check.interval) + seconds(check.timeout) <= topology.envoy.drainSeconds / 2, check.interval);
      assert.ok(seconds(check.no_traffic_interval) + seconds(check.timeout) <= topology.envoy.drainSeconds, check.no_traffic_interval);
      assert.equal(check.healthy_threshold, 1);
    }
    assert.equal(cluster(config("service-a"), "local_app").health_checks, undefined);
    assert.equal(cluster(config("service-a"), "admin").health_checks, undefined);
  });

  it("ejects an upstream pod only for failing to connect, never for the answers it sends", () => {
    const od = cluster(config("service-a"), "upstream_service_b").outlier_detection;
    assert.equal(od.split_external_local_origin_errors, true);
    assert.equal(od.enforcing_consecutive_local_origin_failure, 100);
    for (const off of ["enforcing_consecutive_5xx", "enforcing_success_rate", "enforcing_local_origin_success_rate"]) assert.equal(od[off], 0, off);
    // Envoy's default for gateway failures is 0 (off); it must stay unset or 0.
    assert.ok(!od.enforcing_consecutive_gateway_failure, "gateway failures must not eject");
  });

  it("retries, on another pod, only failures that never reached an app, on every hop between proxies", () => {
    const policies = [routes(listener(config("front-envoy"), "front"))[0], routes(listener(config("service-a"), "egress_service_b"))[0]].map(
      (r) => r.route.retry_policy,
    );
    for (const policy of policies) {
      assert.deepEqual(policy.retry_on.split(",").sort(), ["connect-failure", "refused-stream", "reset-before-request", "retriable-headers"]);
      for (const unsafe of ["5xx", "gateway-error", "reset", "retriable-status-codes"]) assert.ok(!policy.retry_on.split(",").includes(unsafe), unsafe);
      assert.deepEqual(policy.retriable_headers, [{ name: "x-mesh-not-delivered", string_match: { exact: "true" } }]);
      assert.deepEqual(policy.retry_host_predicate.map((p: any) => p.name), ["envoy.retry_host_predicates.previous_hosts"]);
      assert.equal(policy.num_retries, 2);
      assert.ok(policy.host_selection_retry_max_attempts > 1);
    }
    assert.equal(routes(listener(config("service-a"), "ingress"))[0].route.retry_policy, undefined);
  });

  it("a sidecar ingress marks its own 503 for a request its app never received, and only that one", () => {
    for (const service of ["service-a", "service-b", "service-c"]) {
      // The first mapper that matches applies; the second one rewrites the RBAC filter's 403 (see mtls.test.ts).
      const mappers = hcm(listener(config(service), "ingress")).local_reply_config.mappers;
      assert.equal(mappers.length, 2);
      assert.deepEqual(mappers[1].filter.status_code_filter.comparison.value.default_value, 403);
      assert.deepEqual([...mappers[0].filter.response_flag_filter.flags].sort(), ["UF", "UH", "UO"]);
      assert.deepEqual(mappers[0].headers_to_add, [
        { header: { key: "x-mesh-not-delivered", value: "true" }, append_action: "OVERWRITE_IF_EXISTS_OR_ADD" },
      ]);
      assert.equal(mappers[0].status_code, undefined, "the status stays 503");
    }
    // Only a sidecar in front of its own app vouches for "not delivered"; proxies that retry do not mark.
    // The front's own replies get clear bodies (rate limit, body size) but no not-delivered mark.
    const front = hcm(listener(config("front-envoy"), "front")).local_reply_config.mappers;
    assert.deepEqual(front.map((m: { filter: { status_code_filter: { comparison: { value: { default_value: number } } } } }) => m.filter.status_code_filter.comparison.value.default_value), [429, 413]);
    assert.ok(front.every((m: { headers_to_add?: unknown }) => m.headers_to_add === undefined));
    assert.equal(hcm(listener(config("service-a"), "egress_service_b")).local_reply_config, undefined);
  });

  it("keeps Envoy health checks and kubelet probes out of the access logs, and logs everything else", () => {
    for (const [proxy, name] of [["front-envoy", "front"], ["service-a", "ingress"], ["service-b", "ingress"]]) {
      const [log] = hcm(listener(config(proxy), name)).access_log;
      const header = log.filter.header_filter.header;
      assert.equal(header.name, "user-agent");
      assert.equal(header.invert_match, true);
      assert.equal(header.treat_missing_header_as_empty, true, "a request without a user agent is still logged");
      const probe = new RegExp(header.string_match.safe_regex.regex);
      for (const agent of ["Envoy/HC", "kube-probe/1.35"]) assert.ok(probe.test(agent), agent);
      for (const agent of ["curl/8.5.0", "Mozilla/5.0", "", "my-Envoy/HC"]) assert.ok(!probe.test(agent), agent);
    }
  });

  it("closes idle connections to the local app before the app's own keep-alive timeout does", () => {
    const options = cluster(config("service-b"), "local_app").typed_extension_protocol_options;
    const idle = options["envoy.extensions.upstreams.http.v3.HttpProtocolOptions"].common_http_protocol_options.idle_timeout;
    assert.ok(seconds(idle) * 1000 < KEEP_ALIVE_TIMEOUT_MS, `${idle} is not below the app's ${KEEP_ALIVE_TIMEOUT_MS} ms`);
  });

  it("derives the connect timeout and upstream DNS names from the topology and the target", () => {
    const topology = parseTopology({ extends: "seed", envoy: { connectTimeoutMs: 1500 } });
    const [front] = buildMeshConfigs(topology, kubernetesEnvoyTarget({ namespace: "shop", clusterDomain: "corp.local" }));
    const upstream = cluster(front.bootstrap, "upstream_service_a");
    assert.equal(upstream.connect_timeout, "1.5s");
    assert.equal(endpoint(upstream), "service-a.shop.svc.corp.local.:10000");
  });

  it("with mtls off and no edge certificate, matches the committed snapshots, byte for byte", () => {
    for (const { proxy, bootstrap, sdsFiles } of buildMeshConfigs(parseTopology({ extends: "seed", security: { mtls: "off" } }), CONTEXT)) {
      matchSnapshot(toYaml(bootstrap), join(__dirname, "__snapshots__", `${proxy}.yaml`));
      assert.deepEqual(sdsFiles, {}, proxy);
    }
  });

  it("with mtls strict (the default) and an edge certificate, matches the committed snapshot of every file as delivered: bootstrap and xDS files", () => {
    const folder = join(__dirname, "__snapshots__", "mtls");
    const expected = new Set<string>();
    for (const config of buildMeshConfigs(parseTopology(undefined), { ...CONTEXT, edgeHttpsPort: 8443 })) {
      const { proxy, bootstrap, xdsFiles } = renderEnvoyConfig(config);
      matchSnapshot(bootstrap, join(folder, `${proxy}.json`));
      expected.add(`${proxy}.json`);
      for (const [file, content] of Object.entries(xdsFiles)) {
        matchSnapshot(content, join(folder, `${proxy}.${file}`));
        expected.add(`${proxy}.${file}`);
      }
    }
    // A file no config delivers any more must not linger as a snapshot.
    assert.deepEqual(readdirSync(folder).sort(), [...expected].sort());
  });
});

describe("Envoy config output", () => {
  const render = (configs: readonly ProxyConfig[]) => configs.map((c) => `# ${c.proxy}\n${toYaml(c.bootstrap as EnvoyObject)}`).join("");

  it("does not depend on the order services, upstreams and routes are written in", () => {
    const reordered = {
      front: { routes: [{ prefix: "/b", service: "service-b" }, { prefix: "/", service: "service-a" }] },
      services: [
        { name: "service-c", appPort: 8083 },
        { name: "service-a", appPort: 8081, upstreams: ["service-c", "service-b"] },
        { name: "service-b", appPort: 8082 },
      ],
    };
    const ordered = {
      front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/b", service: "service-b" }] },
      services: [
        { name: "service-a", appPort: 8081, upstreams: ["service-b", "service-c"] },
        { name: "service-b", appPort: 8082 },
        { name: "service-c", appPort: 8083 },
      ],
    };
    assert.equal(render(buildMeshConfigs(parseTopology(reordered), CONTEXT)), render(buildMeshConfigs(parseTopology(ordered), CONTEXT)));
  });

  it("renders byte-identical YAML for the same topology", () => {
    assert.equal(render(buildMeshConfigs(parseTopology(SEED_TOPOLOGY), CONTEXT)), render(seedConfigs()));
  });

  it("routes the longest prefix first, so Envoy's first match is the most specific", () => {
    const topology = parseTopology({
      extends: "seed",
      front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/api/b", service: "service-b" }, { prefix: "/api", service: "service-c" }] },
    });
    const [front] = buildMeshConfigs(topology, CONTEXT);
    assert.deepEqual(routes(listener(front.bootstrap, "front")).map((r) => r.match.path ?? r.match.prefix), ["/api/b", "/api/b/", "/api", "/api/", "/"]);
    assert.deepEqual(clusters(front.bootstrap).map((c) => c.name), ["upstream_service_a", "upstream_service_b", "upstream_service_c", "admin"]);
  });
});
