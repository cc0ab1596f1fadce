import assert from "node:assert/strict";
import { readConfigDocuments, validateBootstrap, validateBootstrapFile, validateResourceFile } from "../../../checks/envoy";
import type { ValidationIssue, ValidationResult } from "../../../checks/envoy";
import { fixture, loadFixture } from "./fixtures";

/** The sidecar's ingress DownstreamTlsContext and the upstream cluster's UpstreamTlsContext. */
const INGRESS_TLS = "static_resources.listeners[0].filter_chains[0].transport_socket.typed_config";
const UPSTREAM_TLS = "static_resources.clusters[1].transport_socket.typed_config";
const RBAC = "static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config";

const sidecar = (): any => loadFixture("v3/mtls-sidecar.yaml");
const ingressTls = (c: any): any => c.static_resources.listeners[0].filter_chains[0].transport_socket.typed_config;
const upstreamTls = (c: any): any => c.static_resources.clusters[1].transport_socket.typed_config;
const rbac = (c: any): any => c.static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters[0].typed_config;

function show(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("\n");
}

function assertOnly(result: ValidationResult, path: string, message: RegExp): void {
  assert.equal(result.ok, false, "expected a refusal");
  assert.equal(result.errors.length, 1, show(result.errors));
  assert.equal(result.errors[0].path, path, show(result.errors));
  assert.match(result.errors[0].message, message);
}

const strict = { strict: true } as const;

describe("validateBootstrap: mTLS, SDS and RBAC configs Envoy accepts", () => {
  for (const name of ["v3/mtls-sidecar.yaml", "v3/mtls-front.yaml"]) {
    it(`accepts ${name} in strict mode with no warning`, () => {
      const result = validateBootstrapFile(fixture(name), strict).documents[0].result;
      assert.deepEqual(result.errors, [], show(result.errors));
      assert.deepEqual(result.warnings, []);
    });
  }

  it("accepts a certificate and CA given inline as files, and static secrets named by SDS configs without sds_config", () => {
    const c = sidecar();
    c.static_resources.secrets = [
      { name: "mesh_identity", tls_certificate: { certificate_chain: { filename: "/etc/mesh/identity/tls.crt" }, private_key: { filename: "/etc/mesh/identity/tls.key" } } },
      { name: "mesh_ca", validation_context: { trusted_ca: { filename: "/etc/mesh/identity/ca.crt" } } },
    ];
    delete ingressTls(c).common_tls_context.tls_certificate_sds_secret_configs[0].sds_config;
    delete ingressTls(c).common_tls_context.validation_context_sds_secret_config.sds_config;
    const common = upstreamTls(c).common_tls_context;
    delete common.tls_certificate_sds_secret_configs;
    common.tls_certificates = [{ certificate_chain: { filename: "/c.pem" }, private_key: { filename: "/k.pem" } }];
    delete common.combined_validation_context;
    common.validation_context = {
      trusted_ca: { filename: "/ca.pem" },
      match_typed_subject_alt_names: [{ san_type: "URI", matcher: { exact: "spiffe://cluster.local/ns/default/sa/service-c" } }],
    };
    const result = validateBootstrap(c, strict);
    assert.deepEqual(result.errors, [], show(result.errors));
  });
});

describe("validateBootstrap: TLS settings Envoy refuses at load", () => {
  it("refuses validation_context and validation_context_sds_secret_config both set (one oneof)", () => {
    const c = sidecar();
    ingressTls(c).common_tls_context.validation_context = { trusted_ca: { filename: "/ca.pem" } };
    const result = validateBootstrap(c);
    assert.equal(result.ok, false);
    assert.ok(
      result.errors.some((e) => e.path.startsWith(`${INGRESS_TLS}.common_tls_context`) && /validation_context_type|oneof|validation_context/.test(e.message)),
      show(result.errors),
    );
  });

  it("refuses a server context with no certificate", () => {
    const c = sidecar();
    delete ingressTls(c).common_tls_context.tls_certificate_sds_secret_configs;
    assertOnly(validateBootstrap(c), `${INGRESS_TLS}.common_tls_context`, /^No TLS certificates found for server context/);
  });

  it("refuses SDS and inline certificates mixed in a server context", () => {
    const c = sidecar();
    ingressTls(c).common_tls_context.tls_certificates = [{ certificate_chain: { filename: "/c.pem" }, private_key: { filename: "/k.pem" } }];
    assertOnly(
      validateBootstrap(c),
      `${INGRESS_TLS}.common_tls_context.tls_certificate_sds_secret_configs`,
      /^SDS and non-SDS TLS certificates may not be mixed in server contexts$/,
    );
  });

  it("refuses a tls_certificates entry with a key but no certificate chain, and one with a chain but no key", () => {
    const c = sidecar();
    const common = upstreamTls(c).common_tls_context;
    delete common.tls_certificate_sds_secret_configs;
    common.tls_certificates = [{ private_key: { filename: "/k.pem" } }];
    assertOnly(validateBootstrap(c), `${UPSTREAM_TLS}.common_tls_context.tls_certificates[0]`, /certificate chain not set/);
    common.tls_certificates = [{ certificate_chain: { filename: "/c.pem" } }];
    assertOnly(validateBootstrap(c), `${UPSTREAM_TLS}.common_tls_context.tls_certificates[0]`, /^Failed to load incomplete private key/);
  });

  it("refuses pkcs12 together with a certificate chain", () => {
    const c = sidecar();
    const common = upstreamTls(c).common_tls_context;
    delete common.tls_certificate_sds_secret_configs;
    common.tls_certificates = [{ pkcs12: { filename: "/c.p12" }, certificate_chain: { filename: "/c.pem" } }];
    assertOnly(
      validateBootstrap(c),
      `${UPSTREAM_TLS}.common_tls_context.tls_certificates[0].certificate_chain`,
      /^Certificate configuration can't have both pkcs12 and certificate_chain$/,
    );
  });

  it("refuses two certificates in a client context", () => {
    const c = sidecar();
    const common = upstreamTls(c).common_tls_context;
    common.tls_certificate_sds_secret_configs.push({ ...common.tls_certificate_sds_secret_configs[0], name: "other" });
    assertOnly(validateBootstrap(c), `${UPSTREAM_TLS}.common_tls_context`, /^Multiple TLS certificates are not supported for client contexts/);
  });

  it("refuses an SDS config without sds_config naming no static secret", () => {
    const c = sidecar();
    delete upstreamTls(c).common_tls_context.tls_certificate_sds_secret_configs[0].sds_config;
    assertOnly(
      validateBootstrap(c),
      `${UPSTREAM_TLS}.common_tls_context.tls_certificate_sds_secret_configs[0].name`,
      /^Unknown static secret: mesh_identity/,
    );
    const d = sidecar();
    delete upstreamTls(d).common_tls_context.combined_validation_context.validation_context_sds_secret_config.sds_config;
    assertOnly(
      validateBootstrap(d),
      `${UPSTREAM_TLS}.common_tls_context.combined_validation_context.validation_context_sds_secret_config.name`,
      /^Unknown static certificate validation context: mesh_ca/,
    );
  });

  it("refuses SAN verification in an inline validation context without a trusted CA", () => {
    const c = sidecar();
    const common = upstreamTls(c).common_tls_context;
    common.validation_context = common.combined_validation_context.default_validation_context;
    delete common.combined_validation_context;
    assertOnly(
      validateBootstrap(c),
      `${UPSTREAM_TLS}.common_tls_context.validation_context.match_typed_subject_alt_names`,
      /^SAN-based verification of peer certificates without trusted CA is insecure and not allowed$/,
    );
  });

  it("refuses a SAN matcher without san_type (URI, DNS…), as its protoc-gen-validate rule does", () => {
    const c = sidecar();
    delete upstreamTls(c).common_tls_context.combined_validation_context.default_validation_context.match_typed_subject_alt_names[0].san_type;
    const result = validateBootstrap(c);
    assert.equal(result.ok, false);
    assert.ok(result.errors.some((e) => e.path.includes("match_typed_subject_alt_names[0]")), show(result.errors));
  });

  it("refuses an SNI with a NUL byte", () => {
    const c = sidecar();
    upstreamTls(c).sni = "a\u0000b";
    assertOnly(validateBootstrap(c), `${UPSTREAM_TLS}.sni`, /^SNI names containing NULL-byte are not allowed$/);
  });
});

describe("validateBootstrap: TLS settings Envoy loads but that cannot work (warnings; errors with --strict)", () => {
  it("warns that require_client_certificate without a validation context requires nothing", () => {
    const c = sidecar();
    delete ingressTls(c).common_tls_context.validation_context_sds_secret_config;
    const result = validateBootstrap(c);
    assert.deepEqual(result.errors, []);
    assert.equal(result.warnings.length, 1, show(result.warnings));
    assert.equal(result.warnings[0].path, `${INGRESS_TLS}.require_client_certificate`);
    assert.match(result.warnings[0].message, /no effect without a validation context/);
    assert.equal(validateBootstrap(c, strict).ok, false);
  });

  it("warns, with Envoy's words, when a validation context is set and require_client_certificate is not", () => {
    const c = sidecar();
    delete ingressTls(c).require_client_certificate;
    const result = validateBootstrap(c);
    assert.equal(result.warnings.length, 1, show(result.warnings));
    assert.match(result.warnings[0].message, /^Using deprecated insecure default of not requiring client cert/);
  });

  it("warns when the minimum TLS version is above the maximum, counting a client's default maximum (TLS 1.2)", () => {
    const c = sidecar();
    upstreamTls(c).common_tls_context.tls_params = { tls_minimum_protocol_version: "TLSv1_3" };
    const result = validateBootstrap(c);
    assert.equal(result.warnings.length, 1, show(result.warnings));
    assert.equal(result.warnings[0].path, `${UPSTREAM_TLS}.common_tls_context.tls_params.tls_minimum_protocol_version`);
    assert.match(result.warnings[0].message, /TLSv1_3 is above tls_maximum_protocol_version TLSv1_2 \(the default\)/);
    // A server's default maximum is TLS 1.3: the same minimum alone is fine there.
    ingressTls(c).common_tls_context.tls_params = { tls_minimum_protocol_version: "TLSv1_3" };
    assert.equal(validateBootstrap(c).warnings.length, 1);
    ingressTls(c).common_tls_context.tls_params = { tls_minimum_protocol_version: "TLSv1_3", tls_maximum_protocol_version: "TLSv1_2" };
    assert.equal(validateBootstrap(c).warnings.length, 2);
  });
});

describe("validateBootstrap: RBAC filter", () => {
  it("refuses an unknown principal key", () => {
    const c = sidecar();
    rbac(c).rules.policies["declared-callers"].principals[0] = { authenticated_name: { exact: "spiffe://x" } };
    const result = validateBootstrap(c);
    assert.equal(result.ok, false);
    assert.ok(result.errors.some((e) => e.path.startsWith(`${RBAC}.rules.policies`) && /authenticated_name/.test(e.message)), show(result.errors));
  });

  it("refuses a principal with no identifier and a policy with no permission", () => {
    const c = sidecar();
    rbac(c).rules.policies["declared-callers"].principals[0] = {};
    rbac(c).rules.policies["declared-callers"].permissions = [];
    const result = validateBootstrap(c);
    assert.equal(result.ok, false);
    assert.ok(result.errors.some((e) => /principals\[0\]/.test(e.path)), show(result.errors));
    assert.ok(result.errors.some((e) => /permissions/.test(e.path)), show(result.errors));
  });

  it("refuses an unknown RBAC action", () => {
    const c = sidecar();
    rbac(c).rules.action = "REJECT";
    assert.equal(validateBootstrap(c).ok, false);
  });
});

describe("validateResourceFile: SDS secret files (a path_config_source's DiscoveryResponse)", () => {
  const read = (name: string): any => {
    const docs = readConfigDocuments(fixture(name));
    assert.ok(docs.ok);
    return docs.documents[0].content;
  };
  const SECRET = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret";

  for (const name of ["v3/sds-identity.yaml", "v3/sds-mesh-ca.yaml"]) {
    it(`accepts ${name} in strict mode with no warning`, () => {
      const result = validateResourceFile(read(name), strict);
      assert.deepEqual(result.errors, [], show(result.errors));
      assert.deepEqual(result.warnings, []);
    });
  }

  it("refuses two secrets in one file: an SDS config loads exactly one", () => {
    const file = read("v3/sds-identity.yaml");
    file.resources.push(read("v3/sds-mesh-ca.yaml").resources[0]);
    assertOnly(validateResourceFile(file), "resources", /^Unexpected SDS secrets length: 2/);
  });

  it("refuses a secret's certificate without its key, an unknown field and an unknown @type", () => {
    const file = read("v3/sds-identity.yaml");
    delete file.resources[0].tls_certificate.private_key;
    assertOnly(validateResourceFile(file), "resources[0].tls_certificate", /^Failed to load incomplete private key/);
    const typo = read("v3/sds-mesh-ca.yaml");
    typo.resources[0].validation_context.trusted_cas = typo.resources[0].validation_context.trusted_ca;
    assertOnly(validateResourceFile(typo), "resources[0].validation_context.trusted_cas", /unknown field/);
    const type = read("v3/sds-mesh-ca.yaml");
    type.resources[0]["@type"] = `${SECRET}s`;
    assert.equal(validateResourceFile(type).ok, false);
  });

  it("refuses a secret that holds two kinds (Secret.type is a oneof)", () => {
    const file = read("v3/sds-identity.yaml");
    file.resources[0].validation_context = read("v3/sds-mesh-ca.yaml").resources[0].validation_context;
    assert.equal(validateResourceFile(file).ok, false);
  });

  it("is not a bootstrap: validateBootstrap refuses the field resources", () => {
    assert.equal(validateBootstrap(read("v3/sds-identity.yaml")).ok, false);
  });
});
