import assert from "node:assert/strict";
import { validateBootstrap } from "../../../checks/envoy";
import { comparePaths } from "../../../checks/envoy/issues";
import { editDistance, suggest } from "../../../checks/suggest";
import { loadFixture } from "./fixtures";


const HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";

function withProtocolOptions(sniHeader: string): any {
  const config = loadFixture("v3/front-proxy.yaml");
  config.static_resources.clusters[0].typed_extension_protocol_options = {
    [HTTP_OPTIONS]: {
      "@type": `type.googleapis.com/${HTTP_OPTIONS}`,
      upstream_http_protocol_options: { auto_sni: true, override_auto_sni_header: sniHeader },
      explicit_http_config: { http2_protocol_options: {} },
    },
  };
  return config;
}

describe("protoc-gen-validate rules", () => {
  it("skips a string rule marked ignore_empty when the string is empty", () => {
    const result = validateBootstrap(withProtocolOptions(""));
    assert.deepEqual(result.errors, []);
  });

  it("applies the same rule to a non-empty string, inside an Any held in a map", () => {
    const { errors } = validateBootstrap(withProtocolOptions("bad header"));
    assert.deepEqual(errors, [
      {
        path: `static_resources.clusters[0].typed_extension_protocol_options["${HTTP_OPTIONS}"].upstream_http_protocol_options.override_auto_sni_header`,
        message: 'must be a valid HTTP header name, got the string "bad header"',
      },
    ]);
  });

  it("applies rules to a field with explicit presence only when it is set", () => {
    // LeastRequestLbConfig.choice_count is a UInt32Value with gte 2: unset means "the default".
    const config = loadFixture("v3/front-proxy.yaml");
    const cluster = config.static_resources.clusters[0];
    cluster.lb_policy = "LEAST_REQUEST";
    cluster.least_request_lb_config = {};
    assert.deepEqual(validateBootstrap(config).errors, []);
    cluster.least_request_lb_config.choice_count = 1;
    assert.deepEqual(validateBootstrap(config).errors, [
      { path: "static_resources.clusters[0].least_request_lb_config.choice_count", message: "must be at least 2, got 1" },
    ]);
  });

  it("checks rules on wrapper types against the wrapped value", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    config.static_resources.clusters[0].outlier_detection = { max_ejection_percent: 101 };
    assert.deepEqual(validateBootstrap(config).errors, [
      { path: "static_resources.clusters[0].outlier_detection.max_ejection_percent", message: "must be at most 100, got 101" },
    ]);
  });

  it("reads 64-bit integers exactly and checks their range", () => {
    const config = loadFixture("v3/front-proxy.yaml");
    config.static_resources.clusters[0].max_requests_per_connection = "18446744073709551616";
    const { errors } = validateBootstrap(config);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].path, "static_resources.clusters[0].max_requests_per_connection");
  });
});

describe("issue paths and suggestions", () => {
  it("sorts paths with list indexes numerically", () => {
    const paths = ["a[10].b", "a[2]", "a", "a[2].c", "b"];
    assert.deepEqual([...paths].sort(comparePaths), ["a", "a[2]", "a[2].c", "a[10].b", "b"]);
  });

  it("suggests a close name, ignoring case and underscores, and nothing for an unrelated one", () => {
    assert.equal(suggest("conect_timeout", ["connect_timeout", "name"]), "connect_timeout");
    assert.equal(suggest("ConnectTimeout", ["connect_timeout", "name"]), "connect_timeout");
    assert.equal(suggest("hosts", ["connect_timeout", "name", "load_assignment"]), undefined);
    assert.equal(editDistance("kitten", "sitting"), 3);
  });
});
