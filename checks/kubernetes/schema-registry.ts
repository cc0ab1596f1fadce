import { existsSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { closestMatches } from "../suggest";

/**
 * The Kubernetes release whose OpenAPI schema the pinned `kubernetes-models` package (4.5.x)
 * was generated from, as its changelog states. A test checks fields that appeared in exactly
 * this release, so a package upgrade that changes the schema cannot leave this stale.
 */
export const kubernetesSchemaVersion = "1.33.0";

/** One ajv error as produced by the package's precompiled validators. */
export interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Readonly<Record<string, unknown>>;
  readonly message?: string;
}

/** Validates one object against the schema of its kind; returns every error (ajv `allErrors`). */
export type SchemaValidator = (data: unknown) => readonly SchemaError[];

export type KindLookup =
  | { readonly found: true; readonly validate: SchemaValidator }
  | { readonly found: false; readonly field: "apiVersion" | "kind"; readonly message: string };

const PACKAGE = "kubernetes-models";
const loadPackageFile = createRequire(__filename);
const packageRoot = path.dirname(loadPackageFile.resolve(`${PACKAGE}/package.json`));

// Shapes Kubernetes accepts; anything else never reaches the file system.
const API_VERSION = /^(?:[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\/)?v[1-9][0-9]*(?:(?:alpha|beta)[1-9][0-9]*)?$/;
const KIND = /^[A-Z][A-Za-z0-9]*$/;
/**
 * The package merges older specs to keep removed APIs (extensions/v1beta1, policy/v1beta1, ...).
 * Every alpha or beta version it carries is one of those: a default Kubernetes 1.33 serves
 * only GA versions of its built-in APIs. Only GA versions count as served here.
 */
const GA_VERSION = /(?:^|\/)v[1-9][0-9]*$/;

interface ModelClass {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
  readonly prototype: { validate?: (this: unknown) => void };
}

interface ValidationFailure {
  readonly validation: true;
  readonly errors: readonly SchemaError[];
}

function isValidationFailure(error: unknown): error is ValidationFailure {
  return (
    error instanceof Error &&
    (error as Partial<ValidationFailure>).validation === true &&
    Array.isArray((error as Partial<ValidationFailure>).errors)
  );
}

const models = new Map<string, ModelClass | null>();

/** The package's model class for a top-level kind, or undefined when that kind is not served. */
function loadModel(apiVersion: string, kind: string): ModelClass | undefined {
  const key = `${apiVersion}|${kind}`;
  const cached = models.get(key);
  if (cached !== undefined) {
    return cached ?? undefined;
  }
  let model: ModelClass | null = null;
  if (API_VERSION.test(apiVersion) && KIND.test(kind) && existsSync(path.join(packageRoot, apiVersion, `${kind}.js`))) {
    const exported = (loadPackageFile(`${PACKAGE}/${apiVersion}/${kind}`) as Record<string, unknown>)[kind];
    const candidate = exported as ModelClass | undefined;
    // Nested types (Container, PodSpec) live in the same folders but carry no apiVersion/kind.
    if (typeof exported === "function" && candidate?.apiVersion === apiVersion && candidate.kind === kind) {
      model = candidate;
    }
  }
  models.set(key, model);
  return model ?? undefined;
}

function isDirectory(file: string): boolean {
  return statSync(file).isDirectory();
}

let servedApiVersions: readonly string[] | undefined;

/** Every served apiVersion: `v1` for the core group, `group/version` for the rest. */
function apiVersions(): readonly string[] {
  if (servedApiVersions === undefined) {
    const found: string[] = [];
    for (const entry of readdirSync(packageRoot).sort()) {
      const dir = path.join(packageRoot, entry);
      if (entry.startsWith("_") || entry === "node_modules" || !isDirectory(dir)) {
        continue;
      }
      if (GA_VERSION.test(entry)) {
        found.push(entry);
        continue;
      }
      for (const version of readdirSync(dir).sort()) {
        if (GA_VERSION.test(version) && isDirectory(path.join(dir, version))) {
          found.push(`${entry}/${version}`);
        }
      }
    }
    servedApiVersions = found;
  }
  return servedApiVersions;
}

let builtInGroups: ReadonlySet<string> | undefined;

/**
 * Whether `apiVersion` names an API group that is not built into Kubernetes, so its kinds come
 * from a CustomResourceDefinition whose schema is not known here. A CRD's group must contain a
 * dot (apiextensions validation: "should be a domain with at least one dot"); the built-in
 * groups are the ones the schema package carries, in any version.
 */
export function isCustomResourceApiVersion(apiVersion: string): boolean {
  if (!API_VERSION.test(apiVersion) || !apiVersion.includes("/")) {
    return false;
  }
  const group = apiVersion.slice(0, apiVersion.indexOf("/"));
  if (!group.includes(".")) {
    return false;
  }
  if (builtInGroups === undefined) {
    builtInGroups = new Set(readdirSync(packageRoot).filter((entry) => entry.includes(".") && isDirectory(path.join(packageRoot, entry))));
  }
  return !builtInGroups.has(group);
}

function apiVersionsServing(kind: string): string[] {
  return apiVersions().filter((apiVersion) => loadModel(apiVersion, kind) !== undefined);
}

function kindsLike(apiVersion: string, kind: string): string[] {
  const dir = path.join(packageRoot, apiVersion);
  const names = readdirSync(dir)
    .filter((file) => file.endsWith(".js") && file !== "index.js")
    .map((file) => file.slice(0, -".js".length));
  return closestMatches(kind, names).filter((name) => loadModel(apiVersion, name) !== undefined);
}

function servedByHint(kind: string): string {
  const serving = apiVersionsServing(kind);
  return serving.length === 0 ? "" : `; ${kind} is served by ${serving.join(", ")}`;
}

function validatorOf(model: ModelClass): SchemaValidator {
  const validate = model.prototype.validate;
  if (validate === undefined) {
    throw new Error(`${PACKAGE} model for ${String(model.apiVersion)} ${String(model.kind)} has no validate function`);
  }
  return (data) => {
    try {
      validate.call(data);
      return [];
    } catch (error) {
      if (isValidationFailure(error)) {
        return error.errors;
      }
      throw error;
    }
  };
}

const validators = new Map<ModelClass, SchemaValidator>();

/**
 * Finds the schema for `apiVersion` + `kind`, or explains which of the two is unknown and what
 * the author probably meant. Schemas load on first use and stay cached.
 */
export function lookupKind(apiVersion: string, kind: string): KindLookup {
  const model = loadModel(apiVersion, kind);
  const release = `Kubernetes ${kubernetesSchemaVersion}`;
  if (model !== undefined && !GA_VERSION.test(apiVersion)) {
    return {
      found: false,
      field: "apiVersion",
      message: `apiVersion ${apiVersion} of ${kind} was removed before ${release}${servedByHint(kind)}`,
    };
  }
  if (model !== undefined) {
    let validate = validators.get(model);
    if (validate === undefined) {
      validate = validatorOf(model);
      validators.set(model, validate);
    }
    return { found: true, validate };
  }
  if (!apiVersions().includes(apiVersion)) {
    return {
      found: false,
      field: "apiVersion",
      message: `unknown apiVersion ${JSON.stringify(apiVersion)} (${release})${servedByHint(kind)}`,
    };
  }
  const similar = kindsLike(apiVersion, kind);
  const hint = similar.length > 0 ? `; did you mean ${similar.map((name) => JSON.stringify(name)).join(" or ")}?` : servedByHint(kind);
  return {
    found: false,
    field: "kind",
    message: `unknown kind ${JSON.stringify(kind)} in apiVersion ${apiVersion} (${release})${hint}`,
  };
}
