import * as fs from "fs";
import * as path from "path";
import { OpsError } from "./errors";
import { isRecord, readYamlFile } from "./yaml";

/** The Pulumi project name (Pulumi.yaml `name:`) and so the config namespace. */
export const PROJECT = "envoy-mesh";

/** The local stack that `npm run up` and `npm run down` drive. */
export const KIND_STACK = "kind";

/** The config values the kind workflow needs, with the program's defaults applied. */
export interface KindStackSettings {
    /** `envoy-mesh:target`. Default: `kind`. `npm run up` accepts only `kind`. */
    readonly target: string;
    /** `envoy-mesh:namespace`. Default: `envoy-mesh`. */
    readonly namespace: string;
    /** `envoy-mesh:kindClusterName`. Default: `envoy-mesh`; the kube context is `kind-<name>`. */
    readonly kindClusterName: string;
    /** `envoy-mesh:registry`. Default (also for an empty value): `localhost:5001`, kind's documented local registry. */
    readonly registry: string;
    /** `envoy-mesh:frontNodePort`. Default: 30080. */
    readonly frontNodePort: number;
}

export const DEFAULT_SETTINGS: KindStackSettings = {
    target: "kind",
    namespace: "envoy-mesh",
    kindClusterName: "envoy-mesh",
    registry: "localhost:5001",
    frontNodePort: 30080,
};

type Key = keyof KindStackSettings;
const KEYS: readonly Key[] = ["target", "namespace", "kindClusterName", "registry", "frontNodePort"];

/** Project config in Pulumi.yaml: `key: {default: v}`, `key: {value: v}` or `key: v`, key with or without namespace. */
function projectValue(config: Record<string, unknown>, key: Key): unknown {
    const raw = config[`${PROJECT}:${key}`] ?? config[key];
    if (isRecord(raw)) {
        return raw.value ?? raw.default;
    }
    return raw;
}

function check(key: Key, value: unknown, file: string): string | number {
    const field = `${file}: config ${PROJECT}:${key}`;
    const shown = JSON.stringify(value);
    switch (key) {
        case "frontNodePort": {
            const n = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
            if (typeof n !== "number" || !Number.isInteger(n) || n < 30000 || n > 32767) {
                throw new OpsError(`${field}: must be a NodePort number 30000-32767 (got ${shown})`);
            }
            return n;
        }
        case "target":
            if (value !== "kind" && value !== "cloud") {
                throw new OpsError(`${field}: must be "kind" or "cloud" (got ${shown})`);
            }
            return value;
        case "kindClusterName":
            // kind names clusters after DNS labels: its node containers are `<name>-control-plane`.
            if (typeof value !== "string" || !/^[a-z0-9]([-a-z0-9]{0,48}[a-z0-9])?$/.test(value)) {
                throw new OpsError(`${field}: must be lower-case letters, digits and '-', at most 50 characters (got ${shown})`);
            }
            return value;
        case "registry":
            // Empty means the target's default: kind's local registry.
            if (value === "") {
                return DEFAULT_SETTINGS.registry;
            }
            if (typeof value !== "string") {
                throw new OpsError(`${field}: must be a string (got ${shown})`);
            }
            return value;
        case "namespace":
            if (typeof value !== "string" || value.length === 0) {
                throw new OpsError(`${field}: must be a non-empty string (got ${shown})`);
            }
            return value;
    }
}

/**
 * Applies, in order: built-in defaults, Pulumi.yaml project config, Pulumi.<stack>.yaml config.
 * Every bad value is reported with the file and key it came from.
 */
export function resolveSettings(
    projectDoc: unknown,
    stackDoc: unknown,
    labels: { project: string; stack: string } = { project: "Pulumi.yaml", stack: `Pulumi.${KIND_STACK}.yaml` },
): KindStackSettings {
    const projectConfig = isRecord(projectDoc) && isRecord(projectDoc.config) ? projectDoc.config : {};
    if (stackDoc !== undefined && stackDoc !== null && !isRecord(stackDoc)) {
        throw new OpsError(`${labels.stack}: must be a mapping with a config: section`);
    }
    const stackConfig = isRecord(stackDoc) && isRecord(stackDoc.config) ? stackDoc.config : {};
    const out: Record<string, string | number> = { ...DEFAULT_SETTINGS };
    for (const key of KEYS) {
        const fromProject = projectValue(projectConfig, key);
        if (fromProject !== undefined) {
            out[key] = check(key, fromProject, labels.project);
        }
        const fromStack = stackConfig[`${PROJECT}:${key}`];
        if (fromStack !== undefined) {
            out[key] = check(key, fromStack, labels.stack);
        }
    }
    return out as unknown as KindStackSettings;
}

/** Reads Pulumi.yaml (required) and Pulumi.kind.yaml (optional) from the repository root. */
export function readSettings(repoRoot: string): KindStackSettings {
    const projectFile = path.join(repoRoot, "Pulumi.yaml");
    if (!fs.existsSync(projectFile)) {
        throw new OpsError(`Pulumi.yaml not found in ${repoRoot}: run this from the repository`);
    }
    const stackFile = path.join(repoRoot, `Pulumi.${KIND_STACK}.yaml`);
    const stackDoc = fs.existsSync(stackFile) ? readYamlFile(stackFile, `Pulumi.${KIND_STACK}.yaml`) : undefined;
    return resolveSettings(readYamlFile(projectFile, "Pulumi.yaml"), stackDoc);
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
