import { X509Certificate } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { OpsError } from "./errors";
import { StackOutputs, stringOutput } from "./pulumiStack";
import { MeshSecurity } from "./stackSettings";

/** Files `npm run up` leaves for the user, per local stack, relative to the repository root (git-ignored). */
export const LOCAL_DIR = ".mesh";
/** The local edge CA's certificate: what `curl --cacert` trusts for https://localhost:8443/. */
export const EDGE_CA_FILE = "edge-ca.crt";

/** Stack outputs the program exports for the edge and the certificates' lifetimes. */
export const EDGE_CA_OUTPUT = "edgeCaCertificate";
export const CERTIFICATE_EXPIRIES_OUTPUT = "certificateExpiries";

/** `.mesh/<stack>`, absolute. */
export function localStackDir(repoRoot: string, stack: string): string {
    return path.join(repoRoot, LOCAL_DIR, stack);
}

/** Where `up` writes the edge CA of `stack`, relative to the repository root (as printed). */
export function edgeCaRelativePath(stack: string): string {
    return path.posix.join(LOCAL_DIR, stack, EDGE_CA_FILE);
}

/**
 * Writes the stack's edge CA certificate to `.mesh/<stack>/edge-ca.crt` (mode 0644: a certificate
 * is public) and returns its absolute path. The output must be one PEM certificate of a CA.
 */
export function writeEdgeCa(repoRoot: string, stack: string, outputs: StackOutputs): string {
    const pem = stringOutput(outputs, EDGE_CA_OUTPUT);
    if (pem === undefined) {
        throw new OpsError(
            `stack ${stack} has no string output ${EDGE_CA_OUTPUT} (the local edge CA's certificate) after the update ` +
                `(outputs: ${Object.keys(outputs).sort().join(", ") || "none"})`,
        );
    }
    let cert: X509Certificate;
    try {
        cert = new X509Certificate(pem);
    } catch (e) {
        throw new OpsError(`stack ${stack}: output ${EDGE_CA_OUTPUT} is not a PEM certificate: ${(e as Error).message}`);
    }
    if (!cert.ca) {
        throw new OpsError(`stack ${stack}: output ${EDGE_CA_OUTPUT} is a certificate for ${cert.subject.replace(/\n/g, ", ")}, not a CA's`);
    }
    const dir = localStackDir(repoRoot, stack);
    fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
    const file = path.join(dir, EDGE_CA_FILE);
    fs.writeFileSync(file, pem.endsWith("\n") ? pem : `${pem}\n`, { mode: 0o644 });
    // An existing file keeps its mode through writeFileSync, and the umask may have narrowed a new one.
    fs.chmodSync(file, 0o644);
    return file;
}

/** Removes `.mesh/<stack>/`; says whether there was one. */
export function removeLocalStackDir(repoRoot: string, stack: string): boolean {
    const dir = localStackDir(repoRoot, stack);
    if (!fs.existsSync(dir)) {
        return false;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    return true;
}

/** The line `up` prints (before the update and again at the end) when the topology turns mTLS off. */
export const MTLS_OFF_WARNING =
    "warning: security.mtls is off in this stack's topology: the proxies talk plain HTTP to each other and every service accepts any caller. " +
    "Use it for debugging only; remove `security.mtls: off` to get mTLS and authorization back.";

/** A certificate that is inside its renewal window after an update: the update should have renewed it. */
export interface DueCertificate {
    readonly name: string;
    readonly expiresAt: string;
}

/**
 * The certificates, from the `certificateExpiries` output (name -> RFC 3339 expiry), that expire
 * within `renewBeforeHours` of `nowMs`. Right after `pulumi up` there should be none: the TLS
 * provider plans a replacement for every certificate inside its early-renewal window.
 */
export function certificatesDue(outputs: StackOutputs, nowMs: number, renewBeforeHours: number): DueCertificate[] {
    const value = outputs[CERTIFICATE_EXPIRIES_OUTPUT]?.value;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return [];
    }
    const due: DueCertificate[] = [];
    for (const [name, expiresAt] of Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        if (typeof expiresAt !== "string") continue;
        const at = Date.parse(expiresAt);
        if (!Number.isNaN(at) && at - nowMs <= renewBeforeHours * 3_600_000) {
            due.push({ name, expiresAt });
        }
    }
    return due;
}

/** The warning for certificates an update left inside their renewal window. */
export function dueWarning(due: readonly DueCertificate[], renewBeforeHours: number, stack: string): string {
    return (
        `warning: ${due.length === 1 ? "a certificate is" : `${due.length} certificates are`} inside the renewal window ` +
        `(security.certificates.renewBeforeHours: ${renewBeforeHours}) after the update, and should have been renewed:\n` +
        due.map((d) => `  - ${d.name}: expires ${d.expiresAt}`).join("\n") +
        `\n  Run \`pulumi up --refresh --stack ${stack}\` (see docs on certificate renewal) and check \`pulumi stack output ${CERTIFICATE_EXPIRIES_OUTPUT}\`.`
    );
}

/** What `up` prints last: how to reach the mesh, plain and over HTTPS, and any warning about its security. */
export function waysIn(plainUrl: string, tlsUrl: string, stack: string, security: MeshSecurity): string[] {
    const lines = ["The mesh answers at:"];
    if (security.plainHttp === "serve") lines.push(`  curl ${plainUrl}`);
    lines.push(`  curl --cacert ${edgeCaRelativePath(stack)} ${tlsUrl}`);
    if (security.plainHttp === "redirect") lines.push(`  (${plainUrl} redirects to HTTPS: curl -L --cacert ${edgeCaRelativePath(stack)} ${plainUrl})`);
    return lines;
}
