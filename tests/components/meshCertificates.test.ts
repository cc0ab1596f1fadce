import "reflect-metadata";
import { strict as assert } from "node:assert";
import { X509Certificate, createPublicKey } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as x509 from "@peculiar/x509";
import { MeshCertificates, type MeshCertificatesArgs } from "../../components";
import { checkProvidedPair } from "../../components/meshCertificates";
import { spiffeId } from "../../envoy/identity";
import { LOCAL_EDGE_CERTIFICATE, type CertificateSources } from "../../stack/targets";
import { DEFAULT_SECURITY, parseTopology, type Topology } from "../../topology";
import { installMocks, isSecret, promiseOf, type Registered } from "../helpers/pulumiMocks";
import { TLS_TYPES, tlsProviderOutputs } from "../helpers/tlsProvider";

const NAMESPACE = "shop";
/** The seed mesh: front proxy, service-a, service-b, service-c. */
const seed = () => parseTopology(undefined);
const PROXIES = ["front-envoy", "service-a", "service-b", "service-c"];
const LOCAL: CertificateSources = { edge: LOCAL_EDGE_CERTIFICATE, ca: { kind: "generated" } };
const HOUR_MS = 3_600_000;
const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

interface Issued {
  readonly certificates: MeshCertificates;
  readonly resources: Registered[];
  readonly expiries: Record<string, string>;
}

async function issue(args: Partial<MeshCertificatesArgs> = {}): Promise<Issued> {
  const collect = await installMocks("dev", { outputs: tlsProviderOutputs });
  const certificates = new MeshCertificates("envoy-mesh", { topology: seed(), namespace: NAMESPACE, sources: LOCAL, ...args });
  const expiries = await promiseOf(certificates.expiries);
  return { certificates, resources: await collect(), expiries };
}

const cert = async (pem: pulumi.Output<string>) => new X509Certificate(await promiseOf(pem));
const lifetimeHours = (c: X509Certificate) => (Date.parse(c.validTo) - Date.parse(c.validFrom)) / HOUR_MS;
/** The RFC 5280 KeyUsage bits, which node's X509Certificate does not expose. */
const keyUsageBits = (c: X509Certificate) => new x509.X509Certificate(c.raw).getExtension(x509.KeyUsagesExtension)?.usages;

/** One service behind the front proxy: fewer certificates where the seed's four identities prove nothing more. */
function small(security: Record<string, unknown> = {}): Topology {
  return parseTopology({ services: [{ name: "api", appPort: 8081 }], front: { routes: [{ prefix: "/", service: "api" }] }, security });
}

describe("components/MeshCertificates", function () {
  describe("on a stack whose certificates Pulumi issues (kind, docker)", () => {
    let issued: Issued;
    let meshCa: X509Certificate;
    let edgeCa: X509Certificate;
    before(async () => {
      issued = await issue();
      meshCa = await cert(issued.certificates.identities.get("front-envoy")!.caPem);
      edgeCa = await cert(issued.certificates.edgeCaPem!);
    });

    it("creates a mesh CA: a CA certificate allowed to sign certificates, valid caValidityHours, named after the mesh and trust domain", () => {
      assert.equal(meshCa.ca, true);
      assert.equal(meshCa.checkIssued(meshCa), true);
      assert.equal(keyUsageBits(meshCa), x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature);
      assert.equal(lifetimeHours(meshCa), DEFAULT_SECURITY.certificates.caValidityHours);
      assert.equal(meshCa.subject, `O=cluster.local\nOU=${NAMESPACE}\nCN=${NAMESPACE} mesh CA`);
    });

    it("issues one identity per proxy: the front proxy and every service", () => {
      assert.deepEqual([...issued.certificates.identities.keys()], PROXIES);
    });

    for (const proxy of PROXIES) {
      describe(`the identity of ${proxy}`, () => {
        let leaf: X509Certificate;
        before(async () => {
          leaf = await cert(issued.certificates.identities.get(proxy)!.certificatePem);
        });

        it("is signed by the mesh CA", () => {
          assert.equal(leaf.verify(meshCa.publicKey), true);
          assert.equal(leaf.checkIssued(meshCa), true);
          assert.equal(leaf.ca, false);
        });

        it("carries exactly its SPIFFE ID, as its only SAN, and no subject", () => {
          assert.equal(leaf.subjectAltName, `URI:${spiffeId("cluster.local", NAMESPACE, proxy)}`);
          assert.equal(leaf.subject, undefined);
        });

        it("may serve and call (ExtKeyUsage serverAuth and clientAuth, KeyUsage digitalSignature only)", () => {
          assert.deepEqual(leaf.keyUsage, [SERVER_AUTH, CLIENT_AUTH]);
          assert.equal(keyUsageBits(leaf), x509.KeyUsageFlags.digitalSignature);
        });

        it("is valid validityHours from now", () => {
          assert.equal(lifetimeHours(leaf), DEFAULT_SECURITY.certificates.validityHours);
          assert.ok(Math.abs(Date.parse(leaf.validFrom) - Date.now()) < 60_000, leaf.validFrom);
        });

        it("has an ECDSA P-256 key, whose private half is a Pulumi secret and matches the certificate", async () => {
          const identity = issued.certificates.identities.get(proxy)!;
          assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
          assert.equal(await pulumi.isSecret(identity.privateKeyPem), true);
          const publicHalf = createPublicKey(await promiseOf(identity.privateKeyPem)).export({ type: "spki", format: "pem" });
          assert.equal(publicHalf, leaf.publicKey.export({ type: "spki", format: "pem" }));
        });

        it("reports its expiry, the certificate's own notAfter", () => {
          assert.equal(Math.floor(Date.parse(issued.expiries[proxy]) / 1000), Date.parse(leaf.validTo) / 1000);
        });
      });
    }

    it("renews each identity in its last renewBeforeHours: every leaf carries earlyRenewalHours and validityPeriodHours", () => {
      const leaves = issued.resources.filter((r) => r.type === TLS_TYPES.locallySignedCert);
      assert.equal(leaves.length, PROXIES.length + 1);
      for (const leaf of leaves) {
        assert.equal(leaf.inputs.earlyRenewalHours, DEFAULT_SECURITY.certificates.renewBeforeHours, leaf.name);
        assert.equal(leaf.inputs.validityPeriodHours, DEFAULT_SECURITY.certificates.validityHours, leaf.name);
      }
    });

    it("keeps every private key a secret in the state: the CA key it signs with as well", () => {
      for (const leaf of issued.resources.filter((r) => r.type === TLS_TYPES.locallySignedCert)) {
        assert.ok(isSecret(leaf.inputs.caPrivateKeyPem), leaf.name);
      }
    });

    describe("the edge certificate", () => {
      let edge: X509Certificate;
      before(async () => {
        const pem = issued.certificates.edge;
        assert.ok(pem?.kind === "pem");
        edge = await cert(pem.certificatePem);
      });

      it("matches localhost, 127.0.0.1 and ::1, what curl https://localhost:8443/ checks", () => {
        assert.equal(edge.checkHost("localhost"), "localhost");
        assert.equal(edge.checkIP("127.0.0.1"), "127.0.0.1");
        assert.equal(edge.checkIP("::1"), "::1");
        assert.equal(edge.checkHost("example.com"), undefined);
      });

      it("is signed by a local edge CA of its own, which the stack outputs", async () => {
        assert.equal(edge.verify(edgeCa.publicKey), true);
        assert.equal(edge.checkIssued(edgeCa), true);
        assert.equal(edgeCa.ca, true);
        const pem = issued.certificates.edge;
        assert.ok(pem?.kind === "pem" && pem.caPem !== undefined);
        assert.equal(await promiseOf(pem.caPem), await promiseOf(issued.certificates.edgeCaPem!));
      });

      it("is not trusted by the mesh CA, and the edge CA trusts no mesh identity (separate CAs)", async () => {
        assert.equal(edge.verify(meshCa.publicKey), false);
        assert.equal(edge.checkIssued(meshCa), false);
        const front = await cert(issued.certificates.identities.get("front-envoy")!.certificatePem);
        assert.equal(front.verify(edgeCa.publicKey), false);
      });

      it("may only serve (ExtKeyUsage serverAuth), for validityHours, and reports its expiry as edge", () => {
        assert.deepEqual(edge.keyUsage, [SERVER_AUTH]);
        assert.equal(edge.ca, false);
        assert.equal(lifetimeHours(edge), DEFAULT_SECURITY.certificates.validityHours);
        assert.equal(Math.floor(Date.parse(issued.expiries.edge) / 1000), Date.parse(edge.validTo) / 1000);
        assert.deepEqual(Object.keys(issued.expiries).sort(), [...PROXIES, "edge"].sort());
      });
    });

    it("names its resources after the mesh and the proxy, the same on every run", () => {
      const names = issued.resources.filter((r) => r.custom).map((r) => `${r.type.split(":")[2]}/${r.name}`).sort();
      const leaf = (n: string) => [`CertRequest/${n}`, `LocallySignedCert/${n}`, `PrivateKey/${n}`];
      const ca = (n: string) => [`PrivateKey/${n}`, `SelfSignedCert/${n}`];
      const expected = [
        ...ca("envoy-mesh-mesh-ca"),
        ...PROXIES.flatMap((p) => leaf(`envoy-mesh-${p}-identity`)),
        ...ca("envoy-mesh-edge-ca"),
        ...leaf("envoy-mesh-edge"),
      ].sort();
      assert.deepEqual(names, expected);
      assert.ok(issued.resources.filter((r) => r.custom).every((r) => r.parent?.endsWith("::envoy-mesh")), "children of the component");
    });
  });

  it("uses the topology's trust domain and lifetimes", async () => {
    const topology = small({ trustDomain: "prod.acme.example", certificates: { validityHours: 48, renewBeforeHours: 12, caValidityHours: 720 } });
    const { certificates, resources } = await issue({ topology, sources: { edge: { kind: "none" }, ca: { kind: "generated" } } });
    const leaf = await cert(certificates.identities.get("api")!.certificatePem);
    const ca = await cert(certificates.identities.get("api")!.caPem);
    assert.equal(leaf.subjectAltName, `URI:spiffe://prod.acme.example/ns/${NAMESPACE}/sa/api`);
    assert.equal(lifetimeHours(leaf), 48);
    assert.equal(lifetimeHours(ca), 720);
    assert.ok(resources.filter((r) => r.type === TLS_TYPES.locallySignedCert).every((r) => r.inputs.earlyRenewalHours === 12));
  });

  it("issues no mesh CA and no identity when mtls is off, and still the edge certificate", async () => {
    const { certificates, resources, expiries } = await issue({ topology: small({ mtls: "off" }) });
    assert.equal(certificates.identities.size, 0);
    assert.ok(!resources.some((r) => r.name.includes("mesh-ca") || r.name.endsWith("-identity")));
    assert.deepEqual(Object.keys(expiries), ["edge"]);
    assert.equal(certificates.edge?.kind, "pem");
  });

  describe("with the stack's own CA and edge certificate (cloud)", () => {
    let ownCa: { certPem: string; keyPem: string };
    let ownEdge: { certPem: string; keyPem: string };
    let issued: Issued;
    before(async () => {
      const key = async (name: string) => String((await tlsProviderOutputs({ type: TLS_TYPES.privateKey, name, inputs: { algorithm: "ECDSA", ecdsaCurve: "P256" } }))!.privateKeyPem);
      const selfSigned = async (keyPem: string, isCaCertificate: boolean) =>
        String(
          (await tlsProviderOutputs({
            type: TLS_TYPES.selfSignedCert,
            name: "c",
            inputs: { privateKeyPem: keyPem, isCaCertificate, subject: { commonName: "Acme Corp mesh CA" }, dnsNames: isCaCertificate ? [] : ["shop.acme.example"], validityPeriodHours: 100, allowedUses: isCaCertificate ? ["cert_signing"] : ["server_auth"] },
          }))!.certPem,
        );
      const caKey = await key("own-ca");
      ownCa = { certPem: await selfSigned(caKey, true), keyPem: caKey };
      const edgeKey = await key("own-edge");
      ownEdge = { certPem: await selfSigned(edgeKey, false), keyPem: edgeKey };
      issued = await issue({
        topology: small(),
        sources: { edge: { kind: "provided" }, ca: { kind: "provided" } },
        caCertificatePem: ownCa.certPem,
        caPrivateKeyPem: pulumi.secret(ownCa.keyPem),
        edgeCertificatePem: ownEdge.certPem,
        edgePrivateKeyPem: pulumi.secret(ownEdge.keyPem),
      });
    });

    it("signs every identity with the stack's CA and creates no CA of its own", async () => {
      const ca = new X509Certificate(ownCa.certPem);
      assert.deepEqual([...issued.certificates.identities.keys()], ["front-envoy", "api"]);
      for (const proxy of ["front-envoy", "api"]) {
        const identity = issued.certificates.identities.get(proxy)!;
        assert.equal((await cert(identity.certificatePem)).verify(ca.publicKey), true, proxy);
        assert.equal(await promiseOf(identity.caPem), ownCa.certPem);
      }
      assert.ok(!issued.resources.some((r) => r.type === TLS_TYPES.selfSignedCert));
    });

    it("serves the stack's edge certificate and key (a secret), with no expiry of Pulumi's and no local edge CA", async () => {
      const edge = issued.certificates.edge;
      assert.ok(edge?.kind === "pem");
      assert.equal(await promiseOf(edge.certificatePem), ownEdge.certPem);
      assert.equal(await promiseOf(edge.privateKeyPem), ownEdge.keyPem);
      assert.equal(await pulumi.isSecret(edge.privateKeyPem), true);
      assert.equal(issued.certificates.edgeCaPem, undefined);
      assert.deepEqual(Object.keys(issued.expiries), ["front-envoy", "api"]);
    });

    it("refuses a private key that is not the certificate's, naming both config keys", () => {
      assert.throws(() => checkProvidedPair(ownCa.certPem, ownEdge.keyPem, "caCertificate", "caPrivateKey"), /^Error: envoy-mesh:caPrivateKey is not the private key of envoy-mesh:caCertificate$/);
      assert.throws(() => checkProvidedPair(ownCa.certPem, "not a key", "caCertificate", "caPrivateKey"), /envoy-mesh:caPrivateKey is not a PEM private key/);
      assert.equal(checkProvidedPair(ownCa.certPem, ownCa.keyPem, "caCertificate", "caPrivateKey"), ownCa.keyPem);
    });
  });

  it("names an existing Secret as the edge certificate, or none", async () => {
    const topology = small({ mtls: "off" });
    const secret = await issue({ topology, sources: { edge: { kind: "secret", name: "shop-tls" }, ca: { kind: "generated" } } });
    assert.deepEqual(secret.certificates.edge, { kind: "secret", name: "shop-tls" });
    const none = await issue({ topology, sources: { edge: { kind: "none" }, ca: { kind: "generated" } } });
    assert.equal(none.certificates.edge, undefined);
    assert.deepEqual(none.expiries, {});
    assert.deepEqual(none.resources.filter((r) => r.custom), []);
  });
});
