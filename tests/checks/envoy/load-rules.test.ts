import assert from "node:assert/strict";
import { validateBootstrap, validateBootstrapFile } from "../../../checks/envoy";
import type { ValidationIssue, ValidationResult } from "../../../checks/envoy";
import { fixture, loadFixture } from "./fixtures";

const LISTENER = "static_resources.listeners[0]";
const HCM = `${LISTENER}.filter_chains[0].filters[0].typed_config`;
const ROUTE = `${HCM}.route_config.virtual_hosts[0].routes[0]`;
const CLUSTER = "static_resources.clusters[0]";

const hcm = (c: any): any => c.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
const route = (c: any): any => hcm(c).route_config.virtual_hosts[0].routes[0];

const UDP_PROXY = "type.googleapis.com/envoy.extensions.filters.udp.udp_proxy.v3.UdpProxyConfig";
const TLS_INSPECTOR = "type.googleapis.com/envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector";

function show(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("\n");
}

function assertErrors(result: ValidationResult, expected: readonly [string, RegExp][]): void {
  assert.equal(result.ok, false);
  assert.equal(result.errors.length, expected.length, show(result.errors));
  for (const [path, message] of expected) {
    assert.ok(
      result.errors.some((e) => e.path === path && message.test(e.message)),
      `expected an error at ${path} matching ${message}, got:\n${show(result.errors)}`,
    );
  }
}

function assertNoErrors(result: ValidationResult): void {
  assert.deepEqual(result.errors, [], show(result.errors));
  assert.equal(result.ok, true);
}

function withRegex(regex: string): any {
  const config = loadFixture("v3/front-proxy.yaml");
  route(config).match = { safe_regex: { regex } };
  return config;
}

describe("validateBootstrap: Envoy's own example configs", () => {
  it("accepts the UDP proxy example, whose listener_filters hold the UDP proxy", () => {
    const result = validateBootstrapFile(fixture("envoy-examples/udp.yaml")).documents[0].result;
    assertNoErrors(result);
  });

  it("accepts the HTTP/3 example: HTTP3 codec on the QUIC listener, HTTP2 on the TCP one", () => {
    const result = validateBootstrapFile(fixture("envoy-examples/http3-downstream.yaml")).documents[0].result;
    assertNoErrors(result);
  });
});

describe("validateBootstrap: what Envoy accepts", () => {
  it("reads a single element where a list belongs as a list of one (protobuf's legacy JSON syntax)", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    config.static_resources.clusters = config.static_resources.clusters[0];
    hcm(config).route_config.virtual_hosts[0].domains = "*";
    hcm(config).route_config.virtual_hosts = hcm(config).route_config.virtual_hosts[0];
    const result = validateBootstrap(config);
    assertNoErrors(result);
    assert.deepEqual(result.warnings, []);
  });

  it("still checks the content of a single element given for a list, at its path as written", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    config.static_resources.clusters = config.static_resources.clusters[0];
    config.static_resources.clusters.lb_policy = "ROUND_ROBBIN";
    assertErrors(validateBootstrap(config), [["static_resources.clusters.lb_policy", /unknown value "ROUND_ROBBIN"/]]);
  });

  it("accepts RE2 syntax that JavaScript's RegExp lacks", () => {
    for (const regex of ["^/users/(?P<id>\\d+)$", "\\pN+", "(?i)^/api", "\\Q.*\\E", "a{2,5}?\\z"]) {
      assertNoErrors(validateBootstrap(withRegex(regex)));
    }
  });
});

describe("validateBootstrap: what Envoy refuses at load", () => {
  it("reports an unknown @type once, as unknown, not as a missing typed_config", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    hcm(config).http_filters[0].typed_config["@type"] = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Routr";
    assertErrors(validateBootstrap(config), [[`${HCM}.http_filters[0].typed_config.@type`, /unknown type .*did you mean/]]);
  });

  it("refuses a UDP proxy on a TCP listener, saying what a UDP listener filter needs", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    config.static_resources.listeners[0].listener_filters = [
      { name: "udp", typed_config: { "@type": UDP_PROXY, stat_prefix: "s", cluster: "service_a" } },
    ];
    const result = validateBootstrap(config);
    assertErrors(result, [
      [`${LISTENER}.listener_filters[0].typed_config`, /UdpProxyConfig is not a listener filter.*protocol: UDP.*Didn't find a registered implementation/],
    ]);
  });

  it("refuses a TCP listener filter on a UDP listener", () => {
    const config = loadFixture("envoy-examples/udp.yaml");
    config.static_resources.listeners[0].listener_filters.push({ name: "tls", typed_config: { "@type": TLS_INSPECTOR } });
    assertErrors(validateBootstrap(config), [
      [`${LISTENER}.listener_filters[1].typed_config`, /TlsInspector is not a UDP listener filter/],
    ]);
  });

  it("refuses a regex RE2 does not compile, with RE2's message", () => {
    const cases: [string, string][] = [
      ["(abc", "missing ): (abc"],
      ["^/(a)\\1$", "invalid escape sequence: \\1"],
      ["^/a(?=b)", "invalid perl operator: (?="],
      ["^/a**", "bad repetition operator: **"],
      ["^/[z-a]", "invalid character class range: z-a"],
    ];
    for (const [regex, re2Message] of cases) {
      assertErrors(validateBootstrap(withRegex(regex)), [
        [`${ROUTE}.match.safe_regex.regex`, new RegExp(`not a valid RE2 regex \\(Envoy: ${re2Message.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)`)],
      ]);
    }
  });

  it("refuses the HTTP/3 codec on a listener that is not QUIC", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    hcm(config).codec_type = "HTTP3";
    assertErrors(validateBootstrap(config), [[`${HCM}.codec_type`, /^HTTP\/3 codec configured on non-QUIC listener\./]]);
  });

  it("refuses another codec on a QUIC listener", () => {
    const config = loadFixture("envoy-examples/http3-downstream.yaml");
    const quicHcm = config.static_resources.listeners[1].filter_chains[0].filters[0].typed_config;
    quicHcm.codec_type = "AUTO";
    assertErrors(validateBootstrap(config), [
      [
        "static_resources.listeners[1].filter_chains[0].filters[0].typed_config.codec_type",
        /^Non-HTTP\/3 codec configured on QUIC listener\./,
      ],
    ]);
  });

  it("refuses an EDS cluster without eds_cluster_config", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    config.static_resources.clusters[0].type = "EDS";
    delete config.static_resources.clusters[0].load_assignment;
    assertErrors(validateBootstrap(config), [[`${CLUSTER}.type`, /^cannot create an EDS cluster without an EDS config/]]);
    config.static_resources.clusters[0].eds_cluster_config = { eds_config: { ads: {} } };
    assertNoErrors(validateBootstrap(config));
  });
});

describe("validateBootstrap: listener filter hints", () => {
  it("gives the UDP hint only for a UDP listener filter", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    config.static_resources.listeners[0].listener_filters = [
      { name: "echo", typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.network.echo.v3.Echo" } },
    ];
    const [error] = validateBootstrap(config).errors;
    assert.match(error.message, /^envoy.extensions.filters.network.echo.v3.Echo is not a listener filter \(Envoy: /);
  });
});
