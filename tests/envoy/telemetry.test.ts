import { strict as assert } from "node:assert";
import { buildMeshConfigs, type EnvoyTarget } from "../../envoy";
import { meshEnvoyConfigProblems } from "../../envoy/check";
import { parseTopology, type Topology } from "../../topology";

const TRACING = { collectorHost: "otel-collector.observability.svc.cluster.local", collectorPort: 4317, samplingPercent: 1 };
const target = (tracing = true): EnvoyTarget => ({
  namespace: "mesh",
  upstreamHost: (s) => `${s}.mesh.svc.cluster.local.`,
  edgeHttpsPort: 8443,
  ...(tracing ? { tracing: TRACING } : {}),
});
type Obj = Record<string, any>;
const hcmOf = (listener: Obj): Obj => listener.filter_chains[0].filters[0].typed_config;

describe("tracing and JSON access logs in every Envoy config", () => {
  let plain: Topology;
  let strict: Topology;
  before(() => {
    plain = parseTopology({ extends: "seed", security: { mtls: "off" } });
    strict = parseTopology({ extends: "seed", security: { mtls: "strict" } });
  });

  it("with tracing on, every config passes the strict checker, with and without mTLS", () => {
    assert.deepEqual(meshEnvoyConfigProblems(plain, target()), []);
    assert.deepEqual(meshEnvoyConfigProblems(strict, target()), []);
  });

  it("puts the tracer on every traffic listener but the health listener, and the collector cluster in every proxy", () => {
    for (const config of buildMeshConfigs(strict, target())) {
      const resources = config.bootstrap.static_resources as Obj;
      for (const listener of resources.listeners as Obj[]) {
        const tracing = hcmOf(listener).tracing;
        if (listener.name === "health") {
          assert.equal(tracing, undefined);
          continue;
        }
        assert.equal(tracing.provider.name, "envoy.tracers.opentelemetry", `${config.proxy} ${listener.name}`);
        assert.equal(tracing.provider.typed_config.grpc_service.envoy_grpc.cluster_name, "otel_collector");
        assert.equal(tracing.provider.typed_config.service_name, config.proxy);
        assert.deepEqual(tracing.random_sampling, { value: 1 });
      }
      const collector = (resources.clusters as Obj[]).find((c) => c.name === "otel_collector");
      assert.ok(collector, config.proxy);
      assert.equal(collector.type, "STRICT_DNS");
      assert.equal(collector.transport_socket, undefined, "plain TCP");
      assert.deepEqual(Object.values(collector.typed_extension_protocol_options as Obj)[0].explicit_http_config, { http2_protocol_options: {} });
      assert.deepEqual(collector.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address, { address: TRACING.collectorHost, port_value: 4317 });
    }
  });

  it("drops a client's trace context at the edge, before the front's tracer sees it, unless told to continue client traces", () => {
    const early = (t: EnvoyTarget) =>
      buildMeshConfigs(strict, t).flatMap((config) =>
        ((config.bootstrap.static_resources as Obj).listeners as Obj[]).map((l) => [`${config.proxy} ${l.name}`, hcmOf(l).early_header_mutation_extensions] as const),
      );
    for (const [where, mutations] of early(target())) {
      if (where.startsWith("front-envoy front")) {
        assert.deepEqual(mutations?.[0].typed_config.mutations, [{ remove: "traceparent" }, { remove: "tracestate" }], where);
      } else {
        assert.equal(mutations, undefined, `${where}: inside the mesh a caller's trace context is the mesh's own`);
      }
    }
    const continuing = { ...target(), tracing: { ...TRACING, continueClientTraces: true } };
    assert.ok(early(continuing).every(([, mutations]) => mutations === undefined));
    assert.ok(early(target(false)).every(([, mutations]) => mutations === undefined), "nothing to protect without tracing");
    assert.deepEqual(meshEnvoyConfigProblems(strict, continuing), []);
  });

  it("without tracing: no tracer, no collector, no decorators", () => {
    const text = JSON.stringify(buildMeshConfigs(strict, target(false)));
    assert.ok(!text.includes("otel_collector") && !text.includes('"tracing"') && !text.includes("decorator"));
  });

  it("names spans after the route: the front's route and service, each edge, each ingress; never propagated", () => {
    const configs = buildMeshConfigs(plain, target());
    const operations = (proxy: string, listener: string) =>
      new Set(
        ((configs.find((c) => c.proxy === proxy)?.bootstrap.static_resources as Obj).listeners as Obj[])
          .find((l) => l.name === listener)!
          .filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes.map((r: Obj) => {
            assert.equal(r.decorator.propagate, false);
            return r.decorator.operation;
          }),
      );
    const front = operations("front-envoy", "front");
    for (const route of plain.front.routes) assert.ok(front.has(`front ${route.prefix} → ${route.service}`), [...front].join(", "));
    assert.deepEqual(operations("service-a", "egress_service_b"), new Set(["service-a → service-b"]));
    assert.deepEqual(operations("service-b", "ingress"), new Set(["service-b ingress"]));
  });

  it("logs JSON with the same keys on every proxy and listener, the caller only with mTLS, probes filtered", () => {
    for (const [topology, withCaller] of [[plain, false], [strict, true]] as const) {
      const keySets = new Set<string>();
      for (const config of buildMeshConfigs(topology, target())) {
        for (const listener of (config.bootstrap.static_resources as Obj).listeners as Obj[]) {
          if (listener.name === "health") continue;
          const [log] = hcmOf(listener).access_log;
          assert.match(log.filter.header_filter.header.string_match.safe_regex.regex, /kube-probe/);
          const format = log.typed_config.log_format.json_format;
          assert.equal(format.proxy, config.proxy);
          assert.equal(format.direction, listener.name.startsWith("egress_") ? "outbound" : "inbound");
          assert.equal(format.trace_id, "%TRACE_ID%");
          keySets.add(Object.keys(format).join(","));
        }
      }
      assert.equal(keySets.size, 1, [...keySets].join("\n"));
      assert.equal([...keySets][0].split(",").includes("caller"), withCaller);
    }
  });

  it("renders the same bytes for the same input", () => {
    assert.equal(JSON.stringify(buildMeshConfigs(strict, target())), JSON.stringify(buildMeshConfigs(strict, target())));
  });
});
