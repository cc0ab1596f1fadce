import { strict as assert } from "node:assert";
import { load } from "js-yaml";
import { buildMeshConfigs, toYaml } from "../../envoy";
import { renderEnvoyConfig } from "../../envoy/check";
import { buildDockerMesh, dockerEnvoyTarget, xdsFilesOf, type DockerCertificateFiles } from "../../docker";
import { kubernetesEnvoyTarget } from "../../k8s";
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

/** In the CDS file: an upstream cluster's host name, and the TLS server name a caller asks the callee's sidecar for (its host name, without the trailing dot). */
const UPSTREAM_ADDRESS = /^resources\[\d+\]\.load_assignment\.endpoints\[0\]\.lb_endpoints\[0\]\.endpoint\.address\.socket_address\.address$/;
const UPSTREAM_SNI = /^resources\[\d+\]\.transport_socket\.typed_config\.sni$/;
const DOCKER_TARGET = { name: "envoy-mesh", front: { hostIp: "127.0.0.1", hostPort: 8080, tlsHostPort: 8443 } };

describe("Envoy configs on kind and on docker", () => {
  const topologies = {
    seed: { extends: "seed" },
    scaled: { extends: "seed", front: { routes: [{ prefix: "/", service: "service-a" }, { prefix: "/c", service: "service-c" }] }, services: [{ name: "service-b", replicas: 3 }] },
  };

  for (const [label, raw] of Object.entries(topologies)) {
    it(`differ only in upstream addresses and their TLS server names (${label} topology): bootstraps, listeners, routes, clusters and identities are the same`, () => {
      const topology = parseTopology(raw);
      // Kubernetes ships the rendered split of its builders' config; docker ships what its description gives each Envoy.
      const onKind = buildMeshConfigs(topology, kubernetesEnvoyTarget(BUILDER_TEST_KIND_TARGET)).map(renderEnvoyConfig);
      const onDocker = buildDockerMesh(topology, { ...DOCKER_TARGET, envoyImage: BUILDER_TEST_ENVOY_IMAGE }, { envoy: "envoy", app: () => "app:1" }, stubCertificates(topology)).proxies;
      assert.deepEqual(onDocker.map((p) => p.proxy), onKind.map((p) => p.proxy));

      let upstreams = 0;
      let serverNames = 0;
      onKind.forEach((kind, i) => {
        const docker = onDocker[i];
        assert.equal(docker.envoyBootstrap, kind.bootstrap, `${kind.proxy}: the bootstraps differ`);
        const dockerFiles = xdsFilesOf(docker);
        assert.deepEqual(Object.keys(dockerFiles), Object.keys(kind.xdsFiles), kind.proxy);
        for (const [file, yaml] of Object.entries(kind.xdsFiles)) {
          const diff = differences(load(yaml), load(dockerFiles[file]));
          for (const d of diff) {
            const at = `${kind.proxy} ${file}: ${d.path}`;
            // A file's version is a digest of its content: it differs exactly where the content does.
            if (d.path === "version_info") {
              assert.ok(diff.length > 1, `${at}: only the version differs`);
              continue;
            }
            if (UPSTREAM_SNI.test(d.path)) {
              assert.equal(d.a, `${String(d.b)}.envoy-mesh.svc.cluster.local`, at);
              serverNames += 1;
              continue;
            }
            assert.match(d.path, UPSTREAM_ADDRESS, `${at} differs: ${String(d.a)} / ${String(d.b)}`);
            const service = String(d.b).replace(/\.$/, "");
            assert.equal(d.a, `${service}.envoy-mesh.svc.cluster.local.`);
            assert.equal(d.b, `${service}.`);
            upstreams += 1;
          }
        }
      });
      // Every STRICT_DNS cluster of every proxy differs, and nothing else does.
      const dnsClusters = buildMeshConfigs(topology, dockerEnvoyTarget(DOCKER_TARGET))
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
    const docker = buildMeshConfigs(topology, dockerEnvoyTarget(DOCKER_TARGET));
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
