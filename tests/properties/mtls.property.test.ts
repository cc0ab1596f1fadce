import { strict as assert } from "node:assert";
import fc from "fast-check";
import { buildMeshConfigs, type EnvoyTarget, type ProxyConfig } from "../../envoy";
import { meshEnvoyConfigProblems } from "../../envoy/check";
import { kubernetesEnvoyTarget } from "../../k8s";
import { parseTopology } from "../../topology";
import { assertProperty } from "../helpers/properties";
import { calleeName, validTopology } from "../helpers/topologyArbitraries";

/** Few runs: each builds and strictly checks up to 31 configs and their SDS files. */
const RUNS = { numRuns: 12 };
const FRONT = "front-envoy";

/**
 * A random valid topology with random security settings, on a random target: namespace, trust
 * domain, whether the edge has a certificate (and on which public port), and what plain HTTP does
 * (redirect and off need HTTPS, so they come only with an edge certificate).
 */
const secured = (mtls: fc.Arbitrary<"strict" | "off">) =>
  fc
    .record({
      raw: validTopology,
      mtls,
      trustDomain: fc.constantFrom("cluster.local", "example.org", "corp.example.com"),
      namespace: fc.constantFrom("mesh", "envoy-mesh", "team-a"),
      edgeHttpsPort: fc.option(fc.constantFrom(443, 8443), { nil: undefined }),
      plainHttp: fc.constantFrom("serve", "redirect", "off"),
    })
    .map((c) => {
      const plainHttp = c.edgeHttpsPort === undefined ? "serve" : c.plainHttp;
      const raw = { ...c.raw, front: { ...c.raw.front, plainHttp }, security: { mtls: c.mtls, trustDomain: c.trustDomain } };
      const target: EnvoyTarget = kubernetesEnvoyTarget({ namespace: c.namespace, clusterDomain: "cluster.local", edgeHttpsPort: c.edgeHttpsPort });
      return { raw, target, trustDomain: c.trustDomain, namespace: c.namespace };
    });

type Case = ReturnType<typeof secured> extends fc.Arbitrary<infer T> ? T : never;

/**
 * Who calls whom, read from the raw topology, independently of the builders' own
 * declaredCallers: every service listing the callee as an upstream, and the front for a routed one.
 */
function expectedCallers(c: Case, callee: string): string[] {
  const callers = c.raw.services.filter((s) => s.upstreams.some((u) => calleeName(u) === callee)).map((s) => s.name);
  if (c.raw.front.routes.some((r) => r.service === callee)) callers.push(FRONT);
  return callers.map((name) => `spiffe://${c.trustDomain}/ns/${c.namespace}/sa/${name}`).sort();
}

const listeners = (config: ProxyConfig): any[] => (config.bootstrap as any).static_resources.listeners;
const clusters = (config: ProxyConfig): any[] => (config.bootstrap as any).static_resources.clusters;
const hcm = (l: any) => l.filter_chains[0].filters[0].typed_config;
const downstreamTls = (l: any) => l.filter_chains[0].transport_socket?.typed_config;

/** Every SPIFFE ID an ingress's RBAC filter lets through. */
function acceptedIdentities(config: ProxyConfig): string[] {
  const ingress = listeners(config).find((l) => l.name === "ingress");
  const filters = hcm(ingress).http_filters;
  const rbac = filters.find((f: any) => f.name === "envoy.filters.http.rbac").typed_config;
  assert.equal(rbac.rules.action, "ALLOW");
  assert.equal(filters.indexOf(filters.find((f: any) => f.name === "envoy.filters.http.rbac")), filters.length - 2, "RBAC right before the router");
  return Object.values(rbac.rules.policies ?? {})
    .flatMap((p: any) => {
      assert.deepEqual(p.permissions, [{ any: true }]);
      return p.principals.map((x: any) => {
        assert.deepEqual(Object.keys(x), ["authenticated"], "only authenticated principals");
        return x.authenticated.principal_name.exact as string;
      });
    })
    .sort();
}

describe("properties of mTLS and authorization", () => {
  it("each sidecar's RBAC accepts exactly its declared callers' identities (the front where routed), none for a service nobody calls", function () {
    assertProperty(
      this.test,
      fc.property(secured(fc.constant("strict")), (c) => {
        for (const config of buildMeshConfigs(parseTopology(c.raw), c.target)) {
          if (config.proxy === FRONT) continue;
          assert.deepEqual(acceptedIdentities(config), expectedCallers(c, config.proxy), config.proxy);
        }
      }),
      RUNS,
    );
  });

  it("each upstream cluster, of the front and of every sidecar, verifies exactly its callee's identity, over TLS 1.3 with the callee's host name as SNI", function () {
    assertProperty(
      this.test,
      fc.property(secured(fc.constant("strict")), (c) => {
        const topology = parseTopology(c.raw);
        for (const config of buildMeshConfigs(topology, c.target)) {
          const upstreams =
            config.proxy === FRONT ? [...new Set(c.raw.front.routes.map((r) => r.service))] : topology.services.find((s) => s.name === config.proxy)!.upstreams.map((u) => u.service);
          const dns = clusters(config).filter((x) => x.type === "STRICT_DNS");
          assert.equal(dns.length, upstreams.length, config.proxy);
          for (const callee of upstreams) {
            const cluster = dns.find((x) => x.name === `upstream_${callee.replace(/-/g, "_")}`);
            assert.ok(cluster, `${config.proxy} → ${callee}`);
            const context = cluster.transport_socket.typed_config;
            assert.deepEqual(context.common_tls_context.combined_validation_context.default_validation_context, {
              match_typed_subject_alt_names: [{ san_type: "URI", matcher: { exact: `spiffe://${c.trustDomain}/ns/${c.namespace}/sa/${callee}` } }],
            });
            assert.equal(context.sni, `${callee}.${c.namespace}.svc.cluster.local`);
            assert.equal(context.common_tls_context.tls_params.tls_maximum_protocol_version, "TLSv1_3");
            assert.equal(context.common_tls_context.tls_params.tls_minimum_protocol_version, "TLSv1_3");
          }
        }
      }),
      RUNS,
    );
  });

  /*
   * The one exception, by design: the front proxy's edge listeners (`front`, plain HTTP, and
   * `front_tls`, HTTPS) take clients from outside the mesh, which hold no mesh certificate, so
   * they ask for none. Every other listener that is not on loopback, but the health listener the
   * kubelet probes, requires a client certificate signed by the mesh CA.
   */
  it("every listener off loopback requires a mesh client certificate, except the health listener and the front's edge listeners", function () {
    assertProperty(
      this.test,
      fc.property(secured(fc.constant("strict")), (c) => {
        for (const config of buildMeshConfigs(parseTopology(c.raw), c.target)) {
          for (const l of listeners(config)) {
            const socket = l.address.socket_address;
            const context = downstreamTls(l);
            const where = `${config.proxy} ${l.name}`;
            if (socket.address === "127.0.0.1") continue;
            if (l.name === "health") assert.equal(context, undefined, where);
            else if (config.proxy === FRONT && (l.name === "front" || l.name === "front_tls")) {
              if (context !== undefined) assert.equal(context.require_client_certificate, false, where);
            } else {
              assert.equal(context?.require_client_certificate, true, where);
              assert.equal(context.common_tls_context.validation_context_sds_secret_config.name, "mesh_ca", where);
              assert.equal(context.common_tls_context.tls_params.tls_minimum_protocol_version, "TLSv1_3", where);
            }
          }
        }
      }),
      RUNS,
    );
  });

  it("every config and SDS file passes the strict check with no warning, mTLS on or off", function () {
    assertProperty(
      this.test,
      // Up to 10 services: the check costs about 15 ms a proxy, and the suite has a time budget.
      fc.property(secured(fc.constantFrom("strict", "off")).filter((c) => c.raw.services.length <= 10), (c) => {
        assert.deepEqual(meshEnvoyConfigProblems(parseTopology(c.raw), c.target), []);
      }),
      { numRuns: 6 },
    );
  });
});
