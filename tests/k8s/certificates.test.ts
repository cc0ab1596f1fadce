import { strict as assert } from "node:assert";
import {
  EDGE_SECRET_NAME,
  PLACEHOLDER_ANNOTATION,
  base64Data,
  buildAllProxyObjects,
  proxyManifests,
  type MeshSecretSources,
  type MeshTarget,
  type ProxyObjects,
} from "../../k8s";
import { checkPodPolicy } from "../../checks/kubernetes/policy";
import { validateManifests } from "../../checks/kubernetes/schema";
import { parseTopology, type Topology } from "../../topology";
import { BUILDER_TEST_ENVOY_IMAGE, BUILDER_TEST_KIND_TARGET } from "../helpers/images";

const KIND: MeshTarget = BUILDER_TEST_KIND_TARGET;
/** A cloud stack whose edge has no certificate. */
const PLAIN: MeshTarget = { namespace: "envoy-mesh", clusterDomain: "cluster.local", envoyImage: BUILDER_TEST_ENVOY_IMAGE, front: { type: "LoadBalancer" } };
const APP_IMAGE = "localhost:5001/envoy-mesh-app@sha256:" + "a".repeat(64);

/** Recognisable data per proxy, so a test can tell whose certificate landed where. */
function sources(edge: MeshSecretSources["edge"] | "none" = { kind: "data", data: { "tls.crt": base64Data("edge-crt"), "tls.key": base64Data("edge-key") } }): MeshSecretSources {
  return {
    identity: (proxy) => ({ data: { "tls.crt": base64Data(`${proxy}-crt`), "tls.key": base64Data(`${proxy}-key`), "ca.crt": base64Data("mesh-ca") } }),
    ...(edge === "none" || edge === undefined ? {} : { edge }),
  };
}

const build = (topology: Topology = parseTopology(undefined), target = KIND, secrets = sources()) => buildAllProxyObjects(topology, target, () => APP_IMAGE, undefined, secrets) as readonly ProxyObjects[];
const named = (all: readonly ProxyObjects[], proxy: string) => all.find((p) => p.proxy === proxy) as ProxyObjects;
const pod = (objects: ProxyObjects): any => (objects.deployment.spec.template as any).spec;
const containers = (objects: ProxyObjects): any[] => [...(pod(objects).initContainers ?? []), ...pod(objects).containers];
const envoyOf = (objects: ProxyObjects): any => containers(objects).find((c) => c.name === "envoy");
const volume = (objects: ProxyObjects, name: string): any => pod(objects).volumes.find((v: any) => v.name === name);
const decode = (value: unknown) => Buffer.from(String(value), "base64").toString("utf8");

describe("Kubernetes objects: certificates", () => {
  describe("with mtls strict (the default)", () => {
    let all: readonly ProxyObjects[];
    before(() => (all = build()));

    it("give every proxy one kubernetes.io/tls identity Secret, <proxy>-identity, with its own certificate, key and the mesh CA", () => {
      for (const objects of all) {
        const secret = objects.identitySecret;
        assert.ok(secret, objects.proxy);
        assert.equal(secret.metadata.name, `${objects.proxy}-identity`);
        assert.equal(secret.metadata.namespace, "envoy-mesh");
        assert.equal(secret.type, "kubernetes.io/tls");
        assert.deepEqual(Object.keys(secret.data).sort(), ["ca.crt", "tls.crt", "tls.key"]);
        assert.equal(decode(secret.data["tls.crt"]), `${objects.proxy}-crt`);
        assert.equal(decode(secret.data["tls.key"]), `${objects.proxy}-key`);
        assert.equal(decode(secret.data["ca.crt"]), "mesh-ca");
        assert.equal(secret.metadata.labels["app.kubernetes.io/name"], objects.proxy);
        assert.equal(secret.metadata.labels["app.kubernetes.io/part-of"], "envoy-mesh");
      }
    });

    it("mount the identity Secret read-only at /etc/mesh/identity into the proxy's own Envoy container only, never the app", () => {
      for (const objects of all) {
        assert.deepEqual(volume(objects, "mesh-identity"), { name: "mesh-identity", secret: { secretName: `${objects.proxy}-identity`, defaultMode: 0o440 } });
        assert.deepEqual(
          envoyOf(objects).volumeMounts.filter((m: any) => m.name === "mesh-identity"),
          [{ name: "mesh-identity", mountPath: "/etc/mesh/identity", readOnly: true }],
        );
        for (const c of containers(objects).filter((c) => c.name !== "envoy")) {
          assert.deepEqual(c.volumeMounts ?? [], [], `${objects.proxy}/${c.name} mounts nothing`);
        }
        const secretVolumes = pod(objects).volumes.filter((v: any) => v.secret !== undefined).map((v: any) => v.secret.secretName);
        assert.ok(!secretVolumes.some((name: string) => name.endsWith("-identity") && name !== `${objects.proxy}-identity`), `${objects.proxy} mounts another identity`);
      }
    });

    it("let only Envoy's group read the key files: Secret files 0440, pod fsGroup 101 (Envoy's UID/GID), the app under its own UID", () => {
      for (const objects of all) {
        assert.equal(pod(objects).securityContext.fsGroup, 101);
        assert.equal(envoyOf(objects).securityContext.runAsUser, 101);
        for (const c of containers(objects).filter((c) => c.name !== "envoy")) assert.equal(c.securityContext.runAsUser, 1000);
      }
    });

    it("mount the edge certificate at /etc/mesh/edge into the front proxy's Envoy only, from the Secret front-envoy-edge", () => {
      const front = named(all, "front-envoy");
      assert.equal(front.edgeSecret?.metadata.name, EDGE_SECRET_NAME);
      assert.equal(EDGE_SECRET_NAME, "front-envoy-edge");
      assert.equal(front.edgeSecret?.type, "kubernetes.io/tls");
      assert.deepEqual(Object.keys(front.edgeSecret?.data ?? {}).sort(), ["tls.crt", "tls.key"]);
      assert.deepEqual(volume(front, "edge-certificate"), { name: "edge-certificate", secret: { secretName: "front-envoy-edge", defaultMode: 0o440 } });
      assert.ok(envoyOf(front).volumeMounts.some((m: any) => m.name === "edge-certificate" && m.mountPath === "/etc/mesh/edge" && m.readOnly === true));
      for (const objects of all.filter((o) => o.proxy !== "front-envoy")) {
        assert.equal(objects.edgeSecret, undefined);
        assert.equal(volume(objects, "edge-certificate"), undefined, objects.proxy);
      }
    });

    it("mount an existing edge Secret by its name and create none", () => {
      const front = named(build(undefined, KIND, sources({ kind: "existing", name: "shop-tls" })), "front-envoy");
      assert.equal(front.edgeSecret, undefined);
      assert.deepEqual(volume(front, "edge-certificate").secret, { secretName: "shop-tls", defaultMode: 0o440 });
    });

    it("order each proxy's Secrets before the Deployment that mounts them", () => {
      for (const objects of all) {
        const kinds = proxyManifests(objects).map((m) => `${m.kind}/${m.metadata.name}`);
        assert.ok(kinds.indexOf(`Secret/${objects.proxy}-identity`) < kinds.indexOf(`Deployment/${objects.proxy}`), kinds.join(", "));
      }
    });

    it("pass the Kubernetes schema and the restricted pod policy", () => {
      const manifests = all.flatMap(proxyManifests);
      assert.deepEqual(validateManifests(manifests), []);
      assert.deepEqual(manifests.flatMap(checkPodPolicy), []);
    });

    it("mark the default (placeholder) certificate data as placeholders, and it holds no key", () => {
      const placeholders = buildAllProxyObjects(parseTopology(undefined), KIND, () => APP_IMAGE);
      for (const secret of placeholders.flatMap((p) => [p.identitySecret, p.edgeSecret]).filter((s) => s !== undefined)) {
        assert.ok(secret.metadata.annotations?.[PLACEHOLDER_ANNOTATION], secret.metadata.name);
        for (const value of Object.values(secret.data)) {
          assert.match(decode(value), /^-----BEGIN PLACEHOLDER-----\n/);
          assert.doesNotMatch(decode(value), /PRIVATE KEY/);
        }
      }
    });
  });

  describe("with mtls off", () => {
    let all: readonly ProxyObjects[];
    before(() => (all = build(parseTopology({ extends: "seed", security: { mtls: "off" } }), PLAIN)));

    it("create no identity Secret and mount none; pods without certificates set no fsGroup", () => {
      for (const objects of all) {
        assert.equal(objects.identitySecret, undefined);
        assert.equal(volume(objects, "mesh-identity"), undefined);
        assert.deepEqual(envoyOf(objects).volumeMounts.map((m: any) => m.name), ["envoy-config", "envoy-xds"]);
        assert.equal(pod(objects).securityContext.fsGroup, undefined);
      }
    });
  });

  describe("the front Service and ports", () => {
    it("serve HTTP only when the edge has no certificate: no HTTPS port and no edge Secret", () => {
      const front = named(build(undefined, PLAIN, sources("none")), "front-envoy");
      assert.deepEqual((front.service.spec.ports as any[]).map((p) => p.name), ["http"]);
      assert.deepEqual(envoyOf(front).ports.map((p: any) => p.name), ["http", "envoy-health"]);
      assert.equal(front.edgeSecret, undefined);
      assert.equal(volume(front, "edge-certificate"), undefined);
    });

    it("expose 443 to the HTTPS listener (ports.frontTls) and drop the plain port when plainHttp is off", () => {
      const front = named(build(parseTopology({ extends: "seed", front: { plainHttp: "off" } })), "front-envoy");
      assert.deepEqual(front.service.spec.ports, [{ name: "https", port: 443, targetPort: "https", protocol: "TCP", appProtocol: "https", nodePort: 30443 }]);
      assert.deepEqual(envoyOf(front).ports.map((p: any) => [p.name, p.containerPort]), [["https", 8443], ["envoy-health", 9902]]);
    });

    it("keep the plain port when plainHttp redirects", () => {
      const front = named(build(parseTopology({ extends: "seed", front: { plainHttp: "redirect" } })), "front-envoy");
      assert.deepEqual((front.service.spec.ports as any[]).map((p) => p.name), ["http", "https"]);
    });

    it("refuse an edge serving HTTPS without a certificate source", () => {
      assert.throws(() => build(undefined, KIND, sources("none")), /edge serves HTTPS on port 8443, but no edge certificate was given/);
    });
  });

  describe("the Envoy ConfigMaps", () => {
    it("keep the SDS files with the other xDS files, beside the bootstrap", () => {
      for (const objects of build()) {
        assert.deepEqual(Object.keys(objects.configMap.data), ["envoy.json"], objects.proxy);
        const sds = Object.keys(objects.xdsConfigMap.data).filter((f) => f.startsWith("sds-"));
        assert.deepEqual(sds, objects.proxy === "front-envoy" ? ["sds-edge.json", "sds-identity.json", "sds-mesh-ca.json"] : ["sds-identity.json", "sds-mesh-ca.json"], objects.proxy);
      }
    });

    it("does not change when a certificate is renewed (only the Secret does)", () => {
      const renewed: MeshSecretSources = {
        identity: (proxy) => ({ data: { "tls.crt": base64Data(`${proxy}-renewed`), "tls.key": base64Data("new-key"), "ca.crt": base64Data("mesh-ca") } }),
        edge: { kind: "data", data: { "tls.crt": base64Data("edge-renewed"), "tls.key": base64Data("edge-key-2") } },
      };
      const before = build();
      const after = build(undefined, KIND, renewed);
      before.forEach((objects, i) => {
        assert.equal(after[i].configMap.metadata.name, objects.configMap.metadata.name);
        assert.deepEqual(after[i].xdsConfigMap, objects.xdsConfigMap);
        assert.deepEqual(after[i].deployment, objects.deployment, `${objects.proxy}: the pod template is unchanged, so no pod restarts`);
        assert.notDeepEqual(after[i].identitySecret?.data, objects.identitySecret?.data);
      });
    });
  });
});
