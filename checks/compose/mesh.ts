/**
 * The mesh's own rules on a compose document, beyond what the Compose Specification allows:
 * the shape of the mesh (every app shares one Envoy's network namespace and publishes nothing;
 * only the front proxy publishes, on 127.0.0.1 only), the hardening every container gets, and
 * the start order (an app starts once its Envoy is healthy). Each service says what it is with
 * the label `envoy-mesh.role`, so the document carries its own meaning and the rules need
 * nothing else. The labels are the ones the docker target puts on its containers: `envoy-mesh.role`
 * (`envoy` or `app`) and `envoy-mesh.proxy` (`front-envoy` for the front proxy).
 */
import { FRONT_PROXY_NAME } from "../../topology";
import { sortIssues, type ComposeIssue } from "./schema";

export const MESH_ROLE_LABEL = "envoy-mesh.role";
export const MESH_PROXY_LABEL = "envoy-mesh.proxy";
const LABELLED_ROLES = ["envoy", "app"] as const;
/** What a service is in the mesh: the front proxy, a service's Envoy (sidecar), or a service's app. */
export type MeshRole = "front" | "sidecar" | "app";

type Service = Readonly<Record<string, unknown>>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/** `labels` as a mapping or as a list of `key=value` (both are compose forms). */
export function serviceLabels(service: Service): Record<string, string> {
  const labels = service.labels;
  if (isObject(labels)) return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
  if (Array.isArray(labels)) {
    return Object.fromEntries(
      labels.map((entry) => {
        const [key, ...rest] = String(entry).split("=");
        return [key, rest.join("=")];
      }),
    );
  }
  return {};
}

/** The service a `network_mode: "service:<name>"` shares the namespace of, if any. */
export function sharedNamespaceOf(service: Service): string | undefined {
  const mode = service.network_mode;
  return typeof mode === "string" && mode.startsWith("service:") ? mode.slice("service:".length) : undefined;
}

/**
 * The host address a published port binds: compose's short syntax `[HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL]`
 * (an IPv6 host address in brackets), or the long syntax's `host_ip`. Undefined means every
 * interface, which is Docker's default for a published port.
 */
export function publishedHostIp(port: unknown): string | undefined {
  if (isObject(port)) return typeof port.host_ip === "string" && port.host_ip !== "" ? port.host_ip : undefined;
  if (typeof port !== "string") return undefined;
  const spec = port.split("/")[0];
  if (spec.startsWith("[")) return spec.slice(1, spec.indexOf("]"));
  const parts = spec.split(":");
  return parts.length === 3 && parts[0] !== "" ? parts[0] : undefined;
}

/**
 * moby daemon/oci_linux.go `parseSecurityOpt`: a bare `no-new-privileges` turns it on, and
 * `no-new-privileges=<bool>` (or the older `:<bool>`) sets it with Go's `strconv.ParseBool`.
 */
function setsNoNewPrivileges(option: unknown): boolean {
  if (typeof option !== "string") return false;
  if (option === "no-new-privileges") return true;
  const match = /^no-new-privileges[=:](.*)$/.exec(option);
  return match !== null && ["1", "t", "T", "true", "TRUE", "True"].includes(match[1]);
}

/** Root by name or by id, with or without a group. */
function isRootUser(user: string): boolean {
  const name = user.split(":")[0];
  return name === "" || name === "root" || name === "0";
}

function healthcheckIssues(service: Service, at: string): ComposeIssue[] {
  const check = service.healthcheck;
  if (!isObject(check)) return [{ path: `${at}.healthcheck`, message: "is required: compose waits on it before starting what depends on this service" }];
  const test = check.test;
  const disabled = check.disable === true || test === "NONE" || (Array.isArray(test) && test[0] === "NONE");
  if (disabled) return [{ path: `${at}.healthcheck`, message: "must not be disabled" }];
  // An image's own HEALTHCHECK is not part of the file, so the file must say what is checked.
  if (test === undefined || (Array.isArray(test) && test.length < 2)) return [{ path: `${at}.healthcheck.test`, message: "is required" }];
  return [];
}

/** Non-root, read-only, no capabilities, no privilege gain, bounded memory, restarted, health-checked, stopped gracefully. */
function hardeningIssues(service: Service, at: string): ComposeIssue[] {
  const issues: ComposeIssue[] = [];
  if (service.read_only !== true) issues.push({ path: `${at}.read_only`, message: "must be true (read-only root filesystem)" });
  const capDrop = Array.isArray(service.cap_drop) ? service.cap_drop.map((c) => String(c).toUpperCase()) : [];
  if (!capDrop.includes("ALL")) issues.push({ path: `${at}.cap_drop`, message: 'must include "ALL"' });
  if (Array.isArray(service.cap_add) && service.cap_add.length > 0) issues.push({ path: `${at}.cap_add`, message: "must be empty: the mesh needs no capability" });
  if (service.privileged === true) issues.push({ path: `${at}.privileged`, message: "must not be true" });
  const securityOpt = Array.isArray(service.security_opt) ? service.security_opt : [];
  if (!securityOpt.some(setsNoNewPrivileges)) issues.push({ path: `${at}.security_opt`, message: 'must include "no-new-privileges:true"' });
  if (typeof service.user !== "string") {
    issues.push({ path: `${at}.user`, message: "is required: a non-root user (an image's default user may be root)" });
  } else if (isRootUser(service.user)) {
    issues.push({ path: `${at}.user`, message: `must not be root, got ${JSON.stringify(service.user)}` });
  }
  const deployMemory = isObject(service.deploy) && isObject(service.deploy.resources) && isObject(service.deploy.resources.limits) ? service.deploy.resources.limits.memory : undefined;
  if (service.mem_limit === undefined && deployMemory === undefined) issues.push({ path: `${at}.mem_limit`, message: "is required (a memory limit)" });
  if (service.restart === undefined || service.restart === "no") issues.push({ path: `${at}.restart`, message: 'is required and must not be "no"' });
  if (service.stop_grace_period === undefined) issues.push({ path: `${at}.stop_grace_period`, message: "is required: the time Envoy and the app get to drain before they are killed" });
  issues.push(...healthcheckIssues(service, at));
  return issues;
}

/** The condition under which `service` waits for `dependency`, if it waits for it at all. */
function dependencyCondition(service: Service, dependency: string): string | undefined {
  const dependsOn = service.depends_on;
  // The short (list) form means "service_started" (compose-spec: depends_on).
  if (Array.isArray(dependsOn)) return dependsOn.includes(dependency) ? "service_started" : undefined;
  if (!isObject(dependsOn) || !isObject(dependsOn[dependency])) return undefined;
  const condition = dependsOn[dependency].condition;
  return typeof condition === "string" ? condition : "service_started";
}

/** The top-level secrets a service mounts: the short form names them, the long form's `source` does. */
function mountedSecrets(service: Service): string[] {
  const secrets = Array.isArray(service.secrets) ? service.secrets : [];
  return secrets.map((s) => (isObject(s) ? s.source : s)).filter((s): s is string => typeof s === "string");
}

/**
 * Certificates and keys are an Envoy's alone: no app mounts a secret, and each secret is
 * mounted by the Envoys of one proxy only (its replicas), never by another proxy's.
 */
function secretIssues(services: Record<string, unknown>, roles: ReadonlyMap<string, MeshRole>): ComposeIssue[] {
  const issues: ComposeIssue[] = [];
  const proxiesBySecret = new Map<string, Set<string>>();
  for (const [name, role] of roles) {
    const service = services[name] as Service;
    const secrets = mountedSecrets(service);
    if (role === "app") {
      if (secrets.length > 0) issues.push({ path: `services.${name}.secrets`, message: `must be empty: an app never sees a certificate or key, got ${secrets.join(", ")}` });
      continue;
    }
    const proxy = serviceLabels(service)[MESH_PROXY_LABEL] ?? name;
    for (const secret of secrets) proxiesBySecret.set(secret, new Set([...(proxiesBySecret.get(secret) ?? []), proxy]));
  }
  for (const [secret, proxies] of proxiesBySecret) {
    if (proxies.size > 1) {
      issues.push({ path: `secrets.${secret}`, message: `must be mounted by one proxy's Envoys only, got ${[...proxies].sort().join(", ")}` });
    }
  }
  return issues;
}

/** A mount's target, in the long syntax or the short `source:target[:mode]`. */
function mountTarget(entry: unknown): string {
  if (isObject(entry)) return String(entry.target);
  const parts = String(entry).split(":");
  return parts.length >= 2 ? parts[1] : parts[0];
}

/** Whether a mount is read-only: `read_only: true`, or `ro` among the short syntax's options (compose-go format/volume.go). */
function readOnlyMount(entry: unknown): boolean {
  if (isObject(entry)) return entry.read_only === true;
  const parts = String(entry).split(":");
  return parts.length >= 3 && parts[2].split(",").includes("ro");
}

/**
 * What a service mounts: an Envoy only read-only (the xDS folder it reloads; a writable mount
 * would undo its read-only root filesystem), an app nothing (an Envoy's config is its own).
 */
function mountIssues(service: Service, at: string, role: MeshRole): ComposeIssue[] {
  const volumes = Array.isArray(service.volumes) ? service.volumes : [];
  if (volumes.length === 0) return [];
  if (role === "app") return [{ path: `${at}.volumes`, message: `must be empty: an app mounts nothing of its Envoy's, got ${volumes.map(mountTarget).join(", ")}` }];
  return volumes.flatMap((entry, i) => (readOnlyMount(entry) ? [] : [{ path: `${at}.volumes[${i}]`, message: "must be read-only (read_only: true, or :ro)" }]));
}

/** Every way the document breaks the mesh's rules; empty when it keeps them all. */
export function composeMeshIssues(doc: unknown): ComposeIssue[] {
  const services = isObject(doc) && isObject(doc.services) ? doc.services : undefined;
  if (services === undefined || Object.keys(services).length === 0) return [{ path: "services", message: "must list the mesh's containers" }];
  const issues: ComposeIssue[] = [];
  const roles = new Map<string, MeshRole>();
  for (const [name, service] of Object.entries(services)) {
    // Every container is hardened, whatever it is (or fails to say it is).
    if (isObject(service)) issues.push(...hardeningIssues(service, `services.${name}`));
    const labels = isObject(service) ? serviceLabels(service) : {};
    const role = labels[MESH_ROLE_LABEL];
    if (role === "app") roles.set(name, "app");
    else if (role === "envoy") roles.set(name, labels[MESH_PROXY_LABEL] === FRONT_PROXY_NAME ? "front" : "sidecar");
    else issues.push({ path: `services.${name}.labels`, message: `must set ${MESH_ROLE_LABEL} to one of ${LABELLED_ROLES.join(", ")}, got ${role === undefined ? "nothing" : JSON.stringify(role)}` });
  }
  const fronts = [...roles].filter(([, role]) => role === "front").map(([name]) => name);
  if (fronts.length !== 1) {
    issues.push({ path: "services", message: `must have exactly one front proxy (${MESH_ROLE_LABEL}: envoy, ${MESH_PROXY_LABEL}: ${FRONT_PROXY_NAME}), got ${fronts.length === 0 ? "none" : fronts.join(", ")}` });
  }

  const appsBySidecar = new Map<string, string[]>();
  for (const [name, role] of roles) {
    const service = services[name] as Service;
    const at = `services.${name}`;
    const ports = Array.isArray(service.ports) ? service.ports : [];
    const shared = sharedNamespaceOf(service);
    issues.push(...mountIssues(service, at, role));
    if (role === "app") {
      if (shared === undefined || roles.get(shared) !== "sidecar") {
        issues.push({ path: `${at}.network_mode`, message: `must be "service:<its Envoy>" naming a service's Envoy, got ${JSON.stringify(service.network_mode ?? null)}` });
      } else {
        appsBySidecar.set(shared, [...(appsBySidecar.get(shared) ?? []), name]);
        if (dependencyCondition(service, shared) !== "service_healthy") {
          issues.push({ path: `${at}.depends_on.${shared}.condition`, message: "must be service_healthy: the app starts once its Envoy is ready" });
        }
      }
    } else if (shared !== undefined || service.network_mode !== undefined) {
      issues.push({ path: `${at}.network_mode`, message: `must not be set on an Envoy: it joins the mesh network, got ${JSON.stringify(service.network_mode)}` });
    }
    if (role !== "front" && ports.length > 0) {
      issues.push({ path: `${at}.ports`, message: `must be empty: only the front proxy publishes, ${role === "app" ? "an app" : "a sidecar"} publishes nothing` });
    }
    if (role === "front") {
      if (ports.length === 0) issues.push({ path: `${at}.ports`, message: "must publish the front proxy's listener on 127.0.0.1" });
      ports.forEach((port, i) => {
        const ip = publishedHostIp(port);
        if (ip !== "127.0.0.1") issues.push({ path: `${at}.ports[${i}]`, message: `must bind 127.0.0.1 only, got ${ip === undefined ? "every interface" : JSON.stringify(ip)}` });
      });
    }
  }
  for (const [name, role] of roles) {
    if (role !== "sidecar") continue;
    const apps = appsBySidecar.get(name) ?? [];
    if (apps.length !== 1) issues.push({ path: `services.${name}`, message: `a sidecar must carry exactly one app in its network namespace, got ${apps.length === 0 ? "none" : apps.join(", ")}` });
  }
  issues.push(...secretIssues(services, roles));
  return sortIssues(issues);
}
