import type { ContainerResources, EnvoySettings, FrontProtection, MeshPorts, PlainHttpMode, SecuritySettings } from "./types";

/** Name reserved for the edge proxy's Kubernetes objects. */
export const FRONT_PROXY_NAME = "front-envoy";

export const DEFAULT_PORTS: MeshPorts = {
  ingress: 10000,
  admin: 9901,
  health: 9902,
  egressBase: 10001,
  front: 8080,
  frontTls: 8443,
  appHealth: 9903,
};

export const DEFAULT_ENVOY_SETTINGS: EnvoySettings = {
  connectTimeoutMs: 250,
  concurrency: 2,
  drainSeconds: 10,
  logLevel: "info",
};

/**
 * mTLS everywhere; Istio's and Linkerd's default trust domain. Leaf certificates live 90 days and
 * are renewed by the first `pulumi up` in their last 30; the CA lives 10 years.
 */
export const DEFAULT_SECURITY: SecuritySettings = {
  mtls: "strict",
  trustDomain: "cluster.local",
  certificates: { validityHours: 2160, renewBeforeHours: 720, caValidityHours: 87600 },
};

/** The seed's `http://localhost:8080/` keeps working; HTTPS is served next to it. */
export const DEFAULT_PLAIN_HTTP: PlainHttpMode = "serve";

export const DEFAULT_REPLICAS = 1;
export const DEFAULT_DOCKERFILE = "Dockerfile";
/** A front route reaches its service at `/`: `{prefix: /d}` sends `/d` as `/` and `/d/x` as `/x`. */
export const DEFAULT_PREFIX_REWRITE = "/";

/** Sized for Envoy with two workers and a handful of static listeners. */
export const DEFAULT_ENVOY_RESOURCES: ContainerResources = {
  cpuRequest: "50m",
  memoryRequest: "64Mi",
  memoryLimit: "128Mi",
};

/** Sized for the Node.js demo app (about 40 MiB resident when idle). */
export const DEFAULT_APP_RESOURCES: ContainerResources = {
  cpuRequest: "25m",
  memoryRequest: "64Mi",
  memoryLimit: "128Mi",
};

/** The edge proxy takes all external traffic, so it gets more headroom than a sidecar. */
export const DEFAULT_FRONT_RESOURCES: ContainerResources = {
  cpuRequest: "100m",
  memoryRequest: "64Mi",
  memoryLimit: "256Mi",
};

/**
 * Edge protection every front route gets unless it says otherwise. The rate limit is generous (a
 * burst of 1000 requests, then 1000 a second per route and front replica): it never limits a
 * person or a test client, and it stops a flood before it reaches the services. Bodies up to
 * 1 MiB (the demo app takes none). Timeouts as in Envoy's "Configuring Envoy as an edge proxy":
 * 5 minutes per request and per idle stream, 10 s for the headers, 1 hour per idle connection.
 */
export const DEFAULT_FRONT_PROTECTION: FrontProtection = {
  rateLimit: { maxTokens: 1000, tokensPerFill: 1000, fillIntervalMs: 1000 },
  maxRequestBytes: 1024 * 1024,
  timeouts: { requestMs: 300_000, requestHeadersMs: 10_000, streamIdleMs: 300_000, idleMs: 3_600_000 },
};
