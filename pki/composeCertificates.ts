/**
 * The certificates a rendered compose file mounts, issued as files into its `tls/` folder (the
 * compose workflow has no Pulumi to issue them), with the profile components/meshCertificates.ts
 * gives Pulumi's: a mesh CA, one leaf per identity whose only SAN is its SPIFFE ID, and a separate
 * local edge CA with a leaf for localhost. The CA keys stay beside them (never mounted), so a later
 * run signs new leaves with the same CA.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { CA_FILE, CERTIFICATE_FILE, EDGE_DIR, IDENTITY_DIR, PRIVATE_KEY_FILE } from "../envoy/names";
import { spiffeId } from "../envoy/identity";
import type { DockerMesh } from "../docker";
import { renderedFile } from "../render/composeFile";
import { PLACEHOLDER_MARK } from "../render/renderDocker";
import { envoyTargetOf, type DockerStackSettings } from "../stack";
import { EXTENDED_KEY_USAGE, createCertificate, issuerOf, newEcdsaP256Key, publicKeyOf, sanNames, signingKey, x509, type AltNames } from "./x509";

/** The folder, relative to the render's output, that holds every certificate and key. */
export const TLS_FOLDER = "tls";
/** The mesh CA and the local edge CA, beside the leaves; only `edge-ca.crt` is meant to leave it (curl --cacert). */
export const CA_FILES = {
  meshCertificate: "tls/mesh-ca.crt",
  meshKey: "tls/mesh-ca.key",
  edgeCertificate: "tls/edge-ca.crt",
  edgeKey: "tls/edge-ca.key",
} as const;

/** Modes: only the owner reaches the folder; mounted files must be readable by Envoy's uid 101 (compose keeps the host mode). */
export const MODES = { folder: 0o700, mounted: 0o644, caKey: 0o600, caCertificate: 0o644 } as const;

const CA_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature;

export class CertificateFilesError extends Error {}

interface CaRequest {
  readonly certificatePath: string;
  readonly keyPath: string;
  readonly subject: x509.JsonName;
  /** What to call it in messages. */
  readonly label: string;
}

export interface LeafRequest {
  /** The proxy, or `edge`. */
  readonly name: string;
  readonly ca: "mesh" | "edge";
  readonly certificatePath: string;
  readonly keyPath: string;
  /** Where the CA certificate goes next to it (identities only). */
  readonly caPath?: string;
  readonly subject: x509.JsonName;
  readonly sans: AltNames;
  readonly extendedKeyUsage: readonly string[];
}

export interface CertificatePlan {
  readonly meshCa?: CaRequest;
  readonly edgeCa?: CaRequest;
  readonly leaves: readonly LeafRequest[];
  readonly validityHours: number;
  readonly renewBeforeHours: number;
  readonly caValidityHours: number;
}

/** Subject attributes in the order Go's pkix.Name writes them, as Pulumi's CA subjects carry them. */
function caSubject(commonName: string, trustDomain: string, namespace: string): x509.JsonName {
  return [{ O: [trustDomain] }, { OU: [namespace] }, { CN: [commonName] }];
}

/**
 * What to issue for a docker stack: one leaf for every certificate file the compose file mounts
 * (the same description render wrote it from), and the CAs that sign them.
 */
export function certificatePlan(settings: DockerStackSettings, mesh: DockerMesh): CertificatePlan {
  const { trustDomain, certificates } = settings.topology.security;
  const namespace = envoyTargetOf(settings).namespace;
  const leaves: LeafRequest[] = [];
  for (const proxy of mesh.proxies) {
    const pathOf = (folder: string, file: string) => {
      const found = proxy.files.find((f) => f.path === `${folder}/${file}`);
      return found === undefined ? undefined : renderedFile(proxy.proxy, found).path;
    };
    const identity = pathOf(IDENTITY_DIR, CERTIFICATE_FILE);
    if (identity !== undefined) {
      leaves.push({
        name: proxy.proxy,
        ca: "mesh",
        certificatePath: identity,
        keyPath: pathOf(IDENTITY_DIR, PRIVATE_KEY_FILE) as string,
        caPath: pathOf(IDENTITY_DIR, CA_FILE) as string,
        subject: [],
        sans: { uris: [spiffeId(trustDomain, namespace, proxy.proxy)] },
        extendedKeyUsage: [EXTENDED_KEY_USAGE.serverAuth, EXTENDED_KEY_USAGE.clientAuth],
      });
    }
    const edge = pathOf(EDGE_DIR, CERTIFICATE_FILE);
    if (edge !== undefined) {
      const source = settings.certificates.edge;
      if (source.kind !== "local") throw new CertificateFilesError(`the stack's edge certificate is ${source.kind}, not issued locally`);
      const [commonName] = source.dnsNames;
      leaves.push({
        name: "edge",
        ca: "edge",
        certificatePath: edge,
        keyPath: pathOf(EDGE_DIR, PRIVATE_KEY_FILE) as string,
        subject: commonName === undefined ? [] : [{ CN: [commonName] }],
        sans: { dnsNames: [...source.dnsNames], ipAddresses: [...source.ipAddresses] },
        extendedKeyUsage: [EXTENDED_KEY_USAGE.serverAuth],
      });
    }
  }
  const wants = (ca: "mesh" | "edge") => leaves.some((l) => l.ca === ca);
  return {
    ...(wants("mesh")
      ? { meshCa: { certificatePath: CA_FILES.meshCertificate, keyPath: CA_FILES.meshKey, subject: caSubject(`${namespace} mesh CA`, trustDomain, namespace), label: "mesh CA" } }
      : {}),
    ...(wants("edge")
      ? { edgeCa: { certificatePath: CA_FILES.edgeCertificate, keyPath: CA_FILES.edgeKey, subject: caSubject(`${namespace} local edge CA`, trustDomain, namespace), label: "local edge CA" } }
      : {}),
    leaves,
    ...certificates,
  };
}

/** One file as the run left it. */
export interface FileOutcome {
  readonly path: string;
  readonly action: "issued" | "kept";
  /** Why it was issued, or what it is when kept. */
  readonly why: string;
  readonly mode: number;
}

export interface IssueOptions {
  /** Reissue every leaf (new keys), keeping the CAs. */
  readonly renew: boolean;
  readonly now?: Date;
}

/** A file's text, or undefined when it is missing or a render placeholder. */
function readIssued(outDir: string, path: string): string | undefined {
  const file = join(outDir, path);
  if (!existsSync(file)) return undefined;
  const text = readFileSync(file, "utf8");
  return text.startsWith(PLACEHOLDER_MARK) ? undefined : text;
}

function keyMatches(certificate: X509Certificate, keyPem: string): boolean {
  try {
    return certificate.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

function parseCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

interface Ca {
  readonly certificatePem: string;
  readonly keyPem: string;
  readonly certificate: X509Certificate;
}

/**
 * An existing CA, checked; or a new one when neither of its files exists. A CA that is there but
 * unusable is never replaced silently: every running proxy trusts it.
 */
async function loadOrCreateCa(outDir: string, request: CaRequest, plan: CertificatePlan, now: Date, outcomes: FileOutcome[]): Promise<Ca> {
  const certificatePem = readIssued(outDir, request.certificatePath);
  const keyPem = readIssued(outDir, request.keyPath);
  const fix = `remove ${request.certificatePath} and ${request.keyPath} to issue a new ${request.label} (every certificate it signed is then reissued)`;
  if (certificatePem !== undefined || keyPem !== undefined) {
    if (certificatePem === undefined || keyPem === undefined) {
      throw new CertificateFilesError(`${certificatePem === undefined ? request.certificatePath : request.keyPath} is missing while ${certificatePem === undefined ? request.keyPath : request.certificatePath} exists; ${fix}`);
    }
    const certificate = parseCertificate(certificatePem);
    const problem =
      certificate === undefined
        ? "is not a PEM certificate"
        : !certificate.ca
          ? "is not a CA certificate (basic constraints CA:FALSE)"
          : !keyMatches(certificate, keyPem)
            ? `does not match the private key in ${request.keyPath}`
            : new Date(certificate.validTo) <= now
              ? `expired on ${new Date(certificate.validTo).toISOString()}`
              : undefined;
    if (problem !== undefined || certificate === undefined) throw new CertificateFilesError(`${request.certificatePath} ${problem}; ${fix}`);
    try {
      await signingKey(keyPem);
    } catch (error) {
      throw new CertificateFilesError(`${request.keyPath}: ${(error as Error).message}; ${fix}`);
    }
    const expires = `expires ${new Date(certificate.validTo).toISOString()}`;
    outcomes.push({ path: request.certificatePath, action: "kept", why: `${request.label}, ${expires}`, mode: MODES.caCertificate });
    outcomes.push({ path: request.keyPath, action: "kept", why: `${request.label} key`, mode: MODES.caKey });
    return { certificatePem, keyPem, certificate };
  }
  const newKeyPem = newEcdsaP256Key();
  const key = await signingKey(newKeyPem);
  const issued = await createCertificate(
    { subject: request.subject, sans: [], publicKey: await publicKeyOf(key), keyUsage: CA_USAGE, extendedKeyUsage: [], isCa: true, validityHours: plan.caValidityHours },
    { kind: "self", key },
  );
  outcomes.push({ path: request.certificatePath, action: "issued", why: `new ${request.label}, expires ${issued.notAfter.toISOString()}`, mode: MODES.caCertificate });
  outcomes.push({ path: request.keyPath, action: "issued", why: `${request.label} key`, mode: MODES.caKey });
  return { certificatePem: issued.pem, keyPem: newKeyPem, certificate: new X509Certificate(issued.pem) };
}

/** Why an existing leaf must be reissued; undefined when it can stay. */
function leafProblem(outDir: string, leaf: LeafRequest, ca: Ca, plan: CertificatePlan, now: Date): string | undefined {
  const certificatePem = readIssued(outDir, leaf.certificatePath);
  const keyPem = readIssued(outDir, leaf.keyPath);
  if (certificatePem === undefined || keyPem === undefined) return "new";
  const certificate = parseCertificate(certificatePem);
  if (certificate === undefined) return `${leaf.certificatePath} is not a PEM certificate`;
  if (!keyMatches(certificate, keyPem)) return `${leaf.keyPath} is not its private key`;
  if (!certificate.checkIssued(ca.certificate) || !certificate.verify(ca.certificate.publicKey)) return "not signed by the current CA";
  const names = new x509.X509Certificate(certificatePem).getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON() ?? [];
  if (JSON.stringify(names) !== JSON.stringify(sanNames(leaf.sans))) return "its names differ from the stack's";
  const notBefore = new Date(certificate.validFrom).getTime();
  const notAfter = new Date(certificate.validTo).getTime();
  // Within a second: X.509 times have whole seconds.
  if (Math.abs(notAfter - notBefore - plan.validityHours * 3_600_000) > 1000) return "security.certificates.validityHours changed";
  if (now.getTime() >= notAfter - plan.renewBeforeHours * 3_600_000) return `renewal window (expires ${new Date(notAfter).toISOString()})`;
  return undefined;
}

async function issueLeaf(leaf: LeafRequest, ca: Ca, plan: CertificatePlan): Promise<{ certificatePem: string; keyPem: string; notAfter: Date }> {
  const keyPem = newEcdsaP256Key();
  const issued = await createCertificate(
    {
      subject: leaf.subject,
      sans: sanNames(leaf.sans),
      publicKey: await publicKeyOf(await signingKey(keyPem)),
      keyUsage: x509.KeyUsageFlags.digitalSignature,
      extendedKeyUsage: leaf.extendedKeyUsage,
      isCa: false,
      validityHours: plan.validityHours,
    },
    await issuerOf(ca.certificatePem, ca.keyPem),
  );
  return { certificatePem: issued.pem, keyPem, notAfter: issued.notAfter };
}

/** Writes through a temporary file and a rename, so no reader sees half a key; the mode is set before the content. */
function writeFileAtomically(file: string, content: string, mode: number): void {
  const temporary = `${file}.tmp-${process.pid}`;
  try {
    writeFileSync(temporary, content, { mode });
    chmodSync(temporary, mode);
    renameSync(temporary, file);
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Makes `folder` (under outDir/tls) and every folder from tls/ down to it owner-only. */
function ensureFolder(outDir: string, folder: string): void {
  const parts = folder.split("/");
  for (let i = 1; i <= parts.length; i++) {
    const path = join(outDir, ...parts.slice(0, i));
    if (!existsSync(path)) mkdirSync(path, { mode: MODES.folder });
    else if (!statSync(path).isDirectory()) throw new CertificateFilesError(`${parts.slice(0, i).join("/")} is not a folder`);
    chmodSync(path, MODES.folder);
  }
}

/**
 * Issues what the plan asks for into outDir/tls: keeps the CAs (or creates them), keeps every leaf
 * that is still good (unless `renew`), issues the rest, and writes the files with their modes.
 * Everything is computed before the first file is written.
 */
export async function issueCertificateFiles(outDir: string, plan: CertificatePlan, options: IssueOptions): Promise<FileOutcome[]> {
  const now = options.now ?? new Date();
  const outcomes: FileOutcome[] = [];
  const contents = new Map<string, string>();
  const cas: Partial<Record<"mesh" | "edge", Ca>> = {};
  for (const [name, request] of [["mesh", plan.meshCa], ["edge", plan.edgeCa]] as const) {
    if (request === undefined) continue;
    const ca = await loadOrCreateCa(outDir, request, plan, now, outcomes);
    cas[name] = ca;
    contents.set(request.certificatePath, ca.certificatePem);
    contents.set(request.keyPath, ca.keyPem);
  }
  for (const leaf of plan.leaves) {
    const ca = cas[leaf.ca] as Ca;
    const problem = options.renew ? "--renew" : leafProblem(outDir, leaf, ca, plan, now);
    if (problem === undefined) {
      contents.set(leaf.certificatePath, readFileSync(join(outDir, leaf.certificatePath), "utf8"));
      contents.set(leaf.keyPath, readFileSync(join(outDir, leaf.keyPath), "utf8"));
      const expires = new Date(new X509Certificate(contents.get(leaf.certificatePath) as string).validTo).toISOString();
      outcomes.push({ path: leaf.certificatePath, action: "kept", why: `${leaf.name}, expires ${expires}`, mode: MODES.mounted });
      outcomes.push({ path: leaf.keyPath, action: "kept", why: `${leaf.name} key`, mode: MODES.mounted });
    } else {
      const issued = await issueLeaf(leaf, ca, plan);
      contents.set(leaf.certificatePath, issued.certificatePem);
      contents.set(leaf.keyPath, issued.keyPem);
      outcomes.push({ path: leaf.certificatePath, action: "issued", why: `${leaf.name}, expires ${issued.notAfter.toISOString()} (${problem})`, mode: MODES.mounted });
      outcomes.push({ path: leaf.keyPath, action: "issued", why: `${leaf.name} key`, mode: MODES.mounted });
    }
    if (leaf.caPath !== undefined) {
      const same = readIssued(outDir, leaf.caPath) === ca.certificatePem;
      contents.set(leaf.caPath, ca.certificatePem);
      outcomes.push({ path: leaf.caPath, action: same ? "kept" : "issued", why: "mesh CA certificate", mode: MODES.mounted });
    }
  }
  ensureFolder(outDir, TLS_FOLDER);
  for (const outcome of outcomes) {
    ensureFolder(outDir, posix.dirname(outcome.path));
    const file = join(outDir, outcome.path);
    if (outcome.action === "issued") writeFileAtomically(file, contents.get(outcome.path) as string, outcome.mode);
    else chmodSync(file, outcome.mode);
  }
  return outcomes;
}

/**
 * The files a new render of `outDir` carries over from the old one: every certificate or key `npm
 * run certs` issued that the new compose file still mounts (the render would write a placeholder
 * over it), and the CAs, so that the mesh keeps its CA across renders. None for a render without
 * certificate files.
 */
export function issuedFilesToKeep(outDir: string, rendered: ReadonlyMap<string, string>): string[] {
  const mounted = [...rendered.keys()].filter((path) => path.startsWith(`${TLS_FOLDER}/`));
  if (mounted.length === 0) return [];
  return [...Object.values(CA_FILES), ...mounted].filter((path) => readIssued(outDir, path) !== undefined).sort();
}
