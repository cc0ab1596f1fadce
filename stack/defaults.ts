/**
 * Stack config defaults, read from the project's Pulumi.yaml: the file the Pulumi CLI fills them
 * in from is their one source of truth. A Pulumi.yaml that Pulumi would refuse is refused here.
 */
import { join } from "node:path";
import { ConfigError } from "../topology/reader";
import { projectFilePath, readProject } from "./projectFile";

export const TARGETS = ["kind", "cloud"] as const;
export type Target = (typeof TARGETS)[number];

const PROJECT_DIR = join(__dirname, "..");
const project = readProject(PROJECT_DIR);

function declaredDefault<T extends "string" | "integer" | "boolean">(key: string, type: T): T extends "integer" ? number : T extends "boolean" ? boolean : string {
  const declared = project.config[key];
  const value = declared?.default;
  const ok = declared?.type === type && (type === "integer" ? Number.isInteger(value) : typeof value === type);
  if (!ok) {
    throw new ConfigError([{ path: projectFilePath(PROJECT_DIR), message: `config ${key} must be declared with type ${type} and a default` }], "invalid project file");
  }
  return value as T extends "integer" ? number : T extends "boolean" ? boolean : string;
}

function oneOfTargets(value: string): Target {
  if ((TARGETS as readonly string[]).includes(value)) return value as Target;
  throw new ConfigError([{ path: projectFilePath(PROJECT_DIR), message: `config target default ${JSON.stringify(value)} is not one of ${TARGETS.join(", ")}` }], "invalid project file");
}

/** The config namespace: the project's name. */
export const PROJECT = project.name;
export const DEFAULT_TARGET: Target = oneOfTargets(declaredDefault("target", "string"));
export const DEFAULT_NAMESPACE = declaredDefault("namespace", "string");
export const DEFAULT_CLUSTER_DOMAIN = declaredDefault("clusterDomain", "string");
/** Pinned by tag and digest to a release at or above the Envoy API the validator checks against. */
export const DEFAULT_ENVOY_IMAGE = declaredDefault("envoyImage", "string");
export const DEFAULT_KIND_CLUSTER_NAME = declaredDefault("kindClusterName", "string");
/** NodePort of the Front Envoy on kind; the kind cluster config maps it to KIND_HOST_PORT. */
export const DEFAULT_FRONT_NODE_PORT = declaredDefault("frontNodePort", "integer");
/** Platform app images are built for: most cloud nodes are amd64, whatever the laptop is. */
export const DEFAULT_PLATFORM = declaredDefault("platform", "string");
/** kind's documented local registry, wired into the nodes' containerd (what an empty `registry` means on kind). */
export const DEFAULT_KIND_REGISTRY = "localhost:5001";
export const KIND_HOST_PORT = 8080;
