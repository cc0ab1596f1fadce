import "reflect-metadata";
import { strict as assert } from "node:assert";
import { isKubernetesStack, parseStackSettings, type KubernetesStackSettings } from "../../stack";
import { ConfigError, type ConfigIssue } from "../../topology";
import { TLS_TYPES, tlsProviderOutputs } from "../helpers/tlsProvider";

type Values = Record<string, unknown>;
const CLOUD = { target: "cloud", registry: "ghcr.io/acme" };
const SECRET = { secure: "v1:AAAA" };

function kube(values: Values): KubernetesStackSettings {
  const settings = parseStackSettings(values);
  assert.ok(isKubernetesStack(settings));
  return settings;
}

function issues(values: Values): ConfigIssue[] {
  try {
    parseStackSettings(values);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return [...error.issues];
  }
  assert.fail("expected the stack config to be refused");
}

/** The one problem of `values`, which must be at `key`. */
function onlyIssue(values: Values, key: string): string {
  const found = issues(values);
  assert.deepEqual(found.map((i) => i.path), [`envoy-mesh:${key}`], found.map((i) => `${i.path}: ${i.message}`).join("\n"));
  return found[0].message;
}

async function certificate(isCaCertificate: boolean, validityPeriodHours = 24): Promise<string> {
  const key = await tlsProviderOutputs({ type: TLS_TYPES.privateKey, name: "k", inputs: { algorithm: "ECDSA", ecdsaCurve: "P256" } });
  const cert = await tlsProviderOutputs({
    type: TLS_TYPES.selfSignedCert,
    name: "c",
    inputs: { privateKeyPem: key?.privateKeyPem, isCaCertificate, subject: { commonName: isCaCertificate ? "Acme CA" : "shop.acme.example" }, validityPeriodHours, allowedUses: ["cert_signing", "server_auth"] },
  });
  return String(cert?.certPem);
}

describe("stack/settings: certificates on a cloud stack", () => {
  let caPem: string;
  let leafPem: string;
  let expiredCaPem: string;
  before(async () => {
    [caPem, leafPem, expiredCaPem] = await Promise.all([certificate(true), certificate(false), certificate(true, 0)]);
  });

  it("has Pulumi create the mesh CA and no HTTPS at the edge by default", () => {
    const settings = kube(CLOUD);
    assert.deepEqual(settings.certificates, { edge: { kind: "none" }, ca: { kind: "generated" } });
    assert.equal(settings.mesh.edgeHttpsPort, undefined);
  });

  it("takes the stack's CA: caCertificate (plain or secret) with the secret caPrivateKey", () => {
    assert.deepEqual(kube({ ...CLOUD, caCertificate: caPem, caPrivateKey: SECRET }).certificates.ca, { kind: "provided" });
    assert.deepEqual(kube({ ...CLOUD, caCertificate: SECRET, caPrivateKey: SECRET }).certificates.ca, { kind: "provided" });
  });

  it("serves the stack's edge certificate on port 443: edgeCertificate with the secret edgePrivateKey", () => {
    const settings = kube({ ...CLOUD, edgeCertificate: `${leafPem}${caPem}`, edgePrivateKey: SECRET });
    assert.deepEqual(settings.certificates.edge, { kind: "provided" });
    assert.equal(settings.mesh.edgeHttpsPort, 443);
  });

  it("serves an existing Secret on port 443: edgeCertificateSecret", () => {
    const settings = kube({ ...CLOUD, edgeCertificateSecret: "shop-tls" });
    assert.deepEqual(settings.certificates.edge, { kind: "secret", name: "shop-tls" });
    assert.equal(settings.mesh.edgeHttpsPort, 443);
  });

  it("refuses half a pair, naming the missing key", () => {
    assert.match(onlyIssue({ ...CLOUD, caCertificate: caPem }, "caPrivateKey"), /^not set, while caCertificate is: .*pulumi config set --secret caPrivateKey < ca\.key/);
    assert.match(onlyIssue({ ...CLOUD, caPrivateKey: SECRET }, "caCertificate"), /^not set, while caPrivateKey is/);
    assert.match(onlyIssue({ ...CLOUD, edgeCertificate: leafPem }, "edgePrivateKey"), /^not set, while edgeCertificate is/);
    assert.match(onlyIssue({ ...CLOUD, edgePrivateKey: SECRET }, "edgeCertificate"), /^not set, while edgePrivateKey is/);
  });

  it("refuses private keys that are not secrets", () => {
    assert.match(onlyIssue({ ...CLOUD, caCertificate: caPem, caPrivateKey: "-----BEGIN EC PRIVATE KEY-----" }, "caPrivateKey"), /^must be a secret: set it with pulumi config set --secret caPrivateKey < ca\.key$/);
    assert.match(onlyIssue({ ...CLOUD, edgeCertificate: leafPem, edgePrivateKey: "k" }, "edgePrivateKey"), /^must be a secret/);
  });

  it("refuses the edge PEMs and an edge Secret together", () => {
    assert.match(onlyIssue({ ...CLOUD, edgeCertificate: leafPem, edgePrivateKey: SECRET, edgeCertificateSecret: "shop-tls" }, "edgeCertificateSecret"), /^set together with edgeCertificate/);
  });

  it("refuses a Secret name that Kubernetes would refuse, naming it", () => {
    assert.match(onlyIssue({ ...CLOUD, edgeCertificateSecret: "Shop_TLS" }, "edgeCertificateSecret"), /^"Shop_TLS" is not a valid Secret name/);
  });

  it("refuses a caCertificate that is not a PEM certificate, that is not a CA, or that has expired", () => {
    assert.match(onlyIssue({ ...CLOUD, caCertificate: "hello", caPrivateKey: SECRET }, "caCertificate"), /^"hello" is not a PEM certificate/);
    const broken = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----";
    assert.match(onlyIssue({ ...CLOUD, caCertificate: broken, caPrivateKey: SECRET }, "caCertificate"), /^certificate 1 of "-----BEGIN CERTIFICATE-----\\\\nAAAA" does not parse/);
    assert.match(onlyIssue({ ...CLOUD, caCertificate: leafPem, caPrivateKey: SECRET }, "caCertificate"), /^the certificate of "CN=shop.acme.example" is not a CA/);
    assert.match(onlyIssue({ ...CLOUD, caCertificate: expiredCaPem, caPrivateKey: SECRET }, "caCertificate"), /^the certificate of "CN=Acme CA" expired on /);
    assert.match(onlyIssue({ ...CLOUD, edgeCertificate: "hello", edgePrivateKey: SECRET }, "edgeCertificate"), /is not a PEM certificate/);
  });

  it("lists every certificate problem at once, with the registry's", () => {
    const found = issues({ target: "cloud", caCertificate: "hello", edgePrivateKey: SECRET, edgeCertificateSecret: "Bad!" });
    assert.deepEqual(found.map((i) => i.path), ["envoy-mesh:registry", "envoy-mesh:caPrivateKey", "envoy-mesh:caCertificate", "envoy-mesh:edgeCertificate", "envoy-mesh:edgeCertificateSecret", "envoy-mesh:edgeCertificateSecret"]);
  });

  it("refuses plainHttp redirect or off without an edge certificate, naming topology.front.plainHttp", () => {
    for (const mode of ["redirect", "off"]) {
      const message = onlyIssue({ ...CLOUD, topology: { extends: "seed", front: { plainHttp: mode } } }, "topology.front.plainHttp");
      assert.match(message, new RegExp(`^"${mode}" needs HTTPS at the edge, and this stack has no edge certificate: set envoy-mesh:edgeCertificate`));
    }
    assert.equal(kube({ ...CLOUD, edgeCertificateSecret: "shop-tls", topology: { extends: "seed", front: { plainHttp: "redirect" } } }).topology.front.plainHttp, "redirect");
    assert.equal(kube({ target: "kind", topology: { extends: "seed", front: { plainHttp: "off" } } }).topology.front.plainHttp, "off");
  });

  for (const target of ["kind", "docker"]) {
    it(`refuses the certificate keys on ${target}, whose certificates Pulumi issues`, () => {
      assert.match(onlyIssue({ target, edgeCertificateSecret: "shop-tls" }, "edgeCertificateSecret"), /^only applies to target cloud$/);
      const found = issues({ target, caCertificate: caPem, caPrivateKey: SECRET });
      assert.deepEqual(found.map((i) => `${i.path}: ${i.message}`), ["envoy-mesh:caCertificate: only applies to target cloud", "envoy-mesh:caPrivateKey: only applies to target cloud"]);
    });
  }
});
