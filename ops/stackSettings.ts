import { DEFAULT_KIND_REGISTRY, parseStackSettings, projectDefaults, readStackValues } from "../stack";
import { ConfigError } from "../topology/reader";
import { OpsError } from "./errors";

/** The local stack that `npm run up` and `npm run down` drive. */
export const KIND_STACK = "kind";

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
    };
}

/**
 * Reads Pulumi.kind.yaml with Pulumi's stack-config rules and the program's own parser, so `npm run up` refuses a bad config
 * (topology included) with the program's messages before it creates anything.
 */
export function readSettings(repoRoot: string): KindStackSettings {
    const file = `Pulumi.${KIND_STACK}.yaml`;
    try {
        const values = readStackValues(repoRoot, KIND_STACK);
        if (values.target !== undefined && values.target !== "kind") {
            throw new OpsError(
                `${file}: config ${projectDefaults().project}:target is ${JSON.stringify(values.target)}; ` + `npm run up deploys the local kind stack, whose target must be "kind"`,
            );
        }
        const s = parseStackSettings(values);
        if (s.target !== "kind" || s.cluster.target !== "kind" || s.mesh.front.type !== "NodePort") {
            throw new OpsError(`${file}: the stack does not describe a kind cluster with a NodePort front`);
        }
        return {
            target: "kind",
            namespace: s.mesh.namespace,
            kindClusterName: s.cluster.clusterName,
            registry: s.registry.server,
            frontNodePort: s.mesh.front.nodePort,
        };
    } catch (e) {
        if (e instanceof ConfigError) {
            throw new OpsError(`${file}: ${e.message}`);
        }
        throw e;
    }
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
