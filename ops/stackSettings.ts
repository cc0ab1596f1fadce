import * as fs from "fs";
import * as path from "path";
import { DEFAULT_KIND_REGISTRY, parseStackSettings, projectDefaults, readStackValues } from "../stack";
import { DEFAULT_PLAIN_HTTP, DEFAULT_PORTS, DEFAULT_SECURITY, type Topology } from "../topology";
import { ConfigError } from "../topology/reader";
import { faultWarning } from "../topology/edge";
import { OpsError } from "./errors";

/** The local kind stack: what `npm run up` and `npm run down` drive unless told `--stack`. */
export const KIND_STACK = "kind";
/** The local Docker stack: the mesh as containers on this machine's Docker engine, no cluster. */
export const DOCKER_STACK = "docker";
/** The stacks `npm run up` and `npm run down` drive; each stack's file must set the target of the same name. */
export const UP_STACKS = [KIND_STACK, DOCKER_STACK] as const;
export type UpStack = (typeof UP_STACKS)[number];

export function isUpStack(name: string): name is UpStack {
    return (UP_STACKS as readonly string[]).includes(name);
}

/** The config values the docker workflow needs. */
export interface DockerStackSettings {
    /** `envoy-mesh:target`; always `docker` here. */
    readonly target: "docker";
    /** Where the Front Envoy container is published: 127.0.0.1 only, never every interface. */
    readonly frontHost: "127.0.0.1";
    /** The host port the Front Envoy is published on: 8080, as on kind. */
    readonly frontHostPort: number;
    /** The host port the Front Envoy's HTTPS is published on: 8443, as on kind. */
    readonly frontTlsHostPort: number;
    /** The user-defined Docker network the mesh's containers join (the stack's namespace). */
    readonly network: string;
    /** `topology.ports.health`: each Envoy's health listener, which also serves `/stats`. */
    readonly healthPort: number;
    readonly security: MeshSecurity;
}

/** The config values the kind workflow needs, as the Pulumi program reads them (defaults applied). */
export interface KindStackSettings {
    /** `envoy-mesh:target`; always `kind` here. */
    readonly target: "kind";
    /** `envoy-mesh:namespace`. Default: `envoy-mesh`. */
    readonly namespace: string;
    /** `envoy-mesh:kindClusterName`. Default: `envoy-mesh`; the kube context is `kind-<name>`. */
    readonly kindClusterName: string;
    /** `envoy-mesh:registry`. Default (also for an empty value): `localhost:5001`, kind's documented local registry. */
    readonly registry: string;
    /** `envoy-mesh:frontNodePort`. Default: 30080. */
    readonly frontNodePort: number;
    /** `envoy-mesh:frontTlsNodePort`, the Front Envoy's HTTPS NodePort. Default: 30443, which kind/cluster.yaml maps to 127.0.0.1:8443. */
    readonly frontTlsNodePort: number;
    /** `topology.ports.health`: each Envoy's health listener, which also serves `/stats`. */
    readonly healthPort: number;
    /** What `up` tells the user about the mesh's security (the topology's `security` and `front.plainHttp`). */
    readonly security: MeshSecurity;
    /** `envoy-mesh:observability.addons`: `up` then says how to open Jaeger, Grafana and Prometheus. Default: false. */
    readonly addons: boolean;
}

/** The parts of the topology that change what `npm run up` checks and prints. */
export interface MeshSecurity {
    /** `security.mtls`: `off` gets a warning. */
    readonly mtls: "strict" | "off";
    /** `front.plainHttp`: whether http://localhost:8080/ serves the mesh. */
    readonly plainHttp: "serve" | "redirect" | "off";
    /** `security.certificates.renewBeforeHours`: a certificate closer than this to its expiry should have been renewed. */
    readonly renewBeforeHours: number;
    /** Set when the topology injects faults: the warning naming every faulty edge (topology/edge.ts). */
    readonly faultWarning?: string;
}

function securityOf(topology: Topology): MeshSecurity {
    const faults = faultWarning(topology);
    return {
        mtls: topology.security.mtls,
        plainHttp: topology.front.plainHttp,
        renewBeforeHours: topology.security.certificates.renewBeforeHours,
        ...(faults !== undefined ? { faultWarning: faults } : {}),
    };
}

/** The settings of a kind stack that sets nothing: the defaults Pulumi.yaml declares. */
export function defaultSettings(): KindStackSettings {
    const defaults = projectDefaults();
    return {
        target: "kind",
        namespace: defaults.namespace,
        kindClusterName: defaults.kindClusterName,
        registry: DEFAULT_KIND_REGISTRY,
        frontNodePort: defaults.frontNodePort,
        frontTlsNodePort: defaults.frontTlsNodePort,
        healthPort: DEFAULT_PORTS.health,
        security: { mtls: DEFAULT_SECURITY.mtls, plainHttp: DEFAULT_PLAIN_HTTP, renewBeforeHours: DEFAULT_SECURITY.certificates.renewBeforeHours },
        addons: false,
    };
}

/**
 * Reads Pulumi.<stack>.yaml with Pulumi's stack-config rules and checks that its target is the
 * stack's own (`npm run up -- --stack docker` deploys only a docker target, and so on), before
 * the program's parser sees it.
 */
function readStackOf(repoRoot: string, stack: UpStack): Record<string, unknown> {
    if (!fs.existsSync(path.join(repoRoot, `Pulumi.${stack}.yaml`))) {
        throw new OpsError(`Pulumi.${stack}.yaml: not found in ${repoRoot}; the ${stack} stack's file sets ${projectDefaults().project}:target: ${stack}`);
    }
    const values = readStackValues(repoRoot, stack);
    // Unset means the project's default target (kind), as the program reads it: a docker stack file must say docker.
    const target = values.target === undefined || values.target === "" ? projectDefaults().target : values.target;
    if (target !== stack) {
        throw new OpsError(
            `Pulumi.${stack}.yaml: config ${projectDefaults().project}:target is ${JSON.stringify(target)}; ` +
                `npm run up deploys the local ${stack} stack, whose target must be "${stack}"`,
        );
    }
    return values;
}

/** Runs `read` on the stack's file; the program's config errors come back naming the file. */
function withFile<T>(stack: UpStack, read: () => T): T {
    try {
        return read();
    } catch (e) {
        if (e instanceof ConfigError) {
            throw new OpsError(`Pulumi.${stack}.yaml: ${e.message}`);
        }
        throw e;
    }
}

/**
 * Reads Pulumi.kind.yaml with Pulumi's stack-config rules and the program's own parser, so `npm run up` refuses a bad config
 * (topology included) with the program's messages before it creates anything.
 */
export function readSettings(repoRoot: string): KindStackSettings {
    return withFile(KIND_STACK, () => {
        const s = parseStackSettings(readStackOf(repoRoot, KIND_STACK));
        if (s.target !== "kind" || s.cluster.target !== "kind" || s.mesh.front.type !== "NodePort") {
            throw new OpsError(`Pulumi.${KIND_STACK}.yaml: the stack does not describe a kind cluster with a NodePort front`);
        }
        return {
            target: "kind",
            namespace: s.mesh.namespace,
            kindClusterName: s.cluster.clusterName,
            registry: s.registry.server,
            frontNodePort: s.mesh.front.nodePort,
            frontTlsNodePort: s.mesh.front.tlsNodePort,
            healthPort: s.topology.ports.health,
            security: securityOf(s.topology),
            addons: s.observability.addons,
        };
    });
}

/**
 * Reads Pulumi.docker.yaml the same way: Pulumi's rules, its target must be docker, then the
 * program's parser (topology included), so a bad file is refused before any container exists.
 */
export function readDockerSettings(repoRoot: string): DockerStackSettings {
    return withFile(DOCKER_STACK, () => {
        const s = parseStackSettings(readStackOf(repoRoot, DOCKER_STACK));
        if (s.target !== "docker" || s.docker.front.hostIp !== "127.0.0.1") {
            throw new OpsError(`Pulumi.${DOCKER_STACK}.yaml: the stack does not describe a docker target published on 127.0.0.1`);
        }
        return {
            target: "docker",
            frontHost: "127.0.0.1",
            frontHostPort: s.docker.front.hostPort,
            frontTlsHostPort: s.docker.front.tlsHostPort,
            network: s.docker.name,
            healthPort: s.topology.ports.health,
            security: securityOf(s.topology),
        };
    });
}

/** The host port of a registry on this machine (`localhost:5001` -> 5001), or undefined for a remote one. */
export function localRegistryPort(registry: string): number | undefined {
    const m = /^(?:localhost|127\.0\.0\.1):(\d{1,5})(?:\/.*)?$/.exec(registry);
    if (!m) {
        return undefined;
    }
    const p = Number(m[1]);
    return p >= 1 && p <= 65535 ? p : undefined;
}
