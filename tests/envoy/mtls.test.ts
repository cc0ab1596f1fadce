import { strict as assert } from "node:assert";
import { buildFrontProxyConfig, buildMeshConfigs, buildSidecarConfig, type EnvoyTarget, type ProxyConfig } from "../../envoy";
import { envoyConfigProblems, meshEnvoyConfigProblems, renderEnvoyConfig } from "../../envoy/check";
import { kubernetesEnvoyTarget } from "../../k8s";
import { parseTopology, type Topology } from "../../topology";

/** Targets and configs are built inside tests: a builder bug fails tests instead of aborting the run. */
const kind = (): EnvoyTarget => kubernetesEnvoyTarget({ namespace: "envoy-mesh", clusterDomain: "cluster.local", edgeHttpsPort: 8443 });
const noEdge = (): EnvoyTarget => kubernetesEnvoyTarget({ namespace: "envoy-mesh", clusterDomain: "cluster.local" });
const id = (proxy: string, ns = "envoy-mesh", td = "cluster.local") => `spiffe://${td}/ns/${ns}/sa/${proxy}`;

const listeners = (c: ProxyConfig): any[] => (c.bootstrap as any).static_resources.listeners;
const clusters = (c: ProxyConfig): any[] => (c.bootstrap as any).static_resources.clusters;
const listener = (c: ProxyConfig, name: string) => listeners(c).find((l) => l.name === name);
const cluster = (c: ProxyConfig, name: string) => clusters(c).find((x) => x.name === name);
const hcm = (l: any) => l.filter_chains[0].filters[0].typed_config;
const tls = (l: any) => l.filter_chains[0].transport_socket?.typed_config;
const routes = (l: any): any[] => hcm(l).route_config.virtual_hosts[0].routes;
const rbac = (l: any) => hcm(l).http_filters.find((f: any) => f.name === "envoy.filters.http.rbac")?.typed_config;
const principals = (l: any): string[] =>
  Object.values(rbac(l).rules.policies ?? {}).flatMap((p: any) => p.principals.map((x: any) => x.authenticated.principal_name.exact));
const sds = (secret: string, file: string) => ({
  name: secret,
  sds_config: { resource_api_version: "V3", path_config_source: { path: `/etc/mesh/xds/${file}`, watched_directory: { path: "/etc/mesh/xds" } } },
});

function mesh(raw: unknown = undefined, target: EnvoyTarget = kind()): Map<string, ProxyConfig> {
  return new Map(buildMeshConfigs(parseTopology(raw), target).map((c) => [c.proxy, c]));
}
function proxy(configs: Map<string, ProxyConfig>, name: string): ProxyConfig {
  const found = configs.get(name);
  assert.ok(found, name);
  return found;
}

/** An SDS file serving one certificate and key from `dir`, reloaded when that folder is swapped. */
function certificateSdsFile(name: string, dir: string) {
  return {
    resources: [
      {
        "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
        name,
        tls_certificate: {
          certificate_chain: { filename: `${dir}/tls.crt` },
          private_key: { filename: `${dir}/tls.key` },
          watched_directory: { path: dir },
        },
      },
    ],
  };
}

describe("mTLS between proxies (security.mtls: strict, the default)", () => {
  let built: Map<string, ProxyConfig> | undefined;
  const seedMesh = () => (built ??= mesh());

  it("a sidecar's ingress accepts only TLS 1.3 with a client certificate, its identity and the mesh CA through SDS", () => {
    for (const service of ["service-a", "service-b", "service-c"]) {
      const context = tls(listener(proxy(seedMesh(), service), "ingress"));
      assert.equal(context["@type"], "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext");
      assert.equal(context.require_client_certificate, true, service);
      assert.deepEqual(context.common_tls_context.tls_params, { tls_minimum_protocol_version: "TLSv1_3", tls_maximum_protocol_version: "TLSv1_3" });
      assert.deepEqual(context.common_tls_context.tls_certificate_sds_secret_configs, [sds("identity", "sds-identity.json")]);
      assert.deepEqual(context.common_tls_context.validation_context_sds_secret_config, sds("mesh_ca", "sds-mesh-ca.json"));
    }
  });

  it("a sidecar lets through only its declared callers' SPIFFE IDs: the front for A, A for B and C", () => {
    assert.deepEqual(principals(listener(proxy(seedMesh(), "service-a"), "ingress")), [id("front-envoy")]);
    assert.deepEqual(principals(listener(proxy(seedMesh(), "service-b"), "ingress")), [id("service-a")]);
    assert.deepEqual(principals(listener(proxy(seedMesh(), "service-c"), "ingress")), [id("service-a")]);
    for (const service of ["service-a", "service-b", "service-c"]) {
      const filters = hcm(listener(proxy(seedMesh(), service), "ingress")).http_filters.map((f: any) => f.name);
      assert.deepEqual(filters, ["envoy.filters.http.rbac", "envoy.filters.http.router"], "RBAC decides before the router forwards");
      // Denials are counted as http.ingress.rbac.denied: the connection manager's stat prefix, no rule prefix.
      assert.equal(hcm(listener(proxy(seedMesh(), service), "ingress")).stat_prefix, "ingress");
      assert.equal(rbac(listener(proxy(seedMesh(), service), "ingress")).rules_stat_prefix, undefined);
      const rules = rbac(listener(proxy(seedMesh(), service), "ingress")).rules;
      assert.equal(rules.action, "ALLOW");
      assert.deepEqual(Object.values(rules.policies).map((p: any) => p.permissions), [[{ any: true }]]);
    }
  });

  it("adding an upstream in the topology is what grants access, and a front route grants the front", () => {
    const more = mesh({ extends: "seed", front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/c", service: "service-c" }] }, services: [{ name: "service-b", upstreams: ["service-c"] }] });
    assert.deepEqual(principals(listener(proxy(more, "service-c"), "ingress")), [id("front-envoy"), id("service-a"), id("service-b")]);
  });

  it("a service nobody calls denies every request: RBAC rules with no policy", () => {
    const lonely = mesh({ extends: "seed", services: [{ name: "service-d", appPort: 8084 }] });
    assert.deepEqual(rbac(listener(proxy(lonely, "service-d"), "ingress")).rules, { action: "ALLOW" });
    assert.deepEqual(meshEnvoyConfigProblems(parseTopology({ extends: "seed", services: [{ name: "service-d", appPort: 8084 }] }), kind()), []);
  });

  it("names identities by the topology's trust domain and the target's namespace", () => {
    const other = mesh({ extends: "seed", security: { trustDomain: "corp.example" } }, kubernetesEnvoyTarget({ namespace: "shop", clusterDomain: "cluster.local" }));
    assert.deepEqual(principals(listener(proxy(other, "service-b"), "ingress")), [id("service-a", "shop", "corp.example")]);
    const verified = cluster(proxy(other, "service-a"), "upstream_service_b").transport_socket.typed_config.common_tls_context.combined_validation_context;
    assert.deepEqual(verified.default_validation_context.match_typed_subject_alt_names, [{ san_type: "URI", matcher: { exact: id("service-b", "shop", "corp.example") } }]);
  });

  it("a refused caller gets 403 with a body naming it and the service; the not-delivered mapper still comes first", () => {
    const mappers = hcm(listener(proxy(seedMesh(), "service-b"), "ingress")).local_reply_config.mappers;
    assert.ok(mappers[0].filter.response_flag_filter, "the not-delivered mapper is kept, first");
    const denied = mappers[1];
    assert.deepEqual(denied.filter.status_code_filter.comparison.op, "EQ");
    assert.equal(denied.filter.status_code_filter.comparison.value.default_value, 403);
    assert.equal(denied.status_code, undefined, "the status stays 403");
    const body: string = denied.body_format_override.text_format_source.inline_string;
    assert.match(body, /%DOWNSTREAM_PEER_URI_SAN%/);
    assert.match(body, /not declared as a caller of service-b/);
    assert.match(body, /upstreams/);
  });

  it("logs each request with the caller's identity (the peer's URI SAN in the JSON log's caller key), still without probes", () => {
    const [log] = hcm(listener(proxy(seedMesh(), "service-a"), "ingress")).access_log;
    const format = log.typed_config.log_format.json_format;
    assert.equal(format.caller, "%DOWNSTREAM_PEER_URI_SAN%");
    assert.equal(format.status, "%RESPONSE_CODE%");
    assert.equal(log.filter.header_filter.header.name, "user-agent");
  });

  it("tells the app who called: the verified URI SAN in x-forwarded-client-cert, whatever the caller sent replaced", () => {
    const manager = hcm(listener(proxy(seedMesh(), "service-b"), "ingress"));
    assert.equal(manager.forward_client_cert_details, "SANITIZE_SET");
    assert.deepEqual(manager.set_current_client_cert_details, { uri: true });
  });

  it("every upstream cluster originates mTLS 1.3 with SNI and verifies exactly the callee's SPIFFE ID; its health checks use that socket", () => {
    for (const [caller, callee] of [["front-envoy", "service-a"], ["service-a", "service-b"], ["service-a", "service-c"]]) {
      const c = cluster(proxy(seedMesh(), caller), `upstream_${callee.replace(/-/g, "_")}`);
      const context = c.transport_socket.typed_config;
      assert.equal(context["@type"], "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext");
      assert.equal(context.sni, `${callee}.envoy-mesh.svc.cluster.local`, "the host name without its trailing dot");
      assert.deepEqual(context.common_tls_context.tls_params, { tls_minimum_protocol_version: "TLSv1_3", tls_maximum_protocol_version: "TLSv1_3" });
      assert.deepEqual(context.common_tls_context.tls_certificate_sds_secret_configs, [sds("identity", "sds-identity.json")]);
      assert.deepEqual(context.common_tls_context.combined_validation_context, {
        default_validation_context: { match_typed_subject_alt_names: [{ san_type: "URI", matcher: { exact: id(callee) } }] },
        validation_context_sds_secret_config: sds("mesh_ca", "sds-mesh-ca.json"),
      });
      assert.equal(c.health_checks.length, 1);
      assert.equal(c.health_checks[0].transport_socket_match_criteria, undefined, "health checks use the cluster's mTLS socket");
    }
  });

  it("keeps the health listener plain HTTP for the kubelet, the egress listeners plain on loopback, the local app and admin clusters plain", () => {
    for (const config of seedMesh().values()) {
      assert.equal(tls(listener(config, "health")), undefined, config.proxy);
      for (const l of listeners(config).filter((x) => x.traffic_direction === "OUTBOUND")) {
        assert.equal(l.address.socket_address.address, "127.0.0.1");
        assert.equal(tls(l), undefined, l.name);
      }
      for (const c of clusters(config).filter((x) => x.type === "STATIC")) assert.equal(c.transport_socket, undefined, `${config.proxy} ${c.name}`);
    }
  });

  it("ships each proxy its identity and mesh CA SDS files, each one Secret named as the bootstrap asks, read from the mounted folder", () => {
    for (const config of seedMesh().values()) {
      const expected = config.proxy === "front-envoy" ? ["sds-edge.json", "sds-identity.json", "sds-mesh-ca.json"] : ["sds-identity.json", "sds-mesh-ca.json"];
      assert.deepEqual(Object.keys(config.sdsFiles).sort(), expected, config.proxy);
      assert.deepEqual(config.sdsFiles["sds-identity.json"], certificateSdsFile("identity", "/etc/mesh/identity"));
      assert.deepEqual(config.sdsFiles["sds-mesh-ca.json"], {
        resources: [
          {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
            name: "mesh_ca",
            validation_context: { trusted_ca: { filename: "/etc/mesh/identity/ca.crt" }, watched_directory: { path: "/etc/mesh/identity" } },
          },
        ],
      });
    }
  });

  it("passes the strict check, SDS files and their cross-references included, on kind and without an edge certificate", () => {
    assert.deepEqual(meshEnvoyConfigProblems(parseTopology(undefined), kind()), []);
    assert.deepEqual(meshEnvoyConfigProblems(parseTopology(undefined), noEdge()), []);
  });
});

describe("security.mtls: off", () => {
  it("has no TLS, no RBAC and no identity SDS file anywhere; only the front's HTTPS, which depends on the edge certificate alone", () => {
    for (const config of mesh({ extends: "seed", security: { mtls: "off" } }).values()) {
      for (const l of listeners(config)) {
        if (l.name === "front_tls") assert.equal(tls(l).require_client_certificate, false);
        else assert.equal(tls(l), undefined, `${config.proxy} ${l.name}`);
        assert.equal(rbac(l), undefined, `${config.proxy} ${l.name}`);
      }
      for (const c of clusters(config)) assert.equal(c.transport_socket, undefined, `${config.proxy} ${c.name}`);
      assert.deepEqual(Object.keys(config.sdsFiles), config.proxy === "front-envoy" ? ["sds-edge.json"] : [], config.proxy);
    }
    assert.deepEqual(meshEnvoyConfigProblems(parseTopology({ extends: "seed", security: { mtls: "off" } }), kind()), []);
  });
});

describe("the front proxy at the edge", () => {
  const front = (raw: unknown, target: EnvoyTarget = kind()) => buildFrontProxyConfig(parseTopology(raw), target);

  it("serves HTTPS on ports.frontTls with the edge certificate through SDS, TLS 1.2 or newer, no client certificate asked", () => {
    const config = front(undefined);
    const https = listener(config, "front_tls");
    assert.equal(https.address.socket_address.port_value, 8443);
    const context = tls(https);
    assert.equal(context.require_client_certificate, false, "edge clients have no mesh certificate");
    assert.equal(context.common_tls_context.tls_params.tls_minimum_protocol_version, "TLSv1_2");
    assert.deepEqual(context.common_tls_context.tls_certificate_sds_secret_configs, [sds("edge", "sds-edge.json")]);
    assert.equal(context.common_tls_context.validation_context_sds_secret_config, undefined);
    assert.deepEqual(config.sdsFiles["sds-edge.json"], certificateSdsFile("edge", "/etc/mesh/edge"));
    assert.equal(listener(front({ extends: "seed", ports: { frontTls: 9443 } }), "front_tls").address.socket_address.port_value, 9443);
  });

  it("HTTPS has the same routes and edge hardening as plain HTTP (serve, the default)", () => {
    const config = front({ extends: "seed", front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/c", service: "service-c" }] } });
    assert.deepEqual(listeners(config).map((l) => l.name), ["front", "front_tls", "health"]);
    const plain = listener(config, "front");
    const https = listener(config, "front_tls");
    assert.deepEqual(routes(https), routes(plain));
    assert.equal(https.per_connection_buffer_limit_bytes, plain.per_connection_buffer_limit_bytes);
    const { stat_prefix: a, route_config: ra, ...plainManager } = hcm(plain);
    const { stat_prefix: b, route_config: rb, ...httpsManager } = hcm(https);
    assert.deepEqual([a, b, ra.name, rb.name], ["front", "front_tls", "front", "front_tls"]);
    assert.deepEqual(httpsManager, plainManager);
    assert.equal(tls(plain), undefined);
  });

  it("plainHttp redirect: every plain request gets a 301 to HTTPS on the target's edge port; the health listener is untouched", () => {
    for (const [target, port] of [[kind(), 8443], [{ ...kind(), edgeHttpsPort: 443 }, 443]] as const) {
      const config = front({ extends: "seed", front: { plainHttp: "redirect" } }, target);
      assert.deepEqual(routes(listener(config, "front")), [{ match: { prefix: "/" }, redirect: { https_redirect: true, port_redirect: port } }]);
      assert.equal(listener(config, "front").address.socket_address.port_value, 8080);
      assert.ok(routes(listener(config, "front_tls")).every((r: any) => r.route?.cluster === "upstream_service_a"));
      assert.deepEqual(routes(listener(config, "health")).map((r: any) => r.match.path ?? r.match.prefix), ["/ready", "/stats/prometheus", "/stats", "/"]);
    }
  });

  it("plainHttp off: no plain listener at all", () => {
    assert.deepEqual(listeners(front({ extends: "seed", front: { plainHttp: "off" } })).map((l) => l.name), ["front_tls", "health"]);
  });

  it("without an edge certificate: no HTTPS listener and no edge SDS file; redirect or off cannot be served and is refused, naming the setting", () => {
    const config = front(undefined, noEdge());
    assert.deepEqual(listeners(config).map((l) => l.name), ["front", "health"]);
    assert.deepEqual(Object.keys(config.sdsFiles).sort(), ["sds-identity.json", "sds-mesh-ca.json"]);
    for (const mode of ["redirect", "off"]) {
      assert.throws(() => front({ extends: "seed", front: { plainHttp: mode } }, noEdge()), (err: Error) => {
        assert.match(err.message, new RegExp(`front\\.plainHttp is "${mode}"`));
        assert.match(err.message, /no edge certificate/);
        return true;
      });
    }
  });

  it("with redirect and off, the configs still pass the strict check", () => {
    for (const plainHttp of ["redirect", "off"]) assert.deepEqual(meshEnvoyConfigProblems(parseTopology({ extends: "seed", front: { plainHttp } }), kind()), [], plainHttp);
  });
});

describe("checking SDS files with their bootstrap and xDS files", () => {
  const rendered = () => {
    const topology: Topology = parseTopology(undefined);
    return renderEnvoyConfig(buildSidecarConfig(topology, topology.services[1], kind()));
  };

  it("reports an SDS file whose Secret is not named as the listener or cluster asks, where it asks", () => {
    const good = rendered();
    const xdsFiles = { ...good.xdsFiles, "sds-mesh-ca.json": good.xdsFiles["sds-mesh-ca.json"].replace('"name": "mesh_ca"', '"name": "mesh-ca"') };
    const problems = envoyConfigProblems([{ ...good, xdsFiles }]);
    assert.ok(problems.length >= 1);
    for (const p of problems) {
      assert.match(p.path, /^(lds|cds)\.json of service-b: resources\[\d+\]\./);
      assert.match(p.message, /asks sds-mesh-ca\.json for SDS secret "mesh_ca", but its Secret is named "mesh-ca"/);
    }
    assert.deepEqual(envoyConfigProblems([good]), []);
  });

  it("reports a file the config reads that is not delivered, and a delivered file nothing reads", () => {
    const good = rendered();
    const { ["sds-identity.json"]: identity, ...withoutIdentity } = good.xdsFiles;
    const missing = envoyConfigProblems([{ ...good, xdsFiles: withoutIdentity }]);
    assert.ok(missing.length > 0 && missing.every((p) => /reads SDS secret "identity" from \/etc\/mesh\/xds\/sds-identity\.json, but no file sds-identity\.json is delivered/.test(p.message)), JSON.stringify(missing));
    const extra = envoyConfigProblems([{ ...good, xdsFiles: { ...good.xdsFiles, "sds-edge.json": identity } }]);
    assert.deepEqual(extra.map((p) => [p.path, p.message]), [["sds-edge.json of service-b: ", "is delivered but nothing reads it: no ConfigSource of the bootstrap or of its xDS files names it"]]);
  });

  it("checks each SDS file strictly on its own: two Secrets in one file are refused, as Envoy refuses them", () => {
    const good = rendered();
    const file = JSON.parse(good.xdsFiles["sds-identity.json"]);
    file.resources.push({ "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", name: "identity" });
    const two = JSON.stringify(file, null, 2);
    const problems = envoyConfigProblems([{ ...good, xdsFiles: { ...good.xdsFiles, "sds-identity.json": two } }]);
    assert.ok(problems.some((p) => p.path.startsWith("sds-identity.json of service-b: ")), JSON.stringify(problems));
  });
});
