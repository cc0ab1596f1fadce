/**
 * Service versions: several Deployments of one service side by side, each with its own image and
 * replicas, sharing the service's identity and sidecar config, and a weight that says which share
 * of the service's traffic every caller sends it.
 */
import { isVersionName } from "../app/names";
import { IssueCollector, show } from "./reader";
import type { ImageSource, MeshService, ServiceVersion } from "./types";

/**
 * The weights of a service's versions add up to this. Envoy's weighted_clusters take any total
 * above 0 (the sum of the weights, since `total_weight` was deprecated), and releases before that
 * required a sum of exactly 100 when `total_weight` is left out (route_components.proto,
 * source/common/router/config_impl.cc in envoyproxy/envoy): 100 suits both and reads as percent.
 */
export const VERSION_TOTAL_WEIGHT = 100;

const MAX_NAME_LENGTH = 63;
const MAX_REPLICAS = 1000;

/** Name of a version's Deployment, headless Service and (docker) network alias: `<service>-<version>`. */
export function versionWorkloadName(service: string, version: string): string {
  return `${service}-${version}`;
}

/**
 * The service as one version runs it: the version's replicas and image, everything else (name,
 * identity, ports, upstreams, resources) the service's. Builders of one workload take this.
 */
export function versionWorkload(service: MeshService, version: ServiceVersion): MeshService {
  return { ...service, replicas: version.replicas, image: version.image };
}

/**
 * Where callers find a service: the one name of its workload, or with versions one name per
 * version (the service's own name then names nothing). `hostOf` names a workload on the target.
 */
export type ServiceDns = { readonly dns: string } | { readonly versions: Readonly<Record<string, string>> };

export function serviceDns(service: MeshService, hostOf: (workload: string) => string): ServiceDns {
  if (service.versions === undefined) return { dns: hostOf(service.name) };
  return { versions: Object.fromEntries(service.versions.map((v) => [v.name, hostOf(versionWorkloadName(service.name, v.name))])) };
}

/** Every workload of a service with its version: one per version, or the service itself. */
export function serviceWorkloads(service: MeshService): readonly { readonly workload: MeshService; readonly version?: ServiceVersion }[] {
  if (service.versions === undefined) return [{ workload: service }];
  return service.versions.map((version) => ({ workload: versionWorkload(service, version), version }));
}

/** A version as written: any field may be missing until defaults apply. */
export interface VersionDraft {
  readonly path: string;
  readonly name?: string;
  readonly weight?: number;
  readonly replicas?: number;
  readonly image?: ImageSource;
  /** Set when an image was written but refused, so that the service's is not used in its place. */
  readonly imageRefused?: true;
}

/** `readImage` reads an `image` object as a service's is read, reporting into the same collector. */
export function readVersions(
  c: IssueCollector,
  raw: unknown,
  path: string,
  readImage: (c: IssueCollector, raw: unknown, path: string) => ImageSource | undefined,
): readonly VersionDraft[] | undefined {
  const list = c.array(raw, path);
  if (list === undefined) return undefined;
  if (list.length === 0) {
    c.report(path, "must list at least one version (leave versions out for a service without versions)");
    return undefined;
  }
  const drafts: VersionDraft[] = [];
  list.forEach((entry, i) => {
    const at = `${path}[${i}]`;
    const obj = c.object(entry, at, ["name", "weight", "replicas", "image"]);
    if (obj === undefined) return;
    let name: string | undefined;
    if (obj.name === undefined || obj.name === null) c.required(`${at}.name`, obj.name);
    else if (typeof obj.name !== "string" || !isVersionName(obj.name)) {
      c.report(`${at}.name`, `${show(obj.name)} is not a valid version name: use lowercase letters, digits and '-', starting and ending with a letter or digit (a DNS-1123 label)`);
    } else name = obj.name;
    let weight: number | undefined;
    if (obj.weight === undefined) c.report(`${at}.weight`, `required: the version's share of the traffic, an integer from 0 to ${VERSION_TOTAL_WEIGHT}`);
    else weight = c.integer(obj.weight, `${at}.weight`, 0, VERSION_TOTAL_WEIGHT);
    const replicas = obj.replicas === undefined ? undefined : c.integer(obj.replicas, `${at}.replicas`, 0, MAX_REPLICAS);
    const image = obj.image === undefined ? undefined : readImage(c, obj.image, `${at}.image`);
    drafts.push({ path: at, name, weight, replicas, image, ...(obj.image !== undefined && image === undefined ? { imageRefused: true as const } : {}) });
  });
  return drafts;
}

/**
 * A service's versions with defaults applied, sorted by name; undefined when one was refused.
 * `checkImage` checks a version's own image (its build context) and returns it as resolved.
 */
export function completeVersions(
  c: IssueCollector,
  service: { readonly path: string; readonly name: string; readonly replicas: number; readonly image: ImageSource | undefined },
  drafts: readonly VersionDraft[],
  checkImage: (image: ImageSource, path: string) => ImageSource | undefined,
): readonly ServiceVersion[] | undefined {
  const path = `${service.path}.versions`;
  const seen = new Set<string>();
  let complete = true;
  const versions: ServiceVersion[] = [];
  for (const draft of drafts) {
    if (draft.name !== undefined) {
      if (seen.has(draft.name)) c.report(`${draft.path}.name`, `duplicate version name ${show(draft.name)}`);
      seen.add(draft.name);
      const workload = versionWorkloadName(service.name, draft.name);
      if (workload.length > MAX_NAME_LENGTH) {
        c.report(`${draft.path}.name`, `${show(draft.name)} makes the Deployment name ${show(workload)} longer than ${MAX_NAME_LENGTH} characters`);
      }
    }
    const replicas = draft.replicas ?? service.replicas;
    if (draft.weight !== undefined && draft.weight > 0 && replicas === 0) {
      c.report(`${draft.path}.replicas`, `0 replicas, but weight ${draft.weight} sends traffic to this version: its callers would answer 503 (set weight 0 or replicas above 0)`);
    }
    const image = draft.imageRefused ? undefined : draft.image === undefined ? service.image : checkImage(draft.image, `${draft.path}.image`);
    if (draft.name === undefined || draft.weight === undefined || image === undefined) {
      complete = false;
      continue;
    }
    versions.push({ name: draft.name, weight: draft.weight, replicas, image });
  }
  const weights = drafts.map((d) => d.weight);
  if (weights.every((w) => w !== undefined)) {
    const sum = (weights as number[]).reduce((a, b) => a + b, 0);
    if (sum !== VERSION_TOTAL_WEIGHT) {
      c.report(path, `weights ${(weights as number[]).join(" + ")} = ${sum}, but must add up to ${VERSION_TOTAL_WEIGHT} (each is the version's share of the traffic in percent)`);
    }
  }
  if (!complete) return undefined;
  return versions.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * A version's `<service>-<version>` names Kubernetes objects and a DNS name: it must not be the
 * name of a service or of another service's version (`b` version `c-d` and `b-c` version `d`).
 */
export function checkWorkloadNames(
  c: IssueCollector,
  services: readonly { readonly path: string; readonly name: string; readonly versions?: readonly VersionDraft[] }[],
): void {
  const owners = new Map<string, { readonly service?: string; readonly what: string }>();
  for (const service of services) owners.set(service.name, { what: `service ${show(service.name)}` });
  for (const service of services) {
    for (const version of service.versions ?? []) {
      if (version.name === undefined) continue;
      const workload = versionWorkloadName(service.name, version.name);
      const owner = owners.get(workload);
      // A name repeated within one service is reported as a duplicate version.
      if (owner?.service === service.name) continue;
      if (owner !== undefined) {
        c.report(`${version.path}.name`, `version ${show(version.name)} of ${show(service.name)} is named ${show(workload)} in the cluster, like ${owner.what}`);
      } else {
        owners.set(workload, { service: service.name, what: `version ${show(version.name)} of ${show(service.name)}` });
      }
    }
  }
}
