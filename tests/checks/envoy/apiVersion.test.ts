import assert from "node:assert/strict";
import { API_PACKAGE_RELEASE, ENVOY_API_VERSION } from "../../../checks/envoy/apiVersion";
import { loadEnvoyRegistry } from "../../../checks/envoy/registry";
import { projectDefaults } from "../../../stack/defaults";

function hasField(typeName: string, field: string): boolean {
  const desc = loadEnvoyRegistry().registry.getMessage(typeName);
  assert.ok(desc, `${typeName} missing`);
  return desc.fields.some((f) => f.name === field);
}

function minor(version: string): [number, number] {
  const m = /^v?(\d+)\.(\d+)/.exec(version);
  assert.ok(m, `not a version: ${version}`);
  return [Number(m[1]), Number(m[2])];
}

describe("Envoy API version of the protos", () => {
  it("is determined for the installed package release", () => {
    assert.equal(loadEnvoyRegistry().packageVersion, API_PACKAGE_RELEASE);
  });

  it(`has the API additions of Envoy v${ENVOY_API_VERSION}.0`, () => {
    assert.ok(hasField("envoy.config.listener.v3.Listener", "bypass_overload_manager"));
    assert.ok(hasField("envoy.config.cluster.v3.OutlierDetection", "always_eject_one_host"));
    assert.ok(hasField("envoy.extensions.filters.http.ext_authz.v3.ExtAuthz", "disallowed_headers"));
  });

  it("lacks the API additions of the next release (v1.32.0)", () => {
    assert.equal(hasField("envoy.config.cluster.v3.Cluster", "dns_jitter"), false);
    assert.equal(hasField("envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext", "prefer_client_ciphers"), false);
  });

  it("is not newer than the Envoy image the project deploys", () => {
    const tag = projectDefaults().envoyImage.split(":")[1] ?? "";
    const [imageMajor, imageMinor] = minor(tag);
    const [apiMajor, apiMinor] = minor(ENVOY_API_VERSION);
    assert.ok(imageMajor > apiMajor || (imageMajor === apiMajor && imageMinor >= apiMinor), `${projectDefaults().envoyImage} is older than v${ENVOY_API_VERSION}`);
  });
});
