/**
 * Plain Kubernetes objects as the mesh renders them, written out by hand so that the checks
 * are tested against known-good input independent of the builders.
 */

type Json = Record<string, unknown>;

const NAMESPACE = "envoy-mesh";
const LABELS = { "app.kubernetes.io/name": "service-a", "app.kubernetes.io/part-of": "envoy-mesh" };
const SELECTOR = { "app.kubernetes.io/name": "service-a" };

function restrictedSecurityContext(uid: number): Json {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

function probes(path: string, port: string): Json {
  return {
    startupProbe: { httpGet: { path, port }, periodSeconds: 1, failureThreshold: 30, timeoutSeconds: 1 },
    readinessProbe: { httpGet: { path, port }, periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 1 },
    livenessProbe: { httpGet: { path, port }, periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 1 },
  };
}

/** service-a: demo app plus an Envoy native sidecar, hardened as the mesh deploys it. */
export function hardenedDeployment(): Json {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "service-a", namespace: NAMESPACE, labels: LABELS },
    spec: {
      replicas: 2,
      revisionHistoryLimit: 5,
      selector: { matchLabels: SELECTOR },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels: LABELS, annotations: { "envoy-mesh/config-hash": "3f2a9c" } },
        spec: {
          serviceAccountName: "service-a",
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: 45,
          securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
          initContainers: [
            {
              name: "envoy",
              image: "envoyproxy/envoy:v1.34.1",
              restartPolicy: "Always",
              args: ["--config-path", "/etc/envoy/envoy.yaml", "--drain-time-s", "20", "--log-level", "info"],
              ports: [
                { name: "envoy-ingress", containerPort: 10000, protocol: "TCP" },
                { name: "envoy-health", containerPort: 9902, protocol: "TCP" },
              ],
              ...probes("/ready", "envoy-health"),
              lifecycle: {
                preStop: { exec: { command: ["/bin/bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/9901 && printf 'POST /drain_listeners?graceful HTTP/1.1\\r\\n\\r\\n' >&3; sleep 20"] } },
              },
              resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "128Mi" } },
              securityContext: restrictedSecurityContext(101),
              volumeMounts: [{ name: "envoy-config", mountPath: "/etc/envoy", readOnly: true }],
            },
          ],
          containers: [
            {
              name: "app",
              image: "demo-app:1.0.0",
              imagePullPolicy: "IfNotPresent",
              env: [
                { name: "SERVICE_NAME", value: "service-a" },
                { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
              ],
              ports: [{ name: "http", containerPort: 8080, protocol: "TCP" }],
              ...probes("/healthz", "http"),
              lifecycle: { preStop: { sleep: { seconds: 5 } } },
              resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { memory: "128Mi" } },
              securityContext: restrictedSecurityContext(1000),
              volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
            },
          ],
          volumes: [
            { name: "envoy-config", configMap: { name: "service-a-envoy-3f2a9c", defaultMode: 0o444 } },
            { name: "tmp", emptyDir: { medium: "Memory", sizeLimit: "16Mi" } },
          ],
        },
      },
    },
  };
}

/** Headless: Envoy resolves every ready pod IP itself (STRICT_DNS). */
export function headlessService(): Json {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "service-a", namespace: NAMESPACE, labels: LABELS },
    spec: {
      clusterIP: "None",
      selector: SELECTOR,
      ports: [{ name: "http", port: 80, targetPort: "envoy-ingress", protocol: "TCP", appProtocol: "http" }],
    },
  };
}

export function envoyConfigMap(): Json {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "service-a-envoy-3f2a9c", namespace: NAMESPACE, labels: LABELS },
    immutable: true,
    data: { "envoy.yaml": "static_resources:\n  listeners: []\n  clusters: []\n" },
  };
}

export function meshNamespace(): Json {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: NAMESPACE,
      labels: {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "v1.33",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      },
    },
  };
}

export function serviceAccount(): Json {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "service-a", namespace: NAMESPACE, labels: LABELS },
    automountServiceAccountToken: false,
  };
}

export function disruptionBudget(): Json {
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "service-a", namespace: NAMESPACE, labels: LABELS },
    spec: { maxUnavailable: 1, selector: { matchLabels: SELECTOR }, unhealthyPodEvictionPolicy: "AlwaysAllow" },
  };
}

function segments(path: string): (string | number)[] {
  return path.split(".").map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

function parentOf(root: Json, path: string): { parent: Record<string | number, unknown>; key: string | number } {
  const keys = segments(path);
  let current = root as Record<string | number, unknown>;
  keys.slice(0, -1).forEach((key, index) => {
    if (current[key] === undefined) {
      current[key] = typeof keys[index + 1] === "number" ? [] : {};
    }
    current = current[key] as Record<string | number, unknown>;
  });
  return { parent: current, key: keys[keys.length - 1] };
}

/** A single change to a fixture: set a value, or delete a field (dotted path, digits index arrays). */
export type Mutation = { readonly set: string; readonly value: unknown } | { readonly unset: string };

/** A fresh copy of `fixture` with `mutation` applied. */
export function mutated(fixture: Json, mutation: Mutation): Json {
  const copy = structuredClone(fixture);
  if ("set" in mutation) {
    const { parent, key } = parentOf(copy, mutation.set);
    parent[key] = mutation.value;
  } else {
    const { parent, key } = parentOf(copy, mutation.unset);
    if (!(key in parent)) {
      throw new Error(`fixture has no field ${mutation.unset} to delete`);
    }
    delete parent[key];
  }
  return copy;
}
