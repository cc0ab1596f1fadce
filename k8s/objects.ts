import { createHash } from "node:crypto";
import { upstreamUrlEnvVar } from "../app/names";
import { APP_HEALTH_PATH } from "../envoy/names";
import { FRONT_PROXY_NAME, type MeshService, type Topology } from "../topology";
import { MANAGED_BY, PART_OF, meshLabels, selectorLabels, type Component } from "./labels";
import type {
  ConfigMapManifest,
  DeploymentManifest,
  NamespaceManifest,
  PodDisruptionBudgetManifest,
  ServiceAccountManifest,
  ServiceManifest,
} from "./manifest";
import {
  APP_CONTAINER,
  APP_HEALTH_PORT_NAME,
  APP_PRE_STOP_SECONDS,
  APP_SHUTDOWN_SECONDS,
  CALLER_DISCOVERY_SECONDS,
  APP_UID,
  ENVOY_CONFIG_FILE,
  ENVOY_INGRESS_PORT_NAME,
  FRONT_PORT_NAME,
  ROLLING_UPDATE,
  containerResources,
  containerSecurityContext,
  envoyConfigVolume,
  envoyContainer,
  frontPodGraceSeconds,
  httpProbes,
  podSecurityContext,
  scrapeAnnotations,
  servicePodGraceSeconds,
  spreadAcrossNodes,
  type ImageInput,
} from "./pod";

/** How the Front Envoy is exposed: a NodePort mapped to the host on kind, a load balancer in a cloud. */
export type FrontExposure = { readonly type: "NodePort"; readonly nodePort: number } | { readonly type: "LoadBalancer" };

/** Where and how the mesh is deployed; everything the topology does not say. */
export interface MeshTarget {
  readonly namespace: string;
  readonly clusterDomain: string;
  /** Envoy image with an exact tag. */
  readonly envoyImage: string;
  readonly front: FrontExposure;
}

export const FRONT_SERVICE_PORT = 80;
const CONFIG_HASH_LENGTH = 10;

/** `labelName` is the proxy an object belongs to, when the object's own name differs. */
function metadata(name: string, namespace: string, component: Component, labelName = name) {
  return { name, namespace, labels: meshLabels(labelName, component) };
}

function componentOf(proxy: string): Component {
  return proxy === FRONT_PROXY_NAME ? "front-proxy" : "service";
}

/** Pods of the mesh may only run under the "restricted" Pod Security Standard. */
export function buildNamespace(name: string): NamespaceManifest {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      labels: {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": "latest",
      },
    },
  };
}

/** One identity per proxy; no pod of the mesh talks to the Kubernetes API, so no token is mounted. */
export function buildServiceAccount(proxy: string, namespace: string): ServiceAccountManifest {
  return {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: metadata(proxy, namespace, componentOf(proxy)),
    automountServiceAccountToken: false,
  };
}

/**
 * Envoy never re-reads its bootstrap, so the ConfigMap is named after its content: a config
 * change gives a new name, which changes the pod template and rolls the pods; the same config
 * gives the same name and changes nothing.
 */
export function buildEnvoyConfigMap(proxy: string, namespace: string, envoyYaml: string): ConfigMapManifest {
  const hash = createHash("sha256").update(envoyYaml).digest("hex").slice(0, CONFIG_HASH_LENGTH);
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: metadata(`${proxy}-envoy-${hash}`, namespace, componentOf(proxy), proxy),
    immutable: true,
    data: { [ENVOY_CONFIG_FILE]: envoyYaml },
  };
}

/** Environment of the demo app: where it listens, the local URL of each upstream, how it drains. */
export function appEnvironment(service: MeshService, topology: Topology) {
  return [
    { name: "SERVICE_NAME", value: service.name },
    { name: "HOST", value: "127.0.0.1" },
    { name: "PORT", value: String(service.appPort) },
    { name: "UPSTREAMS", value: service.upstreams.map((u) => u.service).join(",") },
    ...service.upstreams.map((u) => ({ name: upstreamUrlEnvVar(u.service), value: `http://127.0.0.1:${u.egressPort}` })),
    { name: "HEALTH_PORT", value: String(topology.ports.appHealth) },
    { name: "DRAIN_MS", value: String(topology.envoy.drainSeconds * 1000) },
    { name: "SHUTDOWN_TIMEOUT_MS", value: String(APP_SHUTDOWN_SECONDS * 1000) },
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
  ];
}

export interface ServiceDeploymentOptions {
  readonly topology: Topology;
  readonly service: MeshService;
  readonly target: MeshTarget;
  readonly configMapName: string;
  /** Image reference of the app, by digest once built. */
  readonly appImage: ImageInput;
}

/**
 * The app plus its Envoy sidecar. Envoy is a native sidecar (an init container that keeps
 * running), so it is ready before the app starts and stops only after the app has exited.
 */
export function buildServiceDeployment(options: ServiceDeploymentOptions): DeploymentManifest {
  const { topology, service, target } = options;
  const selector = selectorLabels(service.name);
  const sidecar = {
    ...envoyContainer({
      proxy: service.name,
      image: target.envoyImage,
      topology,
      resources: service.resources.envoy,
      servingPort: { name: ENVOY_INGRESS_PORT_NAME, port: topology.ports.ingress },
      inboundOnlyDrain: true,
    }),
    restartPolicy: "Always",
  };
  const app = {
    name: APP_CONTAINER,
    image: options.appImage,
    imagePullPolicy: "IfNotPresent",
    env: appEnvironment(service, topology),
    ports: [{ name: APP_HEALTH_PORT_NAME, containerPort: topology.ports.appHealth, protocol: "TCP" }],
    resources: containerResources(service.resources.app),
    securityContext: containerSecurityContext(APP_UID),
    // The app serves on 127.0.0.1 only; the kubelet probes its health port on the pod IP, so a
    // sidecar restart does not fail the app's probes and probes never pass through Envoy.
    ...httpProbes(APP_HEALTH_PATH, APP_HEALTH_PORT_NAME),
    lifecycle: { preStop: { sleep: { seconds: APP_PRE_STOP_SECONDS } } },
  };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata(service.name, target.namespace, "service"),
    spec: {
      replicas: service.replicas,
      selector: { matchLabels: selector },
      strategy: ROLLING_UPDATE,
      // Old pods stop only once every caller can know and has health-checked the new one.
      minReadySeconds: CALLER_DISCOVERY_SECONDS,
      template: {
        metadata: { labels: meshLabels(service.name, "service"), annotations: scrapeAnnotations(topology.ports.health) },
        spec: {
          serviceAccountName: service.name,
          automountServiceAccountToken: false,
          // Service links would add a variable per Service in the namespace to every container.
          enableServiceLinks: false,
          securityContext: podSecurityContext(),
          terminationGracePeriodSeconds: servicePodGraceSeconds(topology),
          initContainers: [sidecar],
          containers: [app],
          volumes: [envoyConfigVolume(options.configMapName)],
          ...spreadAcrossNodes(service.replicas, selector),
        },
      },
    },
  };
}

/**
 * Headless: DNS returns every ready pod IP, and the callers' Envoys balance across them. The
 * port is the sidecar's ingress, never the app's.
 */
export function buildHeadlessService(service: MeshService, topology: Topology, namespace: string): ServiceManifest {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(service.name, namespace, "service"),
    spec: {
      clusterIP: "None",
      selector: selectorLabels(service.name),
      ports: [
        { name: "http", port: topology.ports.ingress, targetPort: ENVOY_INGRESS_PORT_NAME, protocol: "TCP", appProtocol: "http" },
      ],
    },
  };
}

export interface FrontDeploymentOptions {
  readonly topology: Topology;
  readonly target: MeshTarget;
  readonly configMapName: string;
}

export function buildFrontDeployment(options: FrontDeploymentOptions): DeploymentManifest {
  const { topology, target } = options;
  const selector = selectorLabels(FRONT_PROXY_NAME);
  const envoy = envoyContainer({
    proxy: FRONT_PROXY_NAME,
    image: target.envoyImage,
    topology,
    resources: topology.front.resources,
    servingPort: { name: FRONT_PORT_NAME, port: topology.ports.front },
    inboundOnlyDrain: false,
  });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: metadata(FRONT_PROXY_NAME, target.namespace, "front-proxy"),
    spec: {
      replicas: topology.front.replicas,
      selector: { matchLabels: selector },
      strategy: ROLLING_UPDATE,
      template: {
        metadata: { labels: meshLabels(FRONT_PROXY_NAME, "front-proxy"), annotations: scrapeAnnotations(topology.ports.health) },
        spec: {
          serviceAccountName: FRONT_PROXY_NAME,
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: podSecurityContext(),
          terminationGracePeriodSeconds: frontPodGraceSeconds(topology),
          containers: [envoy],
          volumes: [envoyConfigVolume(options.configMapName)],
          ...spreadAcrossNodes(topology.front.replicas, selector),
        },
      },
    },
  };
}

/** Port 80 to the front listener; a fixed NodePort on kind (mapped to the host), a load balancer elsewhere. */
export function buildFrontService(target: MeshTarget): ServiceManifest {
  const port = { name: FRONT_PORT_NAME, port: FRONT_SERVICE_PORT, targetPort: FRONT_PORT_NAME, protocol: "TCP", appProtocol: "http" };
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(FRONT_PROXY_NAME, target.namespace, "front-proxy"),
    spec: {
      type: target.front.type,
      selector: selectorLabels(FRONT_PROXY_NAME),
      ports: [target.front.type === "NodePort" ? { ...port, nodePort: target.front.nodePort } : port],
    },
  };
}

/** With more than one replica, voluntary disruptions (node drains) take one pod at a time. */
export function buildPodDisruptionBudget(proxy: string, namespace: string, replicas: number): PodDisruptionBudgetManifest | undefined {
  if (replicas <= 1) return undefined;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: metadata(proxy, namespace, componentOf(proxy)),
    spec: { maxUnavailable: 1, selector: { matchLabels: selectorLabels(proxy) } },
  };
}
