/**
 * The validated, defaulted description of a mesh. Everything downstream (Envoy configs,
 * Kubernetes objects, Pulumi components) reads only this shape and never re-checks it.
 */

/** Build an image from a folder of this repository. */
export interface ImageBuild {
  /** Build context, relative to the repository root. */
  readonly context: string;
  /** Dockerfile path relative to the context. Default: `Dockerfile`. */
  readonly dockerfile: string;
}

/** Either an image built from the repository or a prebuilt image reference. */
export type ImageSource =
  | { readonly kind: "build"; readonly build: ImageBuild }
  | { readonly kind: "ref"; readonly ref: string };

/** CPU and memory for one container, as Kubernetes quantities. */
export interface ContainerResources {
  readonly cpuRequest: string;
  readonly memoryRequest: string;
  readonly memoryLimit: string;
}

export interface Upstream {
  /** Name of the service called. */
  readonly service: string;
  /** Port on 127.0.0.1 where the caller's sidecar listens for this upstream. */
  readonly egressPort: number;
  /** Faults the caller's sidecar injects into its requests to this upstream (opt-in, for testing). Default: none. */
  readonly fault?: FaultInjection;
  /** Traffic policy of this edge: `topology.policy` with the upstream's own `policy` over it. */
  readonly policy: EdgePolicy;
}

export interface MeshService {
  /** DNS-1035 label; names the Deployment, Service, ServiceAccount and Envoy objects. */
  readonly name: string;
  /** Port the app listens on, on 127.0.0.1 inside its pod. */
  readonly appPort: number;
  readonly replicas: number;
  readonly image: ImageSource;
  /** Services this one calls, in the order the app calls them. */
  readonly upstreams: readonly Upstream[];
  readonly resources: { readonly app: ContainerResources; readonly envoy: ContainerResources };
  /**
   * Versions running side by side, sorted by name, their weights summing to VERSION_TOTAL_WEIGHT;
   * absent for a service without versions (one Deployment, one headless Service, as always).
   */
  readonly versions?: readonly ServiceVersion[];
}

/** One version of a service: its own pods and headless Service, the service's identity and sidecar config. */
export interface ServiceVersion {
  /** DNS-1123 label; `<service>-<name>` names its Deployment and headless Service. */
  readonly name: string;
  /** Share of the service's traffic, out of VERSION_TOTAL_WEIGHT (0: reached only with the pinning header). */
  readonly weight: number;
  /** Default: the service's replicas. */
  readonly replicas: number;
  /** Default: the service's image. */
  readonly image: ImageSource;
}

export interface FrontRoute {
  /**
   * Path prefix matched at the edge: `/`, or whole segments without a trailing `/`. `/d` matches
   * `/d`, `/d?q` and every path below `/d/`, never `/dx`.
   */
  readonly prefix: string;
  readonly service: string;
  /**
   * Replaces the matched prefix before the request is forwarded; the rest of the path and the
   * query are kept, without doubling the `/` between them. Default `/`: `/d` → `/`, `/d/x` → `/x`.
   */
  readonly prefixRewrite: string;
  /** Traffic policy of this edge: `topology.policy` with the route's own `policy` over it. */
  readonly policy: EdgePolicy;
  /** Rate limit and body size limit of this route: `front.protection` with this route's overrides. */
  readonly protection: EdgeProtection;
  /** Faults the front proxy injects into this route's requests (opt-in, for testing). Default: none. */
  readonly fault?: FaultInjection;
}

/**
 * A token bucket (Envoy's local rate limit): it holds up to `maxTokens`, starts full, and gains
 * `tokensPerFill` every `fillIntervalMs`; each request takes one token or is answered 429.
 */
export interface RateLimit {
  readonly maxTokens: number;
  readonly tokensPerFill: number;
  readonly fillIntervalMs: number;
}

/** What the front proxy enforces on one route's requests before they reach a service. */
export interface EdgeProtection {
  /** Undefined when the route has no rate limit (`rateLimit: false`). */
  readonly rateLimit?: RateLimit;
  /** Largest request body accepted, in bytes; a larger one is answered 413. */
  readonly maxRequestBytes: number;
}

/** Timeouts of the front proxy's connections and requests, in milliseconds; 0 turns one off. */
export interface EdgeTimeouts {
  /** Time to receive a whole request, headers and body (HCM request_timeout). */
  readonly requestMs: number;
  /** Time to receive a request's headers (HCM request_headers_timeout). */
  readonly requestHeadersMs: number;
  /** Time a request may see no bytes in either direction (HCM stream_idle_timeout). */
  readonly streamIdleMs: number;
  /** Time a client connection may carry no request before it is closed (common_http_protocol_options.idle_timeout). */
  readonly idleMs: number;
}

/** The mesh-wide edge protection (every route's default) and the front proxy's timeouts. */
export interface FrontProtection extends EdgeProtection {
  readonly timeouts: EdgeTimeouts;
}

/** A share of requests, in percent: from 0 to 100, with at most 4 decimals. */
export type Percentage = number;

/** Requests held back for `fixedDelayMs` before they are forwarded, for `percentage` of them. */
export interface FaultDelay {
  readonly fixedDelayMs: number;
  readonly percentage: Percentage;
}

/** Requests answered with `httpStatus` instead of being forwarded, for `percentage` of them. */
export interface FaultAbort {
  readonly httpStatus: number;
  readonly percentage: Percentage;
}

/** Faults injected on one edge, to rehearse failures; at least one of the two is set. */
export interface FaultInjection {
  readonly delay?: FaultDelay;
  readonly abort?: FaultAbort;
}

/**
 * What the front proxy does with plain HTTP: route it like HTTPS (`serve`), answer with a
 * redirect to HTTPS (`redirect`), or not listen at all (`off`).
 */
export const PLAIN_HTTP_MODES = ["serve", "redirect", "off"] as const;
export type PlainHttpMode = (typeof PLAIN_HTTP_MODES)[number];

export interface FrontProxy {
  readonly replicas: number;
  /** Plain HTTP on `ports.front`; HTTPS is on `ports.frontTls` whenever the edge has a certificate. */
  readonly plainHttp: PlainHttpMode;
  /** Sorted longest prefix first, so that Envoy's first-match picks the most specific. */
  readonly routes: readonly FrontRoute[];
  readonly resources: ContainerResources;
  /** Defaults of every route's protection, and the edge timeouts. */
  readonly protection: FrontProtection;
}

/** Ports shared by every pod of the mesh (each pod has its own network namespace). */
export interface MeshPorts {
  /** Sidecar ingress listener, the port every headless Service points at. */
  readonly ingress: number;
  /** Envoy admin API, bound to 127.0.0.1 only. */
  readonly admin: number;
  /** Listener that exposes only `/ready` and `/stats/prometheus` of the admin API. */
  readonly health: number;
  /** First port tried when assigning egress ports that the topology leaves open. */
  readonly egressBase: number;
  /** Front Envoy's plain HTTP listener; its Service maps port 80 to it. */
  readonly front: number;
  /** Front Envoy's HTTPS listener; its Service maps port 443 to it. */
  readonly frontTls: number;
  /** The app's own health port on the pod IP (HEALTH_PORT), which kubelet probes reach without the sidecar. */
  readonly appHealth: number;
}

export const ENVOY_LOG_LEVELS = ["trace", "debug", "info", "warning", "error", "critical", "off"] as const;
export type EnvoyLogLevel = (typeof ENVOY_LOG_LEVELS)[number];

export interface EnvoySettings {
  /** Upstream connect timeout in milliseconds. */
  readonly connectTimeoutMs: number;
  /** Envoy worker threads (`--concurrency`); bounds memory regardless of node size. */
  readonly concurrency: number;
  /** Seconds Envoy drains connections before it exits (`--drain-time-s`). */
  readonly drainSeconds: number;
  readonly logLevel: EnvoyLogLevel;
}

/**
 * `strict`: every hop between proxies is mutual TLS and a service accepts only its declared
 * callers. `off`: plain HTTP between proxies and no authorization, for debugging only.
 */
export const MTLS_MODES = ["strict", "off"] as const;
export type MtlsMode = (typeof MTLS_MODES)[number];

/** Lifetimes of the certificates Pulumi issues, in hours. */
export interface CertificateLifetimes {
  /** Validity of each identity's (and the edge's) certificate. */
  readonly validityHours: number;
  /** `pulumi up` issues a new certificate once fewer than this many hours are left. */
  readonly renewBeforeHours: number;
  /** Validity of the mesh CA (and the local edge CA) Pulumi creates; never renewed early. */
  readonly caValidityHours: number;
}

export interface SecuritySettings {
  readonly mtls: MtlsMode;
  /** SPIFFE trust domain of every identity: `spiffe://<trustDomain>/ns/<namespace>/sa/<proxy>`. */
  readonly trustDomain: string;
  readonly certificates: CertificateLifetimes;
}

export interface Topology {
  /** Sorted by name. */
  readonly services: readonly MeshService[];
  readonly front: FrontProxy;
  readonly ports: MeshPorts;
  readonly envoy: EnvoySettings;
  readonly security: SecuritySettings;
  /** The mesh-wide traffic policy (`topology.policy` over the defaults); each edge carries its resolved copy. */
  readonly policy: EdgePolicy;
}

/**
 * What a caller's retry policy may retry on: Envoy's `retry_on` conditions
 * (docs/root/configuration/http/http_filters/router_filter.rst, x-envoy-retry-on, in envoyproxy/envoy),
 * plus `not-delivered`: the callee's sidecar answered with its not-delivered header.
 */
export const RETRY_CONDITIONS = [
  "connect-failure",
  "refused-stream",
  "reset-before-request",
  "not-delivered",
  "5xx",
  "gateway-error",
  "reset",
  "retriable-4xx",
] as const;
export type RetryCondition = (typeof RETRY_CONDITIONS)[number];

/** Caps concurrent retries at a share of the requests in flight, with a floor (Envoy's retry budget). */
export interface RetryBudget {
  /** Percent of the active requests that may be retries at once, above 0 and at most 100. */
  readonly percent: number;
  /** Concurrent retries always allowed, whatever the percentage says. */
  readonly minConcurrency: number;
}

export interface RetrySettings {
  /** Retries after the first try; 0 turns retries off. */
  readonly count: number;
  readonly retryOn: readonly RetryCondition[];
  /**
   * Conditions that can retry a request the app already received (5xx, gateway-error, reset,
   * retriable-4xx) apply only to idempotent methods; the others apply to every method.
   */
  readonly idempotentOnly: boolean;
  /** Each retry goes to a host not tried yet for this request. */
  readonly previousHosts: boolean;
  /** Undefined: no budget, `circuitBreakers.maxRetries` caps concurrent retries instead. */
  readonly budget?: RetryBudget;
}

export interface CircuitBreakers {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  /** Concurrent retries; only without a retry budget (Envoy ignores it when a budget is set). */
  readonly maxRetries?: number;
}

export interface OutlierDetection {
  /** Connection failures in a row (local origin) that eject a host. */
  readonly consecutiveLocalOriginFailure: number;
  /** 5xx answers in a row that eject a host; 0: off. */
  readonly consecutive5xx: number;
  /** 502, 503 or 504 answers in a row that eject a host; 0: off. */
  readonly consecutiveGatewayFailure: number;
  readonly intervalMs: number;
  readonly baseEjectionTimeMs: number;
  readonly maxEjectionPercent: number;
}

export interface HealthCheckSettings {
  /** Active `/healthz` checks through the callee's sidecar. */
  readonly enabled: boolean;
  readonly intervalMs: number;
  readonly noTrafficIntervalMs: number;
  readonly timeoutMs: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
}

/** How a caller treats one edge: timeouts, retries, circuit breakers, outlier detection, health checks, protocol. */
export interface EdgePolicy {
  /** Whole request, retries included. */
  readonly timeoutMs: number;
  /** Each try; undefined (written 0): only the request timeout. */
  readonly perTryTimeoutMs?: number;
  readonly retries: RetrySettings;
  readonly circuitBreakers: CircuitBreakers;
  readonly outlierDetection: OutlierDetection;
  readonly healthCheck: HealthCheckSettings;
  /** HTTP/2 from the caller's Envoy to the callee's sidecar (the app still speaks HTTP/1.1 to its own). */
  readonly http2: boolean;
}
