/**
 * Service names and what is derived from them. Pure, no Node imports, so that the
 * Kubernetes builders can import it and set exactly the variables the app reads.
 */

/** RFC 1035 label, which Kubernetes requires of a Service name (and so of a mesh service). */
const SERVICE_NAME_PATTERN = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Human wording of the rule, for error messages. */
export const SERVICE_NAME_RULE =
  "a lowercase DNS label: letters, digits and '-', starting with a letter, ending with a letter or digit, at most 63 characters";

/** True if `name` can name a mesh service (and its Kubernetes Service). */
export function isServiceName(name: string): boolean {
  return SERVICE_NAME_PATTERN.test(name);
}

/**
 * The environment variable that holds the URL of upstream `name`:
 * upper-case, '-' becomes '_', suffix `_URL` (`service-b` -> `SERVICE_B_URL`).
 * Distinct service names always give distinct variables.
 */
export function upstreamUrlEnvVar(name: string): string {
  if (!isServiceName(name)) {
    throw new Error(`upstream name must be ${SERVICE_NAME_RULE}, got ${JSON.stringify(name)}`);
  }
  return `${name.toUpperCase().replace(/-/g, "_")}_URL`;
}

/**
 * How a service introduces itself: parts split on '-', one-letter parts upper-cased
 * (`service-b` -> `service B`, `payments` -> `payments`).
 */
export function displayName(name: string): string {
  return name
    .split("-")
    .map((part) => (part.length === 1 ? part.toUpperCase() : part))
    .join(" ");
}

/** `text` with its first character upper-cased (`service B` -> `Service B`). */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * Request header that pins a version: a caller's sidecar sends a request carrying
 * `x-mesh-version: v2` to version `v2` of the service it calls, whatever the weights. The demo
 * app copies it onto its own calls, so one header pins every hop that has such a version.
 */
export const VERSION_HEADER = "x-mesh-version";

/** Environment variable naming the version a workload runs; set only for a service with versions. */
export const SERVICE_VERSION_ENV = "SERVICE_VERSION";

/** RFC 1123 label: a version suffixes Kubernetes names (`<service>-<version>`) and is a label value. */
const VERSION_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Human wording of the rule, for error messages. */
export const VERSION_NAME_RULE = "a lowercase DNS label: letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";

/** True if `name` can name a version of a service. */
export function isVersionName(name: string): boolean {
  return VERSION_NAME_PATTERN.test(name);
}
