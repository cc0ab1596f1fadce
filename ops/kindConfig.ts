import { OpsError } from "./errors";
import { isPlainObject } from "../topology/reader";

/** Where the cluster config lives, relative to the repository root. */
export const KIND_CONFIG_FILE = "kind/cluster.yaml";

export interface PortMapping {
    readonly containerPort: number;
    readonly hostPort: number;
    /** Host address the port is bound to. kind's default: 0.0.0.0. */
    readonly listenAddress: string;
}

export interface KindNode {
    readonly role: string;
    /** Node image, e.g. `kindest/node:v1.35.8@sha256:...`; undefined means kind's default image. */
    readonly image?: string;
    readonly extraPortMappings: readonly PortMapping[];
}

/** The parts of a kind cluster config that `npm run up` relies on. */
export interface KindClusterConfig {
    /** `name:` in the file; kind's default is `kind`. */
    readonly name?: string;
    readonly nodes: readonly KindNode[];
    readonly containerdConfigPatches: readonly string[];
}

function fail(label: string, field: string, message: string): never {
    throw new OpsError(`${label}: ${field}: ${message}`);
}

function port(value: unknown, label: string, field: string): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > 65535) {
        fail(label, field, `must be a port number 1-65535 (got ${JSON.stringify(value)})`);
    }
    return value;
}

function parseMapping(value: unknown, label: string, field: string): PortMapping {
    if (!isPlainObject(value)) {
        fail(label, field, `must be a mapping (got ${JSON.stringify(value)})`);
    }
    const listen = value.listenAddress ?? "0.0.0.0";
    if (typeof listen !== "string") {
        fail(label, `${field}.listenAddress`, `must be a string (got ${JSON.stringify(listen)})`);
    }
    return {
        containerPort: port(value.containerPort, label, `${field}.containerPort`),
        hostPort: port(value.hostPort, label, `${field}.hostPort`),
        listenAddress: listen,
    };
}

function parseNode(value: unknown, label: string, field: string): KindNode {
    if (!isPlainObject(value)) {
        fail(label, field, `must be a mapping (got ${JSON.stringify(value)})`);
    }
    if (typeof value.role !== "string") {
        fail(label, `${field}.role`, `must be a string (got ${JSON.stringify(value.role)})`);
    }
    if (value.image !== undefined && typeof value.image !== "string") {
        fail(label, `${field}.image`, `must be a string (got ${JSON.stringify(value.image)})`);
    }
    const mappings = value.extraPortMappings ?? [];
    if (!Array.isArray(mappings)) {
        fail(label, `${field}.extraPortMappings`, `must be a list (got ${JSON.stringify(mappings)})`);
    }
    return {
        role: value.role,
        ...(value.image !== undefined ? { image: value.image } : {}),
        extraPortMappings: mappings.map((m, i) => parseMapping(m, label, `${field}.extraPortMappings[${i}]`)),
    };
}

/** Checks the shape of a parsed kind cluster config (kind: Cluster, v1alpha4). */
export function parseKindConfig(doc: unknown, label: string = KIND_CONFIG_FILE): KindClusterConfig {
    if (!isPlainObject(doc)) {
        fail(label, "(document)", "must be a mapping");
    }
    if (doc.kind !== "Cluster") {
        fail(label, "kind", `must be "Cluster" (got ${JSON.stringify(doc.kind)})`);
    }
    if (doc.apiVersion !== "kind.x-k8s.io/v1alpha4") {
        fail(label, "apiVersion", `must be "kind.x-k8s.io/v1alpha4" (got ${JSON.stringify(doc.apiVersion)})`);
    }
    if (doc.name !== undefined && typeof doc.name !== "string") {
        fail(label, "name", `must be a string (got ${JSON.stringify(doc.name)})`);
    }
    const nodes = doc.nodes ?? [{ role: "control-plane" }];
    if (!Array.isArray(nodes) || nodes.length === 0) {
        fail(label, "nodes", `must be a non-empty list (got ${JSON.stringify(nodes)})`);
    }
    const patches = doc.containerdConfigPatches ?? [];
    if (!Array.isArray(patches) || !patches.every((p) => typeof p === "string")) {
        fail(label, "containerdConfigPatches", "must be a list of strings");
    }
    return {
        ...(doc.name !== undefined ? { name: doc.name } : {}),
        nodes: nodes.map((n, i) => parseNode(n, label, `nodes[${i}]`)),
        containerdConfigPatches: patches,
    };
}

/**
 * The mapping that publishes the Front Envoy NodePort on the host. There must be exactly one,
 * on a control-plane node: with several, which host port serves the mesh would be ambiguous.
 */
export function frontPortMapping(
    config: KindClusterConfig,
    nodePort: number,
    label: string = KIND_CONFIG_FILE,
    what: string = "the Front Envoy NodePort, envoy-mesh:frontNodePort",
): PortMapping {
    const found = config.nodes.flatMap((n) => n.extraPortMappings.filter((m) => m.containerPort === nodePort));
    if (found.length !== 1) {
        fail(
            label,
            "nodes[].extraPortMappings",
            found.length === 0 ? `no entry maps containerPort ${nodePort} (${what}) to a host port` : `${found.length} entries map containerPort ${nodePort}; keep one`,
        );
    }
    return found[0];
}

/** The mapping that publishes the Front Envoy's HTTPS NodePort on the host (https://localhost:8443/). */
export function frontTlsPortMapping(config: KindClusterConfig, tlsNodePort: number, label: string = KIND_CONFIG_FILE): PortMapping {
    return frontPortMapping(config, tlsNodePort, label, "the Front Envoy's HTTPS NodePort, envoy-mesh:frontTlsNodePort");
}
