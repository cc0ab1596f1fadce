/**
 * The certificates the mesh runs on, as the deploy layers consume them. This file is the
 * contract; `MeshCertificates` (the component that issues them with @pulumi/tls) implements it.
 */
import type * as pulumi from "@pulumi/pulumi";

/** One proxy's mesh identity: what its Envoy finds in IDENTITY_DIR. */
export interface IdentityCertificate {
  /** PEM certificate with the proxy's SPIFFE ID as its only URI SAN, signed by the mesh CA. */
  readonly certificatePem: pulumi.Output<string>;
  /** PEM private key; a Pulumi secret. */
  readonly privateKeyPem: pulumi.Output<string>;
  /** PEM of the mesh CA every proxy trusts. */
  readonly caPem: pulumi.Output<string>;
  /** When the certificate expires (RFC 3339). */
  readonly expiresAt: pulumi.Output<string>;
}

/** The front proxy's certificate for clients: PEM material, or a Kubernetes Secret that already exists. */
export type EdgeCertificate =
  | {
      readonly kind: "pem";
      readonly certificatePem: pulumi.Output<string>;
      /** A Pulumi secret. */
      readonly privateKeyPem: pulumi.Output<string>;
      /** When the certificate expires (RFC 3339); unknown for a certificate the stack provides. */
      readonly expiresAt?: pulumi.Output<string>;
      /** The local edge CA that signed it, which `curl --cacert` trusts; undefined for a provided certificate. */
      readonly caPem?: pulumi.Output<string>;
    }
  | { readonly kind: "secret"; readonly name: string };

export interface MeshCertificateSet {
  /** By proxy name (`front-envoy` and every service); empty when `security.mtls` is off. */
  readonly identities: ReadonlyMap<string, IdentityCertificate>;
  /** Undefined when the edge has no certificate (no HTTPS at the front). */
  readonly edge?: EdgeCertificate;
}
