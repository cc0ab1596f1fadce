import type { EnvoyTarget, EnvoyTracing } from "../envoy/proxies";

/** Where and how the mesh runs on a Docker engine; everything the topology does not say. */
export interface DockerTarget {
  /**
   * Names the user-defined network and prefixes every container name (the stack's `namespace`);
   * a rendered compose file uses it as the project name.
   */
  readonly name: string;
  /** Envoy image, pinned by tag and digest. */
  readonly envoyImage: string;
  /** Where the front proxy is published on the host: 127.0.0.1 only, plain HTTP on `hostPort`, HTTPS on `tlsHostPort`. */
  readonly front: { readonly hostIp: string; readonly hostPort: number; readonly tlsHostPort: number };
  /** Platform (`os/arch`) images are built and run for; undefined means the Docker engine's own. */
  readonly platform?: string;
  /** Where every proxy sends its spans (EnvoyTarget.tracing); undefined: no tracing. */
  readonly tracing?: EnvoyTracing;
}

/**
 * The network alias every replica's Envoy of a service carries: Docker's embedded DNS answers it
 * with the address of each container that has it, so a caller's STRICT_DNS cluster balances over
 * the replicas as it does over a headless Service. Aliases are scoped to the network.
 */
export function serviceAlias(service: string): string {
  return service;
}

/**
 * On Docker a caller reaches every replica of a service through its network alias. The trailing
 * dot keeps the resolver from trying search domains first; Docker's embedded DNS drops it before
 * the lookup (libnetwork/sandbox_dns.go, ResolveName, in moby/moby).
 */
export function dockerEnvoyTarget(target: Pick<DockerTarget, "name" | "front" | "tracing">): EnvoyTarget {
  return {
    upstreamHost: (service) => `${serviceAlias(service)}.`,
    namespace: target.name,
    edgeHttpsPort: target.front.tlsHostPort,
    ...(target.tracing === undefined ? {} : { tracing: target.tracing }),
  };
}
