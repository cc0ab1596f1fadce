/**
 * The four resources of @pulumi/tls that the mesh uses (PrivateKey, SelfSignedCert, CertRequest,
 * LocallySignedCert), emulated for the mock engine: real keys, real CSRs and real certificates,
 * built as hashicorp/terraform-provider-tls builds them (the provider @pulumi/tls bridges), so
 * that tests can check the certificates themselves with node's crypto.X509Certificate.
 *
 * Facts taken from terraform-provider-tls (internal/provider):
 * - common_cert.go `keyUsages` / `extendedKeyUsages`: each allowed use maps to a KeyUsage bit or
 *   an ExtKeyUsage; any other value is refused (the schema's OneOf validator).
 * - common_cert.go `createCertificate`: NotBefore = now, NotAfter = NotBefore + validity hours;
 *   a random 128-bit serial, which is also the resource's id; a CA needs a subject and gets a
 *   subject key id (SHA-1 of the public key, `generateSubjectKeyID`).
 * - resource_self_signed_cert.go / resource_locally_signed_cert.go `Create`: BasicConstraintsValid,
 *   the subject and SANs from the inputs, or from the CSR for a locally signed certificate.
 * - common_key.go: an ECDSA key is written as SEC 1 (`EC PRIVATE KEY`), ecdsa_curve defaults to P224.
 * The certificates themselves are encoded by pki/x509.ts (as Go's crypto/x509 `CreateCertificate`
 * does), which `npm run certs` shares; this file keeps the provider's side: inputs, allowed uses
 * and outputs.
 */
import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { EXTENDED_KEY_USAGE, createCertificate as issueCertificate, issuerOf, pemText, publicKeyOf, sanNames, signingKey, x509, type CertificateTemplate, type Signer } from "../../pki/x509";
import { isSecret, type OutputsOf } from "./pulumiMocks";

export const TLS_TYPES = {
  privateKey: "tls:index/privateKey:PrivateKey",
  selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
  certRequest: "tls:index/certRequest:CertRequest",
  locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
} as const;

/** common_cert.go `keyUsages`, as RFC 5280 KeyUsage bits (Go's x509.KeyUsage has the same order). */
const KEY_USAGES: Readonly<Record<string, x509.KeyUsageFlags>> = {
  digital_signature: x509.KeyUsageFlags.digitalSignature,
  content_commitment: x509.KeyUsageFlags.nonRepudiation,
  key_encipherment: x509.KeyUsageFlags.keyEncipherment,
  data_encipherment: x509.KeyUsageFlags.dataEncipherment,
  key_agreement: x509.KeyUsageFlags.keyAgreement,
  cert_signing: x509.KeyUsageFlags.keyCertSign,
  crl_signing: x509.KeyUsageFlags.cRLSign,
  encipher_only: x509.KeyUsageFlags.encipherOnly,
  decipher_only: x509.KeyUsageFlags.decipherOnly,
};

/** common_cert.go `extendedKeyUsages`, as the OIDs Go's crypto/x509 writes for them (x509.go extKeyUsageOIDs). */
const EXTENDED_KEY_USAGES: Readonly<Record<string, string>> = {
  any_extended: "2.5.29.37.0",
  server_auth: EXTENDED_KEY_USAGE.serverAuth,
  client_auth: EXTENDED_KEY_USAGE.clientAuth,
  code_signing: "1.3.6.1.5.5.7.3.3",
  email_protection: "1.3.6.1.5.5.7.3.4",
  ipsec_end_system: "1.3.6.1.5.5.7.3.5",
  ipsec_tunnel: "1.3.6.1.5.5.7.3.6",
  ipsec_user: "1.3.6.1.5.5.7.3.7",
  timestamping: "1.3.6.1.5.5.7.3.8",
  ocsp_signing: "1.3.6.1.5.5.7.3.9",
  microsoft_server_gated_crypto: "1.3.6.1.4.1.311.10.3.3",
  netscape_server_gated_crypto: "2.16.840.1.113730.4.1",
  microsoft_commercial_code_signing: "1.3.6.1.4.1.311.2.1.22",
  microsoft_kernel_code_signing: "1.3.6.1.4.1.311.61.1.1",
};

/** resource_private_key.go's curve names, as node names them. */
const CURVES: Readonly<Record<string, string>> = { P224: "secp224r1", P256: "prime256v1", P384: "secp384r1", P521: "secp521r1" };

type Inputs = Record<string, unknown>;

/** Pulumi wraps secret inputs; the provider sees the values. */
function plain(value: unknown): unknown {
  return isSecret(value) ? value.value : value;
}

function text(inputs: Inputs, key: string): string {
  const value = plain(inputs[key]);
  if (typeof value !== "string" || value === "") throw new Error(`tls emulation: ${key} is required, got ${JSON.stringify(value)}`);
  return value;
}

function strings(inputs: Inputs, key: string): string[] {
  const value = plain(inputs[key]);
  return Array.isArray(value) ? value.map(String) : [];
}

function hours(inputs: Inputs, key: string): number {
  const value = plain(inputs[key]);
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) throw new Error(`tls emulation: ${key} must be a whole number of hours, got ${JSON.stringify(value)}`);
  return value;
}

/** createSubjectDistinguishedNames, in the order Go's pkix.Name.ToRDNSequence writes the attributes. */
function subjectName(inputs: Inputs): x509.JsonName {
  const subject = (plain(inputs.subject) ?? {}) as Record<string, unknown>;
  const list = (v: unknown) => (v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
  const name: x509.JsonName = [];
  const add = (type: string, values: string[]) => values.filter((v) => v !== "").forEach((v) => name.push({ [type]: [v] }));
  add("C", list(subject.country));
  add("O", list(subject.organization));
  add("OU", list(subject.organizationalUnit));
  add("L", list(subject.locality));
  add("ST", list(subject.province));
  add("2.5.4.9", list(subject.streetAddresses));
  add("2.5.4.17", list(subject.postalCode));
  add("2.5.4.5", list(subject.serialNumber));
  add("CN", list(subject.commonName));
  return name;
}

/** The provider's SAN inputs. */
function altNames(inputs: Inputs): x509.JsonGeneralNames {
  return sanNames({ dnsNames: strings(inputs, "dnsNames"), ipAddresses: strings(inputs, "ipAddresses"), uris: strings(inputs, "uris") });
}

/** Runs `read`; its error (a key the emulation does not handle) is the emulation's. */
async function emulated<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (error) {
    throw new Error(`tls emulation: ${(error as Error).message}`);
  }
}

const keyOf = (privateKeyPem: string) => emulated(() => signingKey(privateKeyPem));

/** common_cert.go `keyUsages` / `extendedKeyUsages`: the allowed uses as KeyUsage bits and ExtKeyUsage OIDs. */
function allowedUses(uses: string[]): { keyUsage: number; extendedKeyUsage: string[] } {
  let keyUsage = 0;
  const extendedKeyUsage: string[] = [];
  for (const use of uses) {
    if (KEY_USAGES[use] !== undefined) keyUsage |= KEY_USAGES[use];
    else if (EXTENDED_KEY_USAGES[use] !== undefined) extendedKeyUsage.push(EXTENDED_KEY_USAGES[use]);
    else throw new Error(`tls emulation: allowed_uses: ${JSON.stringify(use)} is not one of ${[...Object.keys(KEY_USAGES), ...Object.keys(EXTENDED_KEY_USAGES)].join(", ")}`);
  }
  return { keyUsage, extendedKeyUsage };
}

/** common_cert.go createCertificate from the resource's inputs, then the outputs the provider reports. */
async function createCertificate(subject: Pick<CertificateTemplate, "subject" | "sans" | "publicKey">, inputs: Inputs, signer: Signer): Promise<Record<string, unknown>> {
  const isCa = plain(inputs.isCaCertificate) === true;
  let issued;
  try {
    issued = await issueCertificate(
      {
        ...subject,
        ...allowedUses(strings(inputs, "allowedUses")),
        isCa,
        subjectKeyId: plain(inputs.setSubjectKeyId) === true,
        validityHours: hours(inputs, "validityPeriodHours"),
      },
      signer,
    );
  } catch (error) {
    // The provider's own words for a CA without a subject.
    if (isCa && subject.subject.length === 0) throw new Error("tls emulation: Invalid Certificate Subject: Must contain at least one Distinguished Name when creating Certificate Authority (CA)");
    throw error;
  }
  return {
    id: BigInt(`0x${issued.serialNumber}`).toString(10),
    certPem: issued.pem,
    validityStartTime: issued.notBefore.toISOString(),
    validityEndTime: issued.notAfter.toISOString(),
    // At creation a certificate is never ready for renewal (common_cert.go modifyPlanIfCertificateReadyForRenewal runs on later plans).
    readyForRenewal: false,
    earlyRenewalHours: plain(inputs.earlyRenewalHours) ?? 0,
    isCaCertificate: isCa,
  };
}

function privateKey(inputs: Inputs): Record<string, unknown> {
  const algorithm = text(inputs, "algorithm");
  let pair: { privateKey: KeyObject; publicKey: KeyObject };
  let sec1 = false;
  if (algorithm === "ECDSA") {
    const curve = String(plain(inputs.ecdsaCurve) ?? "P224");
    if (CURVES[curve] === undefined) throw new Error(`tls emulation: ecdsa_curve ${curve} is not one of ${Object.keys(CURVES).join(", ")}`);
    pair = generateKeyPairSync("ec", { namedCurve: CURVES[curve] });
    sec1 = true;
  } else if (algorithm === "ED25519") {
    pair = generateKeyPairSync("ed25519");
  } else if (algorithm === "RSA") {
    pair = generateKeyPairSync("rsa", { modulusLength: Number(plain(inputs.rsaBits) ?? 2048) });
  } else {
    throw new Error(`tls emulation: algorithm ${algorithm} is not one of RSA, ECDSA, ED25519`);
  }
  const publicDer = pair.publicKey.export({ type: "spki", format: "der" });
  const pkcs8 = pair.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
  return {
    id: createHash("sha1").update(publicDer).digest("hex"),
    ecdsaCurve: plain(inputs.ecdsaCurve) ?? "P224",
    privateKeyPem: sec1 ? pair.privateKey.export({ type: "sec1", format: "pem" }) : algorithm === "RSA" ? pair.privateKey.export({ type: "pkcs1", format: "pem" }) : pkcs8,
    privateKeyPemPkcs8: pkcs8,
    publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }),
  };
}

/** Every key the mesh has Pulumi create is ECDSA (keyOf refuses others). */
const KEY_ALGORITHM = "ECDSA";

async function certRequest(inputs: Inputs): Promise<Record<string, unknown>> {
  const key = await keyOf(text(inputs, "privateKeyPem"));
  const sans = altNames(inputs);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(inputs),
    keys: key.keys,
    signingAlgorithm: key.algorithm,
    extensions: sans.length === 0 ? [] : [new x509.SubjectAlternativeNameExtension(sans)],
  });
  return { certRequestPem: pemText(csr.toString("pem")), keyAlgorithm: KEY_ALGORITHM };
}

async function selfSignedCert(inputs: Inputs): Promise<Record<string, unknown>> {
  const key = await keyOf(text(inputs, "privateKeyPem"));
  const subject = { subject: subjectName(inputs), sans: altNames(inputs), publicKey: await publicKeyOf(key) };
  return { ...(await createCertificate(subject, inputs, { kind: "self", key })), keyAlgorithm: KEY_ALGORITHM };
}

async function locallySignedCert(inputs: Inputs): Promise<Record<string, unknown>> {
  const csr = new x509.Pkcs10CertificateRequest(text(inputs, "certRequestPem"));
  const issuer = await emulated(() => issuerOf(text(inputs, "caCertPem"), text(inputs, "caPrivateKeyPem")));
  const san = csr.extensions.find((e): e is x509.SubjectAlternativeNameExtension => e instanceof x509.SubjectAlternativeNameExtension);
  const subject = { subject: csr.subjectName.toJSON(), sans: san === undefined ? [] : san.names.toJSON(), publicKey: csr.publicKey };
  return { ...(await createCertificate(subject, inputs, issuer)), caKeyAlgorithm: KEY_ALGORITHM };
}

/**
 * Outputs of a tls resource, as the provider reports them after creation (the inputs are kept
 * by the mock engine); undefined for any other type, so it composes with other `OutputsOf`.
 */
export const tlsProviderOutputs: OutputsOf = (resource) => {
  if (!resource.type.startsWith("tls:")) return undefined;
  // The provider creates a resource once and then reads it from the state: a later run of the
  // program with the same inputs gets the same key or certificate, not a new one.
  const key = `${resource.type}::${resource.name}::${JSON.stringify(resource.inputs)}`;
  let created = issued.get(key);
  if (created === undefined) {
    created = create(resource);
    issued.set(key, created);
  }
  return created;
};

const issued = new Map<string, ReturnType<OutputsOf>>();

function create(resource: Parameters<OutputsOf>[0]): ReturnType<OutputsOf> {
  switch (resource.type) {
    case TLS_TYPES.privateKey:
      return privateKey(resource.inputs);
    case TLS_TYPES.certRequest:
      return certRequest(resource.inputs);
    case TLS_TYPES.selfSignedCert:
      return selfSignedCert(resource.inputs);
    case TLS_TYPES.locallySignedCert:
      return locallySignedCert(resource.inputs);
    default:
      return undefined;
  }
}
