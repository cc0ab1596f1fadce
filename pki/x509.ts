/**
 * X.509 keys and certificates, encoded as Go's crypto/x509 `CreateCertificate` encodes them: the
 * encoder behind hashicorp/terraform-provider-tls, which @pulumi/tls bridges. `npm run certs`
 * issues the compose workflow's certificates with it, and the tests' emulation of the tls provider
 * builds Pulumi's with it, so both carry the same certificate profile.
 *
 * From Go's crypto/x509 (x509.go `CreateCertificate`, `buildCertExtensions`): key usage and basic
 * constraints are critical; the SAN is critical when the subject is empty (RFC 5280 4.2.1.6); a
 * certificate signed by another gets that issuer's subject key id as its authority key id.
 * From terraform-provider-tls internal/provider/common_cert.go `createCertificate`: NotBefore =
 * now, NotAfter = NotBefore + the validity in hours, a random positive 128-bit serial, and a CA
 * gets a subject key id (`generateSubjectKeyID`: SHA-1 of the public key).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, webcrypto } from "node:crypto";
// @peculiar/x509 resolves its algorithms through tsyringe, which needs a Reflect metadata polyfill loaded first.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as never);

/** @peculiar/x509, with node's WebCrypto as its provider. */
export { x509 };

/** The extended key usages the mesh's certificates carry, as RFC 5280 4.2.1.12 numbers them. */
export const EXTENDED_KEY_USAGE = {
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
} as const;

const WEB_CURVES: Readonly<Record<string, string>> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };
const HASH_OF_CURVE: Readonly<Record<string, string>> = { "P-256": "SHA-256", "P-384": "SHA-384", "P-521": "SHA-512" };

/** A private key as WebCrypto signs with it (ECDSA only: what the mesh uses). */
export interface SigningKey {
  readonly keys: webcrypto.CryptoKeyPair;
  readonly algorithm: webcrypto.EcKeyImportParams & { readonly hash: string };
}

/** A new ECDSA P-256 private key, as SEC 1 PEM (`EC PRIVATE KEY`), the form terraform-provider-tls writes (common_key.go). */
export function newEcdsaP256Key(): string {
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  return privateKey.export({ type: "sec1", format: "pem" }) as string;
}

/** A PEM private key (PKCS #8 or SEC 1) for signing; an error for anything but ECDSA P-256/P-384/P-521. */
export async function signingKey(privateKeyPem: string): Promise<SigningKey> {
  const key = createPrivateKey(privateKeyPem);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  const web = curve === undefined ? undefined : WEB_CURVES[curve];
  if (key.asymmetricKeyType !== "ec" || web === undefined) throw new Error(`only ECDSA P-256/P-384/P-521 keys are supported, got ${key.asymmetricKeyType} ${curve ?? ""}`.trim());
  const algorithm = { name: "ECDSA", namedCurve: web, hash: HASH_OF_CURVE[web] };
  const privateKey = await webcrypto.subtle.importKey("pkcs8", key.export({ type: "pkcs8", format: "der" }), algorithm, true, ["sign"]);
  const publicKey = await webcrypto.subtle.importKey("spki", createPublicKey(key).export({ type: "spki", format: "der" }), algorithm, true, ["verify"]);
  return { keys: { privateKey, publicKey }, algorithm };
}

/** Subject alternative names, in the order Go writes them: DNS names, then IP addresses, then URIs. */
export interface AltNames {
  readonly dnsNames?: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly uris?: readonly string[];
}

export function sanNames(names: AltNames): x509.JsonGeneralNames {
  return [
    ...(names.dnsNames ?? []).map((value) => ({ type: "dns" as const, value })),
    ...(names.ipAddresses ?? []).map((value) => ({ type: "ip" as const, value })),
    ...(names.uris ?? []).map((value) => ({ type: "url" as const, value })),
  ];
}

/** What a certificate says about its subject. */
export interface CertificateTemplate {
  /** Empty: no subject (then the SAN extension is critical). */
  readonly subject: x509.JsonName;
  readonly sans: x509.JsonGeneralNames;
  readonly publicKey: x509.PublicKey;
  /** RFC 5280 KeyUsage bits (x509.KeyUsageFlags); 0: no key usage extension. */
  readonly keyUsage: number;
  /** ExtKeyUsage OIDs; empty: no extension. */
  readonly extendedKeyUsage: readonly string[];
  readonly isCa: boolean;
  /** Whether to write a subject key id; a CA always gets one. */
  readonly subjectKeyId?: boolean;
  readonly validityHours: number;
}

/** Who signs: the subject's own key (a self-signed CA), or an issuer named by its certificate. */
export type Signer =
  | { readonly kind: "self"; readonly key: SigningKey }
  | { readonly kind: "issuer"; readonly name: string; readonly subjectKeyId?: string; readonly key: SigningKey };

export interface IssuedCertificate {
  /** PEM with `\n` line ends and a final newline. */
  readonly pem: string;
  /** Hexadecimal, without leading zero bytes. */
  readonly serialNumber: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

/** The issuer a CA certificate and its key make. */
export async function issuerOf(caCertificatePem: string, caPrivateKeyPem: string): Promise<Signer> {
  const ca = new x509.X509Certificate(caCertificatePem);
  return { kind: "issuer", name: ca.subject, subjectKeyId: ca.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId, key: await signingKey(caPrivateKeyPem) };
}

/** The public key a certificate for this key would carry. */
export function publicKeyOf(key: SigningKey): Promise<x509.PublicKey> {
  return x509.PublicKey.create(key.keys.publicKey);
}

/** A PEM as Go writes it: `\n` line ends and a final newline (@peculiar/x509 writes `\r\n`, none at the end). */
export function pemText(pem: string): string {
  return `${pem.replace(/\r\n/g, "\n").trimEnd()}\n`;
}

export async function createCertificate(template: CertificateTemplate, signer: Signer): Promise<IssuedCertificate> {
  if (template.isCa && template.subject.length === 0) throw new Error("a certificate authority needs a subject");
  const notBefore = new Date();
  const notAfter = new Date(notBefore.getTime() + template.validityHours * 3_600_000);
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // a positive 128-bit integer, as rand.Int below 2^128 is
  const serialNumber = serial.toString("hex").replace(/^(00)+(?=.)/, "");
  const extensions: x509.Extension[] = [
    ...(template.keyUsage === 0 ? [] : [new x509.KeyUsagesExtension(template.keyUsage, true)]),
    ...(template.extendedKeyUsage.length === 0 ? [] : [new x509.ExtendedKeyUsageExtension([...template.extendedKeyUsage], false)]),
    new x509.BasicConstraintsExtension(template.isCa, undefined, true),
  ];
  if (template.isCa || template.subjectKeyId === true) {
    extensions.push(new x509.SubjectKeyIdentifierExtension((await x509.SubjectKeyIdentifierExtension.create(template.publicKey)).keyId));
  }
  if (signer.kind === "issuer" && signer.subjectKeyId !== undefined) extensions.push(new x509.AuthorityKeyIdentifierExtension(signer.subjectKeyId));
  if (template.sans.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(template.sans, template.subject.length === 0));
  const common = { serialNumber, notBefore, notAfter, extensions };
  const cert =
    signer.kind === "self"
      ? await x509.X509CertificateGenerator.createSelfSigned({ ...common, name: template.subject, keys: signer.key.keys, signingAlgorithm: signer.key.algorithm })
      : await x509.X509CertificateGenerator.create({
          ...common,
          subject: template.subject,
          issuer: signer.name,
          publicKey: template.publicKey,
          signingKey: signer.key.keys.privateKey,
          signingAlgorithm: signer.key.algorithm,
        });
  return { pem: pemText(cert.toString("pem")), serialNumber, notBefore, notAfter };
}
