/**
 * Stack config defaults, read from the project's Pulumi.yaml: the file the Pulumi CLI fills them
 * in from is their one source of truth. A Pulumi.yaml that Pulumi would refuse is refused here.
 */
import { join } from "node:path";
import { ConfigError } from "../topology/reader";
import { projectFilePath, readProject } from "./projectFile";

import { LOCAL_FRONT_HOST_PORT, TARGETS, type Target } from "./targets";

export { DEFAULT_KIND_REGISTRY, TARGETS, type Target } from "./targets";

const PROJECT_DIR = join(__dirname, "..");

/** The defaults Pulumi.yaml declares, and the project name (the config namespace). */
export interface ProjectDefaults {
  /** The config namespace: the project's name (`envoy-mesh`). */
  readonly project: string;
  readonly target: Target;
  readonly namespace: string;
  readonly clusterDomain: string;
  /** Pinned by tag and digest to a release at or above the Envoy API the validator checks against. */
  readonly envoyImage: string;
  readonly kindClusterName: string;
  /** NodePort of the Front Envoy on kind; the kind cluster config maps it to KIND_HOST_PORT. */
  readonly frontNodePort: number;
  /** NodePort of the Front Envoy's HTTPS on kind; the kind cluster config maps it to port 8443. */
  readonly frontTlsNodePort: number;
}

let cached: ProjectDefaults | undefined;

/**
 * Read on first use, not at import: a Pulumi.yaml that Pulumi would refuse is then a ConfigError
 * that each command reports as a user mistake, not a crash while loading modules.
 */
export function projectDefaults(): ProjectDefaults {
  return (cached ??= readProjectDefaults());
}

function readProjectDefaults(): ProjectDefaults {
  const project = readProject(PROJECT_DIR);
  const invalid = (message: string) => new ConfigError([{ path: projectFilePath(PROJECT_DIR), message }], "invalid project file");
  function declaredDefault<T extends "string" | "integer" | "boolean">(key: string, type: T): T extends "integer" ? number : T extends "boolean" ? boolean : string {
    const declared = project.config[key];
    const value = declared?.default;
    const ok = declared?.type === type && (type === "integer" ? Number.isInteger(value) : typeof value === type);
    if (!ok) throw invalid(`config ${key} must be declared with type ${type} and a default`);
    return value as T extends "integer" ? number : T extends "boolean" ? boolean : string;
  }
  const target = declaredDefault("target", "string");
  if (!(TARGETS as readonly string[]).includes(target)) throw invalid(`config target default ${JSON.stringify(target)} is not one of ${TARGETS.join(", ")}`);
  return {
    project: project.name,
    target: target as Target,
    namespace: declaredDefault("namespace", "string"),
    clusterDomain: declaredDefault("clusterDomain", "string"),
    envoyImage: declaredDefault("envoyImage", "string"),
    kindClusterName: declaredDefault("kindClusterName", "string"),
    frontNodePort: declaredDefault("frontNodePort", "integer"),
    frontTlsNodePort: declaredDefault("frontTlsNodePort", "integer"),
  };
}

export const KIND_HOST_PORT = LOCAL_FRONT_HOST_PORT;
