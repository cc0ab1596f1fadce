// Pure helpers of the docker end-to-end renewal test: which certificate to replace, how to copy an
// identity out of an Envoy container, and what `docker inspect` says about restarts. No side
// effects, so `npm test` checks them offline.
import * as path from "path";
import { CA_FILE, CERTIFICATE_FILE, IDENTITY_DIR, PRIVATE_KEY_FILE } from "../../envoy/names";

/** The Pulumi type of a leaf certificate (one per identity). */
export const LEAF_TYPE = "tls:index/locallySignedCert:LocallySignedCert";

/**
 * The URN of the leaf certificate of `proxy`'s identity among a stack's resources (MeshCertificates
 * names it `<component>-<proxy>-identity`); throws, listing the leaves, unless there is exactly one.
 */
export function leafCertificateUrn(resources: readonly { urn: string; type: string }[], proxy: string): string {
    const leaves = resources.filter((r) => r.type === LEAF_TYPE);
    const ofProxy = leaves.filter((r) => (r.urn.split("::").pop() ?? "").endsWith(`-${proxy}-identity`));
    if (ofProxy.length !== 1) {
        throw new Error(`expected one leaf certificate named after ${proxy}, found ${ofProxy.length} among: ${leaves.map((r) => r.urn).join(", ") || "none"}`);
    }
    return ofProxy[0].urn;
}

/**
 * `docker cp` arguments copying an identity's files out of an Envoy container into `into`. In the
 * container each name is a symlink through `..data/` into the current generation (the files
 * volume's layout), so each file is copied with `-L`, which copies the link's target under the
 * link's name (copyFromContainer with followLink, cli/command/container/cp.go in docker/cli);
 * copying the folder would bring the links and a generation folder only group 101 may enter.
 */
export function identityCopyArgs(container: string, into: string): string[][] {
    return [CERTIFICATE_FILE, PRIVATE_KEY_FILE, CA_FILE].map((file) => ["cp", "-L", `${container}:${IDENTITY_DIR}/${file}`, path.join(into, file)]);
}

/** What shows that a container was neither replaced nor restarted. */
export interface ContainerRun {
    readonly id: string;
    readonly startedAt: string;
    readonly restartCount: number;
}

/** Container name (without the leading slash) -> its run, from `docker inspect` output. */
export function containerRuns(inspectJson: string): Map<string, ContainerRun> {
    const parsed = JSON.parse(inspectJson) as { Id?: unknown; Name?: unknown; RestartCount?: unknown; State?: { StartedAt?: unknown } }[];
    if (!Array.isArray(parsed)) throw new Error("docker inspect printed no list");
    const runs = new Map<string, ContainerRun>();
    for (const c of parsed) {
        if (typeof c.Id !== "string" || typeof c.Name !== "string" || typeof c.State?.StartedAt !== "string") {
            throw new Error(`docker inspect: a container without Id, Name or State.StartedAt: ${JSON.stringify(c).slice(0, 200)}`);
        }
        runs.set(c.Name.replace(/^\//, ""), { id: c.Id, startedAt: c.State.StartedAt, restartCount: typeof c.RestartCount === "number" ? c.RestartCount : 0 });
    }
    return runs;
}

/** The containers whose run differs between two snapshots (replaced, restarted, gone or new), with what changed. */
export function changedRuns(before: ReadonlyMap<string, ContainerRun>, after: ReadonlyMap<string, ContainerRun>): string[] {
    const names = [...new Set([...before.keys(), ...after.keys()])].sort();
    return names.flatMap((name) => {
        const [b, a] = [before.get(name), after.get(name)];
        if (b === undefined) return [`${name}: new`];
        if (a === undefined) return [`${name}: gone`];
        const what = [
            ...(a.id !== b.id ? [`id ${b.id.slice(0, 12)} -> ${a.id.slice(0, 12)}`] : []),
            ...(a.startedAt !== b.startedAt ? [`started ${b.startedAt} -> ${a.startedAt}`] : []),
            ...(a.restartCount !== b.restartCount ? [`restarts ${b.restartCount} -> ${a.restartCount}`] : []),
        ];
        return what.length > 0 ? [`${name}: ${what.join(", ")}`] : [];
    });
}
