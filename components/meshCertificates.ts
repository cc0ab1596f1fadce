/**
 * The mesh's certificates, issued by Pulumi with @pulumi/tls: a mesh CA (or the stack's own), one
 * leaf per identity (the front proxy and every service) whose only SAN is its SPIFFE ID, and the
 * front proxy's edge certificate as the stack's certificate sources say.
 *
 * Renewal: each leaf has `earlyRenewalHours` = `security.certificates.renewBeforeHours`. The tls
 * provider decides it at plan time (hashicorp/terraform-provider-tls internal/provider/common_cert.go
 * `modifyPlanIfCertificateReadyForRenewal`: once now is past validity end - early renewal hours,
 * the plan requires replacement), and @pulumi/tls runs that plan in every `pulumi up`'s diff
 * (pulumi/pulumi-terraform-bridge pkg/pf/tfbridge/provider_diff.go calls PlanResourceChange), so
 * the first `pulumi up` inside the window issues a new certificate, with no refresh needed. Only
 * the certificate is replaced: its key and CSR stay, so the identity keeps its key.
 */
import { X509Certificate, createPublicKey } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { spiffeId } from "../envoy/identity";
import type { CertificateSources } from "../stack/targets";
import { FRONT_PROXY_NAME, type Topology } from "../topology";
import type { EdgeCertificate, IdentityCertificate, MeshCertificateSet } from "./certificates";
import { MESH_CERTIFICATES_TYPE } from "./tokens";

/** The CA and edge certificate a stack brings (cloud); each is used only when its source says `provided`. */
export interface ProvidedCertificates {
  /** The stack's `caCertificate`, when `sources.ca` is `provided`. */
  readonly caCertificatePem?: pulumi.Input<string>;
  /** The stack's secret `caPrivateKey`, when `sources.ca` is `provided`. */
  readonly caPrivateKeyPem?: pulumi.Input<string>;
  /** The stack's `edgeCertificate` (the leaf first, then its chain), when `sources.edge` is `provided`. */
  readonly edgeCertificatePem?: pulumi.Input<string>;
  /** The stack's secret `edgePrivateKey`, when `sources.edge` is `provided`. */
  readonly edgePrivateKeyPem?: pulumi.Input<string>;
}

export interface MeshCertificatesArgs extends ProvidedCertificates {
  readonly topology: Topology;
  /** The SPIFFE namespace of every identity: the Kubernetes namespace, or the docker target's name. */
  readonly namespace: string;
  readonly sources: CertificateSources;
}

/** Every key Pulumi creates: ECDSA P-256 (fast, small, what Envoy's TLS 1.3 prefers). */
const KEY = { algorithm: "ECDSA", ecdsaCurve: "P256" } as const;
/** A CA signs certificates (and CRLs); digital_signature as Go's and OpenSSL's CAs carry it. */
const CA_USES = ["cert_signing", "crl_signing", "digital_signature"];
/** A mesh identity is both a server (its ingress) and a client (its upstream calls); ECDSA keys sign, never encipher. */
const IDENTITY_USES = ["digital_signature", "server_auth", "client_auth"];
/** The edge certificate only serves clients outside the mesh. */
const EDGE_USES = ["digital_signature", "server_auth"];

interface Signer {
  readonly certPem: pulumi.Output<string>;
  /** A Pulumi secret. */
  readonly keyPem: pulumi.Output<string>;
}

/** The CA and edge certificates of a mesh, as the deploy layers mount them. */
export class MeshCertificates extends pulumi.ComponentResource implements MeshCertificateSet {
  readonly identities: ReadonlyMap<string, IdentityCertificate>;
  readonly edge?: EdgeCertificate;
  /** When each certificate Pulumi issues expires (RFC 3339), by proxy name, and `edge` for a local edge certificate. */
  readonly expiries: pulumi.Output<Record<string, string>>;
  /** The local edge CA's certificate, which clients trust (`curl --cacert`); undefined unless the edge source is `local`. */
  readonly edgeCaPem?: pulumi.Output<string>;

  constructor(name: string, args: MeshCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super(MESH_CERTIFICATES_TYPE, name, {}, opts);
    const { topology, namespace, sources } = args;
    const { trustDomain, certificates: lifetimes } = topology.security;
    const child = { parent: this };
    const leafLifetime = { validityPeriodHours: lifetimes.validityHours, earlyRenewalHours: lifetimes.renewBeforeHours };

    const selfSignedCa = (caName: string, commonName: string): Signer => {
      const key = new tls.PrivateKey(caName, KEY, child);
      const cert = new tls.SelfSignedCert(
        caName,
        {
          privateKeyPem: key.privateKeyPem,
          isCaCertificate: true,
          allowedUses: CA_USES,
          subject: { commonName, organization: trustDomain, organizationalUnit: namespace },
          validityPeriodHours: lifetimes.caValidityHours,
        },
        child,
      );
      return { certPem: cert.certPem, keyPem: pulumi.secret(key.privateKeyPem) };
    };

    /** A key, its CSR and the certificate `ca` signs for it: only the certificate is replaced on renewal. */
    const leaf = (leafName: string, ca: Signer, request: Omit<tls.CertRequestArgs, "privateKeyPem">, allowedUses: string[]) => {
      const key = new tls.PrivateKey(leafName, KEY, child);
      const csr = new tls.CertRequest(leafName, { ...request, privateKeyPem: key.privateKeyPem }, child);
      const cert = new tls.LocallySignedCert(
        leafName,
        { certRequestPem: csr.certRequestPem, caCertPem: ca.certPem, caPrivateKeyPem: ca.keyPem, allowedUses, ...leafLifetime },
        child,
      );
      return { certificatePem: cert.certPem, privateKeyPem: pulumi.secret(key.privateKeyPem), expiresAt: cert.validityEndTime };
    };

    const identities = new Map<string, IdentityCertificate>();
    if (topology.security.mtls === "strict") {
      const ca =
        sources.ca.kind === "provided"
          ? providedPair(args.caCertificatePem, args.caPrivateKeyPem, "caCertificate", "caPrivateKey")
          : selfSignedCa(`${name}-mesh-ca`, `${namespace} mesh CA`);
      // The front proxy first, then the services (sorted by name): one identity each.
      for (const proxy of [FRONT_PROXY_NAME, ...topology.services.map((s) => s.name)]) {
        const issued = leaf(`${name}-${proxy}-identity`, ca, { uris: [spiffeId(trustDomain, namespace, proxy)] }, IDENTITY_USES);
        identities.set(proxy, { ...issued, caPem: ca.certPem });
      }
    }
    this.identities = identities;

    const expiries: Record<string, pulumi.Output<string>> = Object.fromEntries([...identities].map(([proxy, id]) => [proxy, id.expiresAt]));
    const edge = sources.edge;
    if (edge.kind === "local") {
      // A CA of its own: a client that trusts the edge must not thereby trust mesh identities.
      const edgeCa = selfSignedCa(`${name}-edge-ca`, `${namespace} local edge CA`);
      const [commonName] = edge.dnsNames;
      const issued = leaf(
        `${name}-edge`,
        edgeCa,
        { dnsNames: [...edge.dnsNames], ipAddresses: [...edge.ipAddresses], ...(commonName === undefined ? {} : { subject: { commonName } }) },
        EDGE_USES,
      );
      this.edge = { kind: "pem", ...issued, caPem: edgeCa.certPem };
      this.edgeCaPem = edgeCa.certPem;
      expiries.edge = issued.expiresAt;
    } else if (edge.kind === "provided") {
      const pair = providedPair(args.edgeCertificatePem, args.edgePrivateKeyPem, "edgeCertificate", "edgePrivateKey");
      this.edge = { kind: "pem", certificatePem: pair.certPem, privateKeyPem: pair.keyPem };
    } else if (edge.kind === "secret") {
      this.edge = { kind: "secret", name: edge.name };
    }
    this.expiries = pulumi.output(expiries);
    this.registerOutputs({ expiries: this.expiries, ...(this.edgeCaPem === undefined ? {} : { edgeCaPem: this.edgeCaPem }) });
  }
}

/**
 * A certificate and key the stack provides, the key kept secret. They must belong together: a
 * CA key that is not the CA certificate's would sign leaves no proxy trusts. Checked before any
 * leaf is signed with it (the leaves take the checked key).
 */
function providedPair(certPem: pulumi.Input<string> | undefined, keyPem: pulumi.Input<string> | undefined, certKey: string, keyKey: string): Signer {
  if (certPem === undefined || keyPem === undefined) {
    throw new Error(`envoy-mesh:${certKey} and envoy-mesh:${keyKey} are both needed for a certificate the stack provides`);
  }
  const checked = pulumi.all([certPem, pulumi.secret(keyPem)]).apply(([cert, key]) => checkProvidedPair(cert, key, certKey, keyKey));
  return { certPem: pulumi.output(certPem), keyPem: pulumi.secret(checked) };
}

/** `keyPem` when it is the private key of `certPem`'s certificate; else an error naming both config keys. */
export function checkProvidedPair(certPem: string, keyPem: string, certKey: string, keyKey: string): string {
  let publicHalf: string;
  try {
    publicHalf = createPublicKey(keyPem).export({ type: "spki", format: "pem" }) as string;
  } catch {
    throw new Error(`envoy-mesh:${keyKey} is not a PEM private key (unencrypted PKCS #8, SEC 1 or PKCS #1)`);
  }
  if (publicHalf !== new X509Certificate(certPem).publicKey.export({ type: "spki", format: "pem" })) {
    throw new Error(`envoy-mesh:${keyKey} is not the private key of envoy-mesh:${certKey}`);
  }
  return keyPem;
}
