import { isPlainObject } from "../../topology/reader";
import { formatPath, type PathSegment } from "./field-path";
import { describeObject } from "./object-ref";
import { asRecord, list, podContext, record, type ContainerRef, type PodContext } from "./pod-context";
import type { PolicyFinding } from "./policy";

/*
 * Where the mesh's keys may go, checked across a set of objects (a Secret and the workloads that
 * mount it): an identity Secret `<identity>-identity` is mounted by the pods of that identity
 * (their ServiceAccount) only, by their Envoy container only, read-only; no other container
 * mounts a Secret that holds key material; and no Secret handed out carries a private key.
 */

/** The container that terminates TLS for the mesh: the only one that may read a key. */
export const KEY_READER_CONTAINER = "envoy";
/** An identity Secret is named after its identity: `<ServiceAccount>-identity`. */
export const IDENTITY_SECRET_SUFFIX = "-identity";
/** What a PEM private key's armour ends with (PKCS#8, SEC1 EC, PKCS#1 RSA, encrypted PKCS#8 alike). */
const PRIVATE_KEY_ARMOUR = /-----BEGIN [A-Z ]*PRIVATE KEY-----/;

export const secretMountRules = [
  { id: "secrets/identity-owner", summary: "An identity Secret (<identity>-identity) is mounted, and only by pods whose ServiceAccount is that identity." },
  { id: "secrets/key-reader", summary: "Only the Envoy container mounts a Secret holding key material; no app container does." },
  { id: "secrets/read-only", summary: "Every mount of a Secret holding key material is readOnly: true." },
  { id: "secrets/no-key-material", summary: "A Secret meant to be published (rendered output) holds no PEM private key." },
] as const;

type RuleId = (typeof secretMountRules)[number]["id"];

interface SecretInfo {
  readonly name: string;
  readonly namespace: string | undefined;
  /** Type kubernetes.io/tls, or a data key that names a key file (`tls.key`, `*.key`). */
  readonly holdsKey: boolean;
}

/** One place a pod mounts a Secret volume. */
interface SecretMount {
  readonly pod: PodContext;
  readonly object: string;
  readonly secretName: string;
  readonly volume: string;
  readonly container: ContainerRef;
  readonly path: readonly PathSegment[];
  readonly readOnly: boolean;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value !== "" ? value : undefined;
}

function secretInfo(obj: unknown): SecretInfo | undefined {
  if (!isPlainObject(obj) || obj.kind !== "Secret") return undefined;
  const metadata = record(obj, "metadata");
  const name = text(metadata.name);
  if (name === undefined) return undefined;
  const keys = [...Object.keys(record(obj, "data")), ...Object.keys(record(obj, "stringData"))];
  return { name, namespace: text(metadata.namespace), holdsKey: obj.type === "kubernetes.io/tls" || keys.some((k) => k.endsWith(".key")) };
}

/** The Secrets a volume brings into the pod: a `secret` volume, or the secret sources of a `projected` one. */
function volumeSecrets(volume: unknown): string[] {
  const direct = text(record(volume, "secret").secretName);
  const projected = list(record(volume, "projected"), "sources").flatMap((source) => {
    const name = text(record(source, "secret").name);
    return name === undefined ? [] : [name];
  });
  return [...(direct === undefined ? [] : [direct]), ...projected];
}

function secretMounts(obj: unknown): SecretMount[] {
  const pod = podContext(obj);
  if (pod === undefined) return [];
  const object = describeObject(obj);
  const secretsByVolume = new Map<string, string[]>();
  for (const volume of list(pod.spec, "volumes")) {
    const name = text(asRecord(volume).name);
    if (name !== undefined) secretsByVolume.set(name, volumeSecrets(volume));
  }
  return pod.containers.flatMap((container) =>
    list(container.container, "volumeMounts").flatMap((mount, index) => {
      const volume = text(asRecord(mount).name);
      const secrets = volume === undefined ? [] : (secretsByVolume.get(volume) ?? []);
      return secrets.map((secretName) => ({
        pod,
        object,
        secretName,
        volume: volume as string,
        container,
        path: [...container.path, "volumeMounts", index],
        readOnly: asRecord(mount).readOnly === true,
      }));
    }),
  );
}

function serviceAccountOf(pod: PodContext): string {
  return text(pod.spec.serviceAccountName) ?? text(pod.spec.serviceAccount) ?? "default";
}

function finding(object: string, path: readonly PathSegment[], rule: RuleId, message: string): PolicyFinding {
  return { object, path: formatPath(path), rule, message };
}

/**
 * Checks how the workloads among `objects` mount the Secrets among them. A Secret a workload
 * mounts that is not among `objects` (an existing Secret named by the stack) is taken to hold
 * key material: nothing here says otherwise.
 */
export function checkSecretMounts(objects: readonly unknown[]): PolicyFinding[] {
  const secrets = objects.flatMap((obj) => {
    const info = secretInfo(obj);
    return info === undefined ? [] : [{ obj, info }];
  });
  const known = new Map(secrets.map(({ info }) => [info.name, info]));
  const mounts = objects.flatMap(secretMounts);
  const findings: PolicyFinding[] = [];

  for (const m of mounts) {
    const info = known.get(m.secretName);
    const holdsKey = info?.holdsKey ?? true;
    if (!holdsKey) continue;
    const what = `Secret ${JSON.stringify(m.secretName)}${info === undefined ? " (not among these objects, so taken to hold a key)" : ""}`;
    if (m.container.container.name !== KEY_READER_CONTAINER) {
      findings.push(
        finding(m.object, m.path, "secrets/key-reader", `${m.container.label} mounts ${what}, which holds key material: only the ${KEY_READER_CONTAINER} container may read the mesh's keys, so a compromised app cannot take its identity`),
      );
    }
    if (!m.readOnly) {
      findings.push(
        finding(m.object, [...m.path, "readOnly"], "secrets/read-only", `${m.container.label} mounts ${what} without readOnly: true, so the container could replace the certificate it is trusted by`),
      );
    }
    if (m.secretName.endsWith(IDENTITY_SECRET_SUFFIX)) {
      const identity = m.secretName.slice(0, -IDENTITY_SECRET_SUFFIX.length);
      const account = serviceAccountOf(m.pod);
      if (account !== identity) {
        findings.push(
          finding(m.object, m.path, "secrets/identity-owner", `${m.container.label} of a pod running as ServiceAccount ${JSON.stringify(account)} mounts the identity Secret of ${JSON.stringify(identity)}, so it could call others as ${JSON.stringify(identity)}`),
        );
      }
    }
  }

  for (const { obj, info } of secrets) {
    if (!info.name.endsWith(IDENTITY_SECRET_SUFFIX) || !info.holdsKey) continue;
    const mounted = mounts.some((m) => m.secretName === info.name && m.container.container.name === KEY_READER_CONTAINER);
    if (!mounted) {
      const identity = info.name.slice(0, -IDENTITY_SECRET_SUFFIX.length);
      findings.push(
        finding(describeObject(obj), ["metadata", "name"], "secrets/identity-owner", `no ${KEY_READER_CONTAINER} container of a pod running as ${JSON.stringify(identity)} mounts this identity Secret, so that proxy has no certificate to serve or call with`),
      );
    }
  }
  return findings;
}

function decoded(value: unknown): string {
  return typeof value === "string" ? Buffer.from(value, "base64").toString("utf8") : "";
}

/**
 * Private keys in a Secret (base64 `data`, or `stringData`): what rendered output must never
 * hold. Objects other than Secrets have none.
 */
export function keyMaterialFindings(obj: unknown): PolicyFinding[] {
  if (secretInfo(obj) === undefined) return [];
  const object = describeObject(obj);
  const inData = Object.entries(record(obj, "data"))
    .filter(([, value]) => PRIVATE_KEY_ARMOUR.test(decoded(value)))
    .map(([key]) => ["data", key]);
  const inStringData = Object.entries(record(obj, "stringData"))
    .filter(([, value]) => typeof value === "string" && PRIVATE_KEY_ARMOUR.test(value))
    .map(([key]) => ["stringData", key]);
  return [...inData, ...inStringData].map((path) =>
    finding(object, path, "secrets/no-key-material", "holds a PEM private key: anyone who reads this file can take the identity; publish a placeholder and let pulumi up write the key"),
  );
}
