import { strict as assert } from "node:assert";
import { load } from "js-yaml";
import { buildMeshConfigs, toYaml } from "../../envoy";
import { buildDockerMesh, dockerEnvoyTarget, type DockerCertificateFiles } from "../../docker";
import { buildAllProxyObjects, kubernetesEnvoyTarget } from "../../k8s";
import { FRONT_PROXY_NAME, parseTopology, type Topology } from "../../topology";
import { BUILDER_TEST_ENVOY_IMAGE, BUILDER_TEST_KIND_TARGET } from "../helpers/images";

/** Stand-in files for every identity and the edge: only the configs are compared here. */
function stubCertificates(topology: Topology): DockerCertificateFiles {
  const proxies = [FRONT_PROXY_NAME, ...topology.services.map((s) => s.name)];
  return {
    identities: new Map(proxies.map((p) => [p, { certificatePem: `cert of ${p}`, privateKeyPem: `key of ${p}`, caPem: "mesh ca" }])),
    edge: { certificatePem: "edge cert", privateKeyPem: "edge key" },
  };
}

/** Every leaf of a parsed YAML document by its path, such as `static_resources.clusters[0].name`. */
function leaves(value: unknown, path = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (Array.isArray(value)) value.forEach((v, i) => leaves(v, `${path}[${i}]`).forEach((x, k) => out.set(k, x)));
  else if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) leaves(v, path === "" ? k : `${path}.${k}`).forEach((x, key) => out.set(key, x));
  } else out.set(path, value);
  return out;
}

/** Paths whose values differ, or that exist on one side only. */
function differences(a: unknown, b: unknown): { path: string; a: unknown; b: unknown }[] {
  const left = leaves(a);
  const right = leaves(b);
  const paths = [...new Set([...left.keys(), ...right.keys()])].sort();
  return paths.filter((p) => left.get(p) !== right.get(p) || left.has(p) !== right.has(p)).map((p) => ({ path: p, a: left.get(p), b: right.get(p) }));
}

const UPSTREAM_ADDRESS = /^static_resources\.clusters\[\d+\]\.load_assignment\.endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.socket_address\.address$/;
/** The TLS server name a caller asks the callee's sidecar for: its host name, without the trailing dot. */
const UPSTREAM_SNI = /^static_resources\.clusters\[\d+\]\.transport_socket\.typed_config\.sni$/;

describe("Envoy configs on kind and on docker", () => {
  const topologies = {
    seed: { extends: "seed" },
    scaled: { extends: "seed", front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/c", service: "service-c" }] }, services: [{ name: "service-b", replicas: 3 }] },
  };

  for (const [label, raw] of Object.entries(topologies)) {
    it(`differ only in upstream addresses and their TLS server names (${label} topology): listeners, routes, clusters and identities are the same`, () => {
      const topology = parseTopology(raw);
      const kindTarget = BUILDER_TEST_KIND_TARGET;
      // The configs each deploy layer really ships, not just the builders' output.
      const onKind = buildAllProxyObjects(topology, kindTarget, () => "app:1");
      const onDocker = buildDockerMesh(topology, { name: "envoy-mesh", envoyImage: BUILDER_TEST_ENVOY_IMAGE, front: { hostIp: "127.0.0.1", hostPort: 8080, tlsHostPort: 8443 } }, { envoy: "envoy", app: () => "app:1" }, stubCertificates(topology)).proxies;
      assert.deepEqual(onDocker.map((p) => p.proxy), onKind.map((p) => p.proxy));

      let upstreams = 0;
      let serverNames = 0;
      onKind.forEach((kind, i) => {
        const diff = differences(load(kind.envoyYaml), load(onDocker[i].envoyYaml));
        for (const d of diff) {
          if (UPSTREAM_SNI.test(d.path)) {
            assert.equal(d.a, `${String(d.b)}.envoy-mesh.svc.cluster.local`, `${kind.proxy}: ${d.path}`);
            serverNames += 1;
            continue;
          }
          assert.match(d.path, UPSTREAM_ADDRESS, `${kind.proxy}: ${d.path} differs: ${String(d.a)} / ${String(d.b)}`);
          const service = String(d.b).replace(/\.$/, "");
          assert.equal(d.a, `${service}.envoy-mesh.svc.cluster.local.`);
          assert.equal(d.b, `${service}.`);
          upstreams += 1;
        }
      });
      // Every STRICT_DNS cluster of every proxy differs, and nothing else does.
      const dnsClusters = buildMeshConfigs(topology, dockerEnvoyTarget({ name: "envoy-mesh", front: { hostIp: "127.0.0.1", hostPort: 8080, tlsHostPort: 8443 } }))
        .flatMap((c) => (c.bootstrap as { static_resources: { clusters: { type: string }[] } }).static_resources.clusters)
        .filter((c) => c.type === "STRICT_DNS").length;
      assert.equal(upstreams, dnsClusters);
      // mTLS is on by default: every upstream cluster names its callee, and nothing else of TLS differs.
      assert.equal(serverNames, dnsClusters);
      assert.ok(upstreams > 0);
    });
  }

  it("use the same builders: the kind config with docker's upstream names is the docker config, byte for byte", () => {
    const topology = parseTopology(topologies.scaled);
    const kind = buildMeshConfigs(topology, kubernetesEnvoyTarget({ namespace: "envoy-mesh", clusterDomain: "cluster.local", edgeHttpsPort: 8443 }));
    const docker = buildMeshConfigs(topology, dockerEnvoyTarget({ name: "envoy-mesh", front: { hostIp: "127.0.0.1", hostPort: 8080, tlsHostPort: 8443 } }));
    kind.forEach((config, i) => {
      const swapped = toYaml(config.bootstrap)
        .replace(/address: ([a-z0-9-]+)\.envoy-mesh\.svc\.cluster\.local\./g, "address: $1.")
        .replace(/sni: ([a-z0-9-]+)\.envoy-mesh\.svc\.cluster\.local$/gm, "sni: $1");
      assert.equal(swapped, toYaml(docker[i].bootstrap), config.proxy);
      // The SDS files name only paths inside the container, the same on every target.
      assert.equal(toYaml(config.sdsFiles), toYaml(docker[i].sdsFiles), config.proxy);
      assert.ok(Object.keys(config.sdsFiles).length > 0, config.proxy);
    });
  });
});
