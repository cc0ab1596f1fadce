// What the end-to-end tests run inside the mesh to prove its zero-trust rules: a throwaway curl
// client, as a pod on kind or a container on docker, with or without a mesh identity. Pure
// helpers (no side effects), so `npm test` checks them offline.
import { X509Certificate } from "crypto";
import { CA_FILE, CERTIFICATE_FILE, PRIVATE_KEY_FILE } from "../../envoy/names";

/**
 * curl 8.11.1 (OpenSSL build; `-w '%{certs}'` prints the server's chain as PEM, since 7.88.0),
 * pinned by the digest of its image index as published on Docker Hub. The image runs as
 * curl_user, UID 100, and has a shell and `sleep`.
 */
export const CURL_IMAGE = "curlimages/curl:8.11.1@sha256:c1fe1679c34d9784c1b0d1e5f62ac0a79fca01fb6377cdd33e90473c6f9f9a69";
export const CURL_UID = 100;

/** Where a probe finds an identity's files: `<dir>/tls.crt`, `tls.key`, `ca.crt`. */
export interface Identity {
    readonly dir: string;
}

/**
 * A pod that sleeps so tests can `kubectl exec` curl in it. It satisfies the restricted Pod
 * Security Standard the mesh's namespace enforces (non-root, no privilege escalation, all
 * capabilities dropped, RuntimeDefault seccomp), and mounts the given identity Secrets (Secret
 * name -> directory) read-only, readable by its user.
 */
export function probePod(name: string, namespace: string, secrets: Readonly<Record<string, string>> = {}): Record<string, unknown> {
    const mounts = Object.entries(secrets).sort(([a], [b]) => (a < b ? -1 : 1));
    return {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace, labels: { "app.kubernetes.io/name": "mesh-e2e-probe" } },
        spec: {
            restartPolicy: "Never",
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 0,
            securityContext: { runAsNonRoot: true, runAsUser: CURL_UID, runAsGroup: CURL_UID, fsGroup: CURL_UID, seccompProfile: { type: "RuntimeDefault" } },
            containers: [
                {
                    name: "curl",
                    image: CURL_IMAGE,
                    command: ["sleep", "3600"],
                    securityContext: {
                        allowPrivilegeEscalation: false,
                        readOnlyRootFilesystem: true,
                        runAsNonRoot: true,
                        capabilities: { drop: ["ALL"] },
                    },
                    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { memory: "64Mi" } },
                    volumeMounts: mounts.map(([, dir], i) => ({ name: `identity-${i}`, mountPath: dir, readOnly: true })),
                },
            ],
            volumes: mounts.map(([secret], i) => ({ name: `identity-${i}`, secret: { secretName: secret, defaultMode: 0o440 } })),
        },
    };
}

/** Separates curl's body from what `-w` appends after it. */
const STATUS_MARK = "\n--mesh-e2e-status:";

/**
 * curl arguments for one GET over TLS 1.3 to a sidecar's ingress, as a mesh caller makes it: SNI
 * is the URL's host (curl sends it for a name, as Envoy's upstream TLS does), and the client
 * certificate is the identity's, when there is one. Chain and name checks are off (`-k`): a
 * mesh certificate carries no DNS name for curl to match, only a SPIFFE ID. The server's
 * certificate is printed instead (`%{certs}`), and the tests check its chain and SPIFFE ID with
 * node's X509Certificate (servedCertificate). The body, the status and the chain all go to stdout.
 */
export function meshCurlArgs(url: string, identity?: Identity): string[] {
    const id = identity ? ["--cert", `${identity.dir}/${CERTIFICATE_FILE}`, "--key", `${identity.dir}/${PRIVATE_KEY_FILE}`] : [];
    return ["curl", "-sS", "-k", "--tlsv1.3", "--max-time", "10", ...id, "-w", `${STATUS_MARK}%{http_code}\n%{certs}`, url];
}

/** curl arguments for a plain-HTTP GET, as a workload without a mesh certificate would try. */
export function plainCurlArgs(url: string): string[] {
    return ["curl", "-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}", url];
}

/** The CA file inside an identity directory. */
export function caPath(identity: Identity): string {
    return `${identity.dir}/${CA_FILE}`;
}

export interface MeshAnswer {
    readonly status: number;
    readonly body: string;
    /** The first certificate of the chain the server sent, when the handshake got that far. */
    readonly served?: X509Certificate;
}

/** Reads the output of meshCurlArgs. */
export function parseMeshCurl(stdout: string): MeshAnswer {
    const at = stdout.lastIndexOf(STATUS_MARK);
    if (at < 0) {
        throw new Error(`curl printed no status: ${JSON.stringify(stdout.slice(0, 200))}`);
    }
    const body = stdout.slice(0, at);
    const rest = stdout.slice(at + STATUS_MARK.length);
    const status = Number(rest.split("\n")[0]);
    const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(rest);
    return { status, body, ...(pem ? { served: new X509Certificate(pem[0]) } : {}) };
}

/** The URI SANs of a certificate (`URI:spiffe://...` entries of its subjectAltName). */
export function uriSans(cert: X509Certificate): string[] {
    return (cert.subjectAltName ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s.startsWith("URI:"))
        .map((s) => s.slice("URI:".length));
}
