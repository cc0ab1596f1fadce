import fc from "fast-check";

/*
 * Random valid topologies for property tests, shared by the property suites.
 */

/** `/`, or segments without empty, `.` or `..` ones and no trailing `/` (what the front accepts). */
export const routePrefix = fc.oneof(
  fc.constant("/"),
  fc.array(fc.stringMatching(/^[a-z0-9.-]{1,5}$/).filter((s) => s !== "." && s !== ".."), { minLength: 1, maxLength: 3 }).map((segments) => `/${segments.join("/")}`),
);

export const serviceName = fc.stringMatching(/^[a-z][a-z0-9-]{0,14}[a-z0-9]$/).filter((n) => n !== "front-envoy");

/**
 * Mesh-wide ports, distinct, in the unprivileged range below the app and egress ranges; the
 * front's HTTPS port too, so that a random port never lands on its default.
 */
export const meshPorts = fc
  .uniqueArray(fc.integer({ min: 1024, max: 9999 }), { minLength: 7, maxLength: 7 })
  .map(([ingress, admin, health, egressBase, front, appHealth, frontTls]) => ({ ingress, admin, health, egressBase, front, appHealth, frontTls }));

export interface RawUpstream {
  service: string;
  egressPort?: number;
}

/**
 * A valid topology: 1 to 30 services, listed in random order, each calling random services later
 * in a hidden order (so fan-in but never a cycle, which the demo app would loop on), random
 * replicas, app ports and explicit egress ports that cannot clash.
 */
export const validTopology = fc
  .uniqueArray(serviceName, { minLength: 1, maxLength: 30 })
  .chain((names) =>
    fc.record({
      ports: meshPorts,
      envoy: fc.record({ connectTimeoutMs: fc.integer({ min: 1, max: 60_000 }), concurrency: fc.integer({ min: 1, max: 64 }) }),
      services: fc
        .tuple(
          ...names.map((name, rank) =>
            fc.record({
              name: fc.constant(name),
              appPort: fc.integer({ min: 30000, max: 39999 }),
              replicas: fc.integer({ min: 0, max: 5 }),
              upstreams: fc
                .shuffledSubarray(names.slice(rank + 1))
                .chain((callees) =>
                  fc.tuple(
                    ...callees.map((callee, i): fc.Arbitrary<string | RawUpstream> =>
                      fc.oneof(fc.constant(callee), fc.constant({ service: callee, egressPort: 40000 + i }), fc.constant({ service: callee })),
                    ),
                  ),
                ),
            }),
          ),
        )
        .chain((services) => fc.shuffledSubarray(services, { minLength: services.length, maxLength: services.length })),
      front: fc.record({
        replicas: fc.integer({ min: 1, max: 3 }),
        routes: fc
          .uniqueArray(routePrefix, { minLength: 1, maxLength: 4 })
          .chain((prefixes) =>
            fc.tuple(
              ...prefixes.map((prefix) =>
                fc.record({ prefix: fc.constant(prefix), service: fc.constantFrom(...names), prefixRewrite: fc.constantFrom("/", "/v1", "/v1/", prefix) }, { requiredKeys: ["prefix", "service"] }),
              ),
            ),
          ),
      }),
    }),
  );

export const calleeName = (upstream: string | RawUpstream): string => (typeof upstream === "string" ? upstream : upstream.service);
