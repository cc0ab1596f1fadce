import assert from "node:assert/strict";
import { getOption, hasOption } from "@bufbuild/protobuf";
import { DISCOVERY_RESPONSE_TYPE, loadEnvoyRegistry, validateResourceFile, type EnvoyRegistry, type ValidateOptions, type ValidationResult } from "../../../checks/envoy";
import { ResourceVerdictMemo, canonicalJson } from "../../../checks/envoy/resourceVerdicts";
import { validateResourceFileWith } from "../../../checks/envoy/validate";

let reg: EnvoyRegistry;
const T = "type.googleapis.com/envoy.config.";

const socket = (address: string, port: number) => ({ socket_address: { address, port_value: port } });
const cluster = (name: string, address = "127.0.0.1", extra: Record<string, unknown> = {}) => ({
  "@type": `${T}cluster.v3.Cluster`,
  name,
  connect_timeout: "0.25s",
  load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: socket(address, 8080) } }] }] },
  ...extra,
});
const ROUTER = { name: "envoy.filters.http.router", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" } };
const hcmChain = (extra: Record<string, unknown> = {}) => ({
  ...extra,
  filters: [
    {
      name: "envoy.filters.network.http_connection_manager",
      typed_config: {
        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
        stat_prefix: "ingress",
        rds: { route_config_name: "local", config_source: { path_config_source: { path: "/etc/xds/rds.yaml" } } },
        http_filters: [ROUTER],
      },
    },
  ],
});
const listener = (name: string, port = 10000, chains = [hcmChain()]) => ({ "@type": `${T}listener.v3.Listener`, name, address: socket("0.0.0.0", port), filter_chains: chains });
const routeConfig = (name: string, domains: string[][]) => ({
  "@type": `${T}route.v3.RouteConfiguration`,
  name,
  virtual_hosts: domains.map((d, i) => ({ name: `vh${i}`, domains: d, routes: [{ match: { prefix: "/" }, route: { cluster: "c" } }] })),
});
const secret = (name: string) => ({ "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret", name, validation_context: { trusted_ca: { filename: "/ca.pem" } } });

/**
 * Resources with problems of every phase, several of which name a path in their message:
 * a mapping error, an enum in another letter case (rewritten for the strict re-parse), a deprecated
 * field (a warning; an error with strict), Envoy load-time checks with "first at <path>".
 */
const TROUBLED = [
  cluster("by-name", "backend.local", { lb_policy: "round_robin", use_tcp_for_dns_lookups: true }),
  listener("twin-chains", 10001, [hcmChain({ filter_chain_match: { server_names: ["a"] } }), hcmChain({ filter_chain_match: { server_names: ["a"] } })]),
  routeConfig("dup-domains", [["a.example", "b.example"], ["A.example"]]),
  { ...cluster("unknown-field"), conect_timeout: "1s" },
];

const file = (version: string, resources: unknown[]) => ({ version_info: version, resources });
const fresh = (config: unknown, options: ValidateOptions = {}): ValidationResult => validateResourceFileWith(reg, config, options, undefined);
const messagesAt = (result: ValidationResult, prefix: string) => [...result.errors, ...result.warnings].filter((i) => i.path.startsWith(prefix)).map((i) => `${i.path}: ${i.message}`);

describe("checks/envoy: resource verdicts kept across xDS files", () => {
  before(() => {
    reg = loadEnvoyRegistry();
  });

  it("a kept verdict is exactly the fresh one, at the index the resource has in the file at hand, strict or not", () => {
    const memo = new ResourceVerdictMemo();
    validateResourceFileWith(reg, file("1", TROUBLED), {}, memo);
    assert.equal(memo.stats.misses, TROUBLED.length);
    // The same resources again, in another order, after two others.
    const later = file("2", [cluster("x"), cluster("y"), TROUBLED[2], TROUBLED[0], TROUBLED[3], TROUBLED[1]]);
    for (const strict of [false, true]) {
      const kept = validateResourceFileWith(reg, later, { strict }, memo);
      assert.deepEqual(kept, fresh(later, { strict }));
      assert.equal(kept.ok, false);
    }
    // Each troubled resource found twice; the two new ones on the second pass.
    assert.equal(memo.stats.hits, 2 * TROUBLED.length + 2);
    const result = validateResourceFileWith(reg, later, {}, memo);
    // Paths, and paths inside messages, are those of the resource's own index.
    assert.ok(
      messagesAt(result, "resources[5]").includes(
        "resources[5].filter_chains[1]: error adding listener 'twin-chains': multiple filter chains with the same matching rules are defined (same filter_chain_match as resources[5].filter_chains[0])",
      ),
      messagesAt(result, "resources[5]").join("\n"),
    );
    assert.ok(messagesAt(result, "resources[2]").some((m) => m.startsWith("resources[2].virtual_hosts[1].domains[0]: ") && m.endsWith("(first at resources[2].virtual_hosts[0].domains[0])")));
    assert.ok(messagesAt(result, "resources[3]").some((m) => m.startsWith("resources[3].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address: malformed IP address")));
    assert.ok(result.warnings.some((w) => w.path === "resources[3].use_tcp_for_dns_lookups" && /deprecated/.test(w.message)), JSON.stringify(result.warnings));
    assert.ok(messagesAt(result, "resources[4]").some((m) => m.startsWith('resources[4].conect_timeout: unknown field "conect_timeout"')));
    assert.deepEqual(messagesAt(result, "resources[0]"), []);
  });

  it("checks across the resources of a file every time, when each resource's own verdict is kept", () => {
    const memo = new ResourceVerdictMemo();
    const twice = file("1", [cluster("c"), listener("l"), secret("s"), cluster("c"), listener("l"), secret("s")]);
    for (let run = 0; run < 2; run++) {
      const result = validateResourceFileWith(reg, twice, {}, memo);
      assert.deepEqual(result, fresh(twice));
      assert.deepEqual(
        result.errors.map((e) => `${e.path}: ${e.message}`),
        [
          "resources: Unexpected SDS secrets length: 2 (an SDS config loads exactly one Secret from its file; give each secret a file of its own)",
          "resources[3].name: cluster manager: duplicate cluster 'c' (first defined at resources[0])",
          "resources[4].address: error adding listener: 'l' has duplicate address '0.0.0.0:10000' as existing listener 'l' (resources[1])",
          "resources[4].name: duplicate listener name 'l' (first used at resources[1])",
        ],
      );
    }
    assert.equal(memo.size, 3);
    assert.equal(memo.stats.hits, 9);
  });

  it("checks afresh a resource that differs by one byte, or only in the order of its keys", () => {
    const memo = new ResourceVerdictMemo();
    assert.equal(validateResourceFileWith(reg, file("1", [cluster("c", "127.0.0.1")]), {}, memo).ok, true);
    const changed = file("1", [cluster("c", "127.0.0.l")]);
    const result = validateResourceFileWith(reg, changed, {}, memo);
    assert.deepEqual(result, fresh(changed));
    assert.equal(result.ok, false);
    assert.deepEqual(memo.stats, { hits: 0, misses: 2 });

    // Which spelling is reported as given twice depends on the order the keys come in.
    const snakeFirst = { ...cluster("c"), connectTimeout: "1s" };
    const { connect_timeout: timeout, ...rest } = cluster("c");
    const camelFirst = { connectTimeout: "1s", ...rest, connect_timeout: timeout };
    const first = validateResourceFileWith(reg, file("1", [snakeFirst]), {}, memo);
    const second = validateResourceFileWith(reg, file("1", [camelFirst]), {}, memo);
    assert.deepEqual(first, fresh(file("1", [snakeFirst])));
    assert.deepEqual(second, fresh(file("1", [camelFirst])));
    assert.notDeepEqual(first.errors, second.errors);
  });

  it("keeps at most its bound, dropping the verdict used least recently", () => {
    const memo = new ResourceVerdictMemo(2);
    const check = (name: string) => validateResourceFileWith(reg, file("1", [cluster(name)]), {}, memo);
    check("a");
    check("b");
    check("a"); // a hit: now b is the oldest
    check("c"); // evicts b
    assert.equal(memo.size, 2);
    assert.deepEqual(memo.stats, { hits: 1, misses: 3 });
    check("a");
    assert.deepEqual(memo.stats, { hits: 2, misses: 3 });
    check("b");
    assert.deepEqual(memo.stats, { hits: 2, misses: 4 });
    assert.equal(memo.size, 2);
    assert.throws(() => new ResourceVerdictMemo(0), /at least 1/);
  });

  it("keeps no verdict for data that is not plain JSON, nor for a resource holding a NUL", () => {
    const memo = new ResourceVerdictMemo();
    validateResourceFileWith(reg, file("1", [cluster("c")]), {}, memo);
    // JSON would drop the undefined value and match the clean cluster above; the reader refuses it.
    const withUndefined = file("1", [{ ...cluster("c"), lb_policy: undefined }]);
    const result = validateResourceFileWith(reg, withUndefined, {}, memo);
    assert.deepEqual(result, fresh(withUndefined));
    assert.equal(result.ok, false);
    const withNul = file("1", [cluster("c\u0000resource\u0000"), cluster("c\u0000resource\u0000")]);
    assert.deepEqual(validateResourceFileWith(reg, withNul, {}, memo), fresh(withNul));
    assert.equal(memo.size, 1);

    assert.equal(canonicalJson({ a: [1, "x", null, true, { b: {} }] }), '{"a":[1,"x",null,true,{"b":{}}]}');
    for (const bad of [{ a: undefined }, [1, , 2], { a: NaN }, { a: -0 }, { a: 1n }, { a: new Date(0) }, { a: () => 1 }, { a: new Map() }]) {
      assert.equal(canonicalJson(bad), undefined, String(bad));
    }
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    assert.equal(canonicalJson(cycle), undefined);
  });

  it("a resource the proto3 JSON parser refuses fails its file with the parser's own words, kept or not", () => {
    const memo = new ResourceVerdictMemo();
    const yearZero = { "@type": "type.googleapis.com/google.protobuf.Timestamp", value: "0000-01-01T00:00:00Z" };
    const config = file("1", [cluster("c"), yearZero]);
    for (let run = 0; run < 2; run++) {
      const result = validateResourceFileWith(reg, config, {}, memo);
      assert.deepEqual(result, fresh(config));
      assert.deepEqual(result.errors.map((e) => `${e.path}: ${e.message}`), [
        ": proto3 JSON parser refused the config: cannot decode message google.protobuf.Timestamp from JSON: must be from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z inclusive",
      ]);
    }
    assert.equal(memo.stats.hits, 2);
  });

  it("validateResourceFile keeps verdicts between calls and gives the fresh verdict", () => {
    const config = file("1", TROUBLED);
    assert.deepEqual(validateResourceFile(config, { strict: true }), fresh(config, { strict: true }));
    assert.deepEqual(validateResourceFile(config, { strict: true }), fresh(config, { strict: true }));
  });

  it("reports a field written in both spellings at the second one, and every path as written", () => {
    const c = (fields: Record<string, unknown>) => file("1", [{ "@type": `${T}cluster.v3.Cluster`, name: "c", ...fields }]);
    const camel = { loadAssignment: { clusterName: "c", endpoints: [{ lbEndpoints: [{ endpoint: { address: { socketAddress: { address: "x", portValue: 1 } } } }] }] } };
    const shown = (config: unknown) => fresh(config).errors.map((e) => `${e.path}: ${e.message}`);
    assert.deepEqual(shown(c({ connect_timeout: "1s", connectTimeout: "2s", ...camel })), [
      'resources[0].connectTimeout: field "connect_timeout" is given twice (as "connect_timeout" and "connectTimeout")',
      "resources[0].loadAssignment.endpoints[0].lbEndpoints[0].endpoint.address.socketAddress.address: malformed IP address: x (a STATIC cluster takes IP addresses; use type STRICT_DNS to resolve a name)",
    ]);
    // A null counts as written.
    assert.deepEqual(shown(c({ connectTimeout: null, connect_timeout: "1s", lb_policy: "ROUND_ROBIN", lbPolicy: "RANDOM", commonLbConfig: { healthyPanicThreshold: { value: 200 } } })), [
      "resources[0].commonLbConfig.healthyPanicThreshold.value: must be at least 0 and at most 100, got 200",
      'resources[0].connect_timeout: field "connect_timeout" is given twice (as "connectTimeout" and "connect_timeout")',
      'resources[0].lbPolicy: field "lb_policy" is given twice (as "lb_policy" and "lbPolicy")',
    ]);
  });

  it("rests on DiscoveryResponse.resources carrying no protoc-gen-validate rule (they would see only kept verdicts)", () => {
    const field = reg.registry.getMessage(DISCOVERY_RESPONSE_TYPE)?.fields.find((f) => f.name === "resources");
    assert.ok(field);
    assert.equal(hasOption(field, reg.options.rules) && getOption(field, reg.options.rules) !== undefined, false);
  });
});
