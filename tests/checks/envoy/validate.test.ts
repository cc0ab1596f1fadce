import assert from "node:assert/strict";
import { validateBootstrap, validateBootstrapFile } from "../../../checks/envoy";
import type { ValidationIssue, ValidationResult } from "../../../checks/envoy";
import { GOOD_CONFIGS, SEED_V2_CONFIGS, fixture, loadFixture } from "./fixtures";


const LISTENER = "static_resources.listeners[0]";
const HCM = `${LISTENER}.filter_chains[0].filters[0].typed_config`;
const ROUTE = `${HCM}.route_config.virtual_hosts[0].routes[0]`;
const CLUSTER = "static_resources.clusters[0]";
const ENDPOINT = `${CLUSTER}.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address`;

const hcm = (c: any): any => c.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const route = (c: any): any => hcm(c).route_config.virtual_hosts[0].routes[0];
const endpoint = (c: any, i = 0): any =>
  c.static_resources.clusters[i].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;

function show(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("\n");
}

function assertIssue(issues: readonly ValidationIssue[], path: string, message: RegExp): void {
  assert.ok(
    issues.some((i) => i.path === path && message.test(i.message)),
    `expected an issue at ${path} matching ${message}, got:\n${show(issues)}`,
  );
}

function assertClean(result: ValidationResult): void {
  assert.deepEqual(result.errors, [], show(result.errors));
  assert.deepEqual(result.warnings, [], show(result.warnings));
  assert.equal(result.ok, true);
}

describe("validateBootstrap: known-good v3 configs", () => {
  for (const name of GOOD_CONFIGS) {
    it(`accepts ${name} with no error or warning`, () => {
      const report = validateBootstrapFile(fixture(name));
      assert.equal(report.documents.length, 1);
      assertClean(report.documents[0].result);
    });
  }

  it("accepts enum names in any letter case, as Envoy does", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    config.static_resources.clusters[0].type = "strict_dns";
    config.static_resources.clusters[0].lb_policy = "Round_Robin";
    assertClean(validateBootstrap(config));
  });

  it("accepts proto field names and JSON (lowerCamel) names alike", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    const cluster = config.static_resources.clusters[0];
    cluster.connectTimeout = cluster.connect_timeout;
    delete cluster.connect_timeout;
    assertClean(validateBootstrap(config));
  });

  it("accepts 64-bit and 32-bit integers written as strings, per proto3 JSON", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    endpoint(config).port_value = "8786";
    assertClean(validateBootstrap(config));
  });

  it("applies rules on a oneof member only when that member is set", () => {
    // RouteMatch.safe_regex is required *when chosen*; the route uses prefix instead.
    const config = loadFixture("v3/front-proxy.yaml");
    assert.ok(route(config).match.prefix);
    assertClean(validateBootstrap(config));
    route(config).match = { safe_regex: {} };
    assertIssue(validateBootstrap(config).errors, `${ROUTE}.match.safe_regex.regex`, /at least 1 character/);
  });

  it("checks the content of a TypedStruct against the type it names", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    hcm(config).http_filters[0].typed_config = {
      "@type": "type.googleapis.com/xds.type.v3.TypedStruct",
      type_url: "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
      value: { no_such_option: true },
    };
    assertIssue(
      validateBootstrap(config).errors,
      `${HCM}.http_filters[0].typed_config.value.no_such_option`,
      /unknown field "no_such_option"/,
    );
  });

  it("warns, without failing, on an Envoy type whose proto the API package cannot compile", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    hcm(config).access_log[0].typed_config = {
      "@type": "type.googleapis.com/envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig",
    };
    const result = validateBootstrap(config);
    assert.equal(result.ok, true, show(result.errors));
    assertIssue(result.warnings, `${HCM}.access_log[0].typed_config.@type`, /content was not checked/);
    assert.equal(validateBootstrap(config, { strict: true }).ok, false);
  });
});

describe("validateBootstrap: the blog post's v2 configs", () => {
  for (const name of SEED_V2_CONFIGS) {
    it(`refuses ${name} for the reasons Envoy gives`, () => {
      const report = validateBootstrapFile(fixture(name));
      const { ok, errors } = report.documents[0].result;
      assert.equal(ok, false);
      assertIssue(errors, "static_resources.clusters[0].hosts", /unknown field "hosts".*load_assignment/);
      const filter = name.includes("front-envoy")
        ? `${LISTENER}.filter_chains.filters[0]`
        : `${LISTENER}.filter_chains[0].filters[0]`;
      assertIssue(errors, `${filter}.config`, /unknown field "config".*typed_config/);
      assertIssue(errors, filter, /'envoy.http_connection_manager' has no typed_config/);
      assertIssue(errors, `${filter}.config.http_filters[0]`, /'envoy.router' has no typed_config/);
    });
  }

  it("takes the front proxy's filter_chains written as one mapping instead of a list, as Envoy does", () => {
    const { errors } = validateBootstrapFile(fixture("v2/front-envoy.yaml")).documents[0].result;
    assert.deepEqual(
      errors.filter((e) => e.path === `${LISTENER}.filter_chains`),
      [],
      "protobuf's JSON parser in Envoy reads a single element as a list of one",
    );
  });

  it("warns about the deprecated admin.access_log_path, and fails on it with strict", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    config.admin.access_log_path = "/dev/stdout";
    const lenient = validateBootstrap(config);
    assert.equal(lenient.ok, true);
    assertIssue(lenient.warnings, "admin.access_log_path", /deprecated/);
    const strict = validateBootstrap(config, { strict: true });
    assert.equal(strict.ok, false);
    assertIssue(strict.errors, "admin.access_log_path", /deprecated/);
    assert.deepEqual(strict.warnings, []);
  });
});

interface Mutation {
  /** The check the mutation must trip (one row per check of the requirement). */
  readonly check: string;
  readonly fixture?: string;
  readonly mutate: (config: any) => void;
  readonly path: string;
  readonly message: RegExp;
  /** Whether the issue is a warning (then --strict turns it into an error). Default: false. */
  readonly warning?: boolean;
}

const ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router";

const MUTATIONS: readonly Mutation[] = [
  // 1. proto3 JSON mapping
  {
    check: "unknown field",
    mutate: (c) => (c.static_resources.clusters[0].hosts = [{ socket_address: { address: "a", port_value: 1 } }]),
    path: `${CLUSTER}.hosts`,
    message: /unknown field "hosts" in envoy.config.cluster.v3.Cluster/,
  },
  {
    check: "misspelled field name gets a suggestion",
    mutate: (c) => (c.static_resources.clusters[0].conect_timeout = "1s"),
    path: `${CLUSTER}.conect_timeout`,
    message: /unknown field "conect_timeout".*did you mean "connect_timeout"/,
  },
  {
    check: "misspelled @type in Any",
    mutate: (c) => (hcm(c).http_filters[0].typed_config["@type"] = `${ROUTER_TYPE.slice(0, -1)}e`),
    path: `${HCM}.http_filters[0].typed_config.@type`,
    message: /unknown type "type.googleapis.com\/envoy.extensions.filters.http.router.v3.Routee".*did you mean ".*router.v3.Router"/,
  },
  {
    check: "Any without @type",
    mutate: (c) => delete hcm(c).http_filters[0].typed_config["@type"],
    path: `${HCM}.http_filters[0].typed_config`,
    message: /missing "@type"/,
  },
  {
    check: "wrong value type",
    mutate: (c) => (endpoint(c).port_value = "eighty"),
    path: `${ENDPOINT}.port_value`,
    message: /expected an integer \(uint32\), got the string "eighty"/,
  },
  {
    check: "wrong value type for a list",
    mutate: (c) => (route(c).match = { prefix: "/", headers: "x-user" }),
    path: `${ROUTE}.match.headers`,
    message: /expected an object \(envoy.config.route.v3.HeaderMatcher\), got the string "x-user"/,
  },
  {
    check: "malformed duration",
    mutate: (c) => (c.static_resources.clusters[0].connect_timeout = "250ms"),
    path: `${CLUSTER}.connect_timeout`,
    message: /malformed duration "250ms".*"0.25s"/,
  },
  {
    check: "unknown enum name",
    mutate: (c) => (c.static_resources.clusters[0].lb_policy = "ROUND_ROBBIN"),
    path: `${CLUSTER}.lb_policy`,
    message: /unknown value "ROUND_ROBBIN" for enum envoy.config.cluster.v3.Cluster.LbPolicy; expected one of ROUND_ROBIN/,
  },
  {
    check: "two members of one oneof",
    mutate: (c) => (route(c).match.path = "/exact"),
    path: `${ROUTE}.match.path`,
    message: /"path" and "prefix" are both set.*oneof "path_specifier"/,
  },
  // 2. protoc-gen-validate rules
  {
    check: "required message",
    mutate: (c) => delete route(c).match,
    path: `${ROUTE}.match`,
    message: /required field "match" \(envoy.config.route.v3.RouteMatch\) is missing/,
  },
  {
    check: "required duration",
    mutate: (c) =>
      (c.static_resources.clusters[0].health_checks = [
        { interval: "5s", healthy_threshold: 1, unhealthy_threshold: 2, http_health_check: { path: "/ready" } },
      ]),
    path: `${CLUSTER}.health_checks[0].timeout`,
    message: /required field "timeout" \(google.protobuf.Duration\) is missing/,
  },
  {
    check: "string length",
    mutate: (c) => (hcm(c).stat_prefix = ""),
    path: `${HCM}.stat_prefix`,
    message: /at least 1 character long, got the string ""/,
  },
  {
    check: "string length of an unset field (rules apply to the default)",
    mutate: (c) => delete hcm(c).stat_prefix,
    path: `${HCM}.stat_prefix`,
    message: /at least 1 character long/,
  },
  {
    check: "repeated length",
    mutate: (c) => (hcm(c).route_config.virtual_hosts[0].domains = []),
    path: `${HCM}.route_config.virtual_hosts[0].domains`,
    message: /at least 1 item, got 0/,
  },
  {
    check: "numeric bound",
    mutate: (c) => (endpoint(c).port_value = 70000),
    path: `${ENDPOINT}.port_value`,
    message: /at most 65535, got 70000/,
  },
  {
    check: "duration bound",
    mutate: (c) => (c.static_resources.clusters[0].connect_timeout = "0s"),
    path: `${CLUSTER}.connect_timeout`,
    message: /greater than "0s", got "0s"/,
  },
  {
    check: "defined-only enum",
    mutate: (c) => (c.static_resources.clusters[0].lb_policy = 42),
    path: `${CLUSTER}.lb_policy`,
    message: /42 is not a defined value of enum envoy.config.cluster.v3.Cluster.LbPolicy/,
  },
  {
    check: "required oneof",
    mutate: (c) => delete endpoint(c).port_value,
    path: ENDPOINT,
    message: /one of "port_value", "named_port" must be set/,
  },
  {
    check: "well-known regex (HTTP header name)",
    mutate: (c) => (route(c).match.headers = [{ name: "x-bad\nheader", present_match: true }]),
    path: `${ROUTE}.match.headers[0].name`,
    message: /valid HTTP header name/,
  },
  // 3. Envoy's load-time checks
  {
    check: "route to a cluster that does not exist",
    mutate: (c) => (route(c).route.cluster = "service_z"),
    path: `${ROUTE}.route.cluster`,
    message: /route: unknown cluster 'service_z'/,
  },
  {
    check: "weighted route to a cluster that does not exist",
    mutate: (c) =>
      (route(c).route = {
        weighted_clusters: {
          clusters: [
            { name: "service_a", weight: 90 },
            { name: "service_z", weight: 10 },
          ],
        },
      }),
    path: `${ROUTE}.route.weighted_clusters.clusters[1].name`,
    message: /route: unknown weighted cluster 'service_z'/,
  },
  {
    check: "duplicate cluster names",
    mutate: (c) => c.static_resources.clusters.push(structuredClone(c.static_resources.clusters[0])),
    path: "static_resources.clusters[1].name",
    message: /duplicate cluster 'service_a'/,
  },
  {
    check: "two listeners on one address and port",
    mutate: (c) => {
      const copy = structuredClone(c.static_resources.listeners[0]);
      copy.name = "second";
      c.static_resources.listeners.push(copy);
    },
    path: "static_resources.listeners[1].address",
    message: /'second' has duplicate address '0.0.0.0:8080' as existing listener 'front_http'/,
  },
  {
    check: "router not the last HTTP filter",
    mutate: (c) =>
      hcm(c).http_filters.push({
        name: "envoy.filters.http.cors",
        typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors" },
      }),
    path: `${HCM}.http_filters[0]`,
    message: /terminal filter named envoy.filters.http.router .* must be the last filter in a http filter chain/,
  },
  {
    check: "a non-terminal HTTP filter last",
    mutate: (c) =>
      hcm(c).http_filters.push({
        name: "envoy.filters.http.cors",
        typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors" },
      }),
    path: `${HCM}.http_filters[1]`,
    message: /non-terminal filter named envoy.filters.http.cors .* is the last filter in a http filter chain/,
  },
  {
    check: "filter without typed_config",
    mutate: (c) => delete hcm(c).http_filters[0].typed_config,
    path: `${HCM}.http_filters[0]`,
    message: /'envoy.filters.http.router' has no typed_config/,
  },
  {
    check: "an extension of the wrong kind in a slot",
    mutate: (c) => (hcm(c).http_filters[0].typed_config = { "@type": "type.googleapis.com/envoy.extensions.filters.network.echo.v3.Echo" }),
    path: `${HCM}.http_filters[0].typed_config`,
    message: /envoy.extensions.filters.network.echo.v3.Echo is not an HTTP filter/,
  },
  {
    check: "two filter chains with the same match",
    mutate: (c) => c.static_resources.listeners[0].filter_chains.push(structuredClone(c.static_resources.listeners[0].filter_chains[0])),
    path: `${LISTENER}.filter_chains[1]`,
    message: /multiple filter chains with the same matching rules are defined/,
  },
  {
    check: "one domain in two virtual hosts",
    mutate: (c) => hcm(c).route_config.virtual_hosts.push({ name: "other", domains: ["*"], routes: [] }),
    path: `${HCM}.route_config.virtual_hosts[1].domains[0]`,
    message: /Only unique values for domains are permitted. Duplicate entry of domain \*/,
  },
  {
    check: "STATIC cluster whose address is not an IP literal",
    fixture: "v3/service-a.yaml",
    mutate: (c) => (endpoint(c, 0).address = "localhost"),
    path: `${CLUSTER}.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address`,
    message: /malformed IP address: localhost/,
  },
  {
    check: "listener address that is not an IP literal",
    mutate: (c) => (c.static_resources.listeners[0].address.socket_address.address = "localhost"),
    path: `${LISTENER}.address.socket_address.address`,
    message: /malformed IP address: localhost/,
  },
  // 4. deprecations
  {
    check: "deprecated field",
    mutate: (c) => (c.admin.access_log_path = "/dev/null"),
    path: "admin.access_log_path",
    message: /"access_log_path" is deprecated \(envoy.config.bootstrap.v3.Admin.access_log_path, since API v3.0\)/,
    warning: true,
  },
  {
    check: "deprecated enum value",
    mutate: (c) =>
      (c.dynamic_resources = {
        cds_config: { resource_api_version: "V2", path_config_source: { path: "/etc/envoy/cds.yaml" } },
      }),
    path: "dynamic_resources.cds_config.resource_api_version",
    message: /enum value V2 is deprecated \(envoy.config.core.v3.ConfigSource.resource_api_version/,
    warning: true,
  },
  {
    check: "deprecated default enum value that Envoy disallows",
    mutate: (c) =>
      (c.dynamic_resources = {
        ads_config: { transport_api_version: "V3", grpc_services: [{ envoy_grpc: { cluster_name: "service_a" } }] },
      }),
    path: "dynamic_resources.ads_config",
    message: /"api_type" is unset and its default DEPRECATED_AND_UNAVAILABLE_DO_NOT_USE is deprecated.*disallowed by default/,
  },
];

describe("validateBootstrap: single-mistake mutations of a good config", () => {
  for (const m of MUTATIONS) {
    it(`refuses: ${m.check}`, () => {
      const config = loadFixture(m.fixture ?? "v3/front-proxy.yaml");
      assertClean(validateBootstrap(config));
      m.mutate(config);
      const result = validateBootstrap(config);
      if (m.warning) {
        assert.equal(result.ok, true, show(result.errors));
        assertIssue(result.warnings, m.path, m.message);
        const strict = validateBootstrap(config, { strict: true });
        assert.equal(strict.ok, false);
        assertIssue(strict.errors, m.path, m.message);
      } else {
        assert.equal(result.ok, false);
        assertIssue(result.errors, m.path, m.message);
      }
    });
  }

  it("reports every mistake of a config at once, each at its own path", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    config.static_resources.clusters[0].connect_timeout = "250ms";
    route(config).route.cluster = "service_z";
    endpoint(config).port_value = 70000;
    const { errors } = validateBootstrap(config);
    assertIssue(errors, `${CLUSTER}.connect_timeout`, /malformed duration/);
    assertIssue(errors, `${ROUTE}.route.cluster`, /unknown cluster/);
    assertIssue(errors, `${ENDPOINT}.port_value`, /at most 65535/);
  });

  it("uses the field names as written in the input in paths", () => {
    const config = JSON.parse(JSON.stringify(loadFixture("v3/front-proxy.yaml")).replace('"connect_timeout"', '"connectTimeout"'));
    config.static_resources.clusters[0].connectTimeout = "1m";
    assertIssue(validateBootstrap(config).errors, `${CLUSTER}.connectTimeout`, /malformed duration "1m"/);
  });

  it("respects validate_clusters: false on an inline route table", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    route(config).route.cluster = "service_z";
    hcm(config).route_config.validate_clusters = false;
    assertClean(validateBootstrap(config));
  });

  it("is deterministic: the same input gives the same result", () => {
    const config = loadFixture("v2/service-a.yaml");
    assert.deepEqual(validateBootstrap(config), validateBootstrap(structuredClone(config)));
  });

  it("refuses a document that is not an object", () => {
    for (const doc of ["just a string", 42, [1, 2], null]) {
      const result = validateBootstrap(doc);
      assert.equal(result.ok, false);
      assertIssue(result.errors, "", /expected a bootstrap config object/);
    }
  });
});
