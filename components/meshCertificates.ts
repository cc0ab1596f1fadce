/*
 * MERGE STAND-IN: the real MeshCertificates (issuing the mesh CA, one leaf per identity and the
 * edge certificate with @pulumi/tls) replaces this file when the branches are merged. It has the
 * same API, registers no child resource and returns PEM-shaped placeholder text that is plainly
 * not a certificate or a key, so the Kubernetes wiring can be built and tested against it.
 */
import * as pulumi from "@pulumi/pulumi";
import type { CertificateSources } from "../stack";
import { FRONT_PROXY_NAME, type Topology } from "../topology";
import type { EdgeCertificate, IdentityCertificate, MeshCertificateSet } from "./certificates";

export interface MeshCertificatesArgs {
  readonly topology: Topology;
  readonly namespace: string;
  readonly sources: CertificateSources;
  readonly caCertificatePem?: pulumi.Input<string>;
  readonly caPrivateKeyPem?: pulumi.Input<string>;
  readonly edgeCertificatePem?: pulumi.Input<string>;
  readonly edgePrivateKeyPem?: pulumi.Input<string>;
}

function standIn(what: string): string {
  return `-----BEGIN PLACEHOLDER-----\nmerge stand-in ${what}\n-----END PLACEHOLDER-----\n`;
}

/** A fixed far-future expiry: the stand-in issues nothing. */
const STAND_IN_EXPIRY = "2099-01-01T00:00:00Z";

export class MeshCertificates extends pulumi.ComponentResource implements MeshCertificateSet {
  readonly identities: ReadonlyMap<string, IdentityCertificate>;
  readonly edge?: EdgeCertificate;
  readonly expiries: pulumi.Output<Record<string, string>>;
  readonly edgeCaPem?: pulumi.Output<string>;

  constructor(name: string, args: MeshCertificatesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("envoy-mesh:tls:MeshCertificates", name, {}, opts);
    const { topology, sources } = args;
    const proxies = topology.security.mtls === "strict" ? [FRONT_PROXY_NAME, ...topology.services.map((s) => s.name)] : [];
    const ca = pulumi.output(args.caCertificatePem ?? standIn("mesh CA certificate"));
    this.identities = new Map(
      proxies.map((proxy) => [
        proxy,
        {
          certificatePem: pulumi.output(standIn(`certificate of ${proxy}`)),
          privateKeyPem: pulumi.secret(standIn(`key of ${proxy}`)),
          caPem: ca,
          expiresAt: pulumi.output(STAND_IN_EXPIRY),
        },
      ]),
    );
    const edge = sources.edge;
    if (edge.kind === "local" || edge.kind === "provided") {
      this.edgeCaPem = edge.kind === "local" ? pulumi.output(standIn("edge CA certificate")) : undefined;
      this.edge = {
        kind: "pem",
        certificatePem: pulumi.output(args.edgeCertificatePem ?? standIn("edge certificate")),
        privateKeyPem: pulumi.secret(args.edgePrivateKeyPem ?? standIn("edge key")),
        ...(edge.kind === "local" ? { expiresAt: pulumi.output(STAND_IN_EXPIRY), caPem: this.edgeCaPem } : {}),
      };
    } else if (edge.kind === "secret") {
      this.edge = { kind: "secret", name: edge.name };
    }
    const expiries: Record<string, string> = Object.fromEntries(proxies.map((proxy) => [proxy, STAND_IN_EXPIRY]));
    if (edge.kind === "local") expiries.edge = STAND_IN_EXPIRY;
    this.expiries = pulumi.output(expiries);
    this.registerOutputs({ expiries: this.expiries, edgeCaPem: this.edgeCaPem });
  }
}
