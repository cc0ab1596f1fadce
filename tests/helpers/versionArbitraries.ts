import fc from "fast-check";
import { validTopology } from "./topologyArbitraries";

/** Random weights of `count` versions that add up to 100, zeros included. */
export const weightsOf = (count: number) =>
  fc
    .array(fc.integer({ min: 0, max: 100 }), { minLength: count - 1, maxLength: count - 1 })
    .map((cuts) => [0, ...[...cuts].sort((a, b) => a - b), 100])
    .map((edges) => edges.slice(1).map((edge, i) => edge - edges[i]));

/** Versions of one service: 1 to 4 unique names, weights adding up to 100, replicas above 0 where traffic goes. */
export const versionsArbitrary = fc
  .uniqueArray(fc.stringMatching(/^[a-z0-9]{1,4}$/), { minLength: 1, maxLength: 4 })
  .chain((names) =>
    fc.tuple(weightsOf(names.length), fc.array(fc.integer({ min: 1, max: 3 }), { minLength: names.length, maxLength: names.length })).map(([weights, replicas]) =>
      names.map((name, i) => ({ name, weight: weights[i], replicas: weights[i] === 0 ? replicas[i] - 1 : replicas[i] })),
    ),
  );

/**
 * A valid random topology where some services have versions. Versions whose `<service>-<version>`
 * would be another name of the mesh are left out of the service (the topology refuses them).
 */
export const versionedTopology = validTopology.chain((raw) =>
  fc.tuple(...raw.services.map(() => fc.option(versionsArbitrary, { nil: undefined }))).map((choices) => {
    const taken = new Set(raw.services.map((s) => s.name));
    const services = raw.services.map((service, i) => {
      const versions = choices[i];
      if (versions === undefined) return service;
      const names = versions.map((v) => `${service.name}-${v.name}`);
      if (names.some((n) => taken.has(n) || n.length > 63)) return service;
      names.forEach((n) => taken.add(n));
      return { ...service, versions };
    });
    return { ...raw, services };
  }),
);
