import { strict as assert } from "node:assert";
import {
  buildAllProxyObjects,
  buildMeshManifests,
  buildNamespace,
  buildRegistryPullSecret,
  encodeDockerConfigJson,
  proxyManifests,
  REGISTRY_PULL_SECRET_NAME,
  type Manifest,
  type MeshTarget,
  type ProxyObjects,
  kubernetesEnvoyTarget,
} from "../../k8s";
import { buildMeshConfigs } from "../../envoy";
import { checkPodPolicy } from "../../checks/kubernetes/policy";
import { validateManifests } from "../../checks/kubernetes/schema";
import { load } from "js-yaml";
import {
  DEFAULT_APP_RESOURCES,
  parseTopology,
  type Topology,
} from "../../topology";
import { BUILDER_TEST_KIND_TARGET } from "../helpers/images";

const KIND: MeshTarget = BUILDER_TEST_KIND_TARGET;
/** A cloud stack without an edge certificate: plain HTTP only. */
const CLOUD: MeshTarget = { namespace: KIND.namespace, clusterDomain: KIND.clusterDomain, envoyImage: KIND.envoyImage, front: { type: "LoadBalancer" } };
const APP_IMAGE = "localhost:5001/envoy-mesh-app@sha256:" + "a".repeat(64);

const build = (topology: Topology = parseTopology(undefined), target = KIND) => buildAllProxyObjects(topology, target, () => APP_IMAGE) as readonly ProxyObjects[];
let seed: readonly ProxyObjects[];
const byName = (name: string) => seed.find((p) => p.proxy === name) as ProxyObjects;
const podOf = (objects: ProxyObjects): any => objects.deployment.spec.template;
const allContainers = (objects: ProxyObjects): any[] => [...(podOf(objects).spec.initContainers ?? []), ...podOf(objects).spec.containers];
const container = (objects: ProxyObjects, name: string): any => allContainers(objects).find((c) => c.name === name);

describe("Kubernetes objects of the mesh", () => {
  before(() => (seed = build()));

  describe("pods", () => {
    it("run every service as the app plus Envoy as a native sidecar (an init container that keeps running)", () => {
      for (const name of ["service-a", "service-b", "service-c"]) {
        const spec = podOf(byName(name)).spec;
        assert.deepEqual(spec.containers.map((c: any) => c.name), ["app"]);
        assert.deepEqual(spec.initContainers.map((c: any) => [c.name, c.restartPolicy]), [["envoy", "Always"]]);
      }
      assert.deepEqual(podOf(byName("front-envoy")).spec.containers.map((c: any) => c.name), ["envoy"]);
    });

    it("run every container as non-root, read-only, without privilege escalation or capabilities, under RuntimeDefault seccomp", () => {
      for (const objects of seed) {
        // fsGroup: Envoy's group reads the certificate files (mode 0440).
        assert.deepEqual(podOf(objects).spec.securityContext, { runAsNonRoot: true, fsGroup: 101, seccompProfile: { type: "RuntimeDefault" } });
        for (const c of allContainers(objects)) {
          const sc = c.securityContext;
          assert.equal(sc.runAsNonRoot, true, `${objects.proxy}/${c.name}`);
          assert.ok(sc.runAsUser > 0, `${objects.proxy}/${c.name} runAsUser`);
          assert.equal(sc.allowPrivilegeEscalation, false);
          assert.equal(sc.readOnlyRootFilesystem, true);
          assert.deepEqual(sc.capabilities, { drop: ["ALL"] });
          assert.deepEqual(sc.seccompProfile, { type: "RuntimeDefault" });
        }
      }
    });

    it("use one ServiceAccount per proxy and mount no service account token", () => {
      for (const objects of seed) {
        assert.equal(objects.serviceAccount.metadata.name, objects.proxy);
        assert.equal(objects.serviceAccount.automountServiceAccountToken, false);
        assert.equal(podOf(objects).spec.serviceAccountName, objects.proxy);
        assert.equal(podOf(objects).spec.automountServiceAccountToken, false);
      }
    });

    it("request CPU and memory and limit memory on every container, with the documented defaults", () => {
      const expected = (cpu: string, memory: string, limit: string) => ({ requests: { cpu, memory }, limits: { memory: limit } });
      // The README's figures: sidecar 50m / 64Mi, limit 128Mi; app 25m / 64Mi, limit 128Mi; front 100m / 64Mi, limit 256Mi.
      assert.deepEqual(container(byName("service-a"), "app").resources, expected("25m", "64Mi", "128Mi"));
      assert.deepEqual(container(byName("service-a"), "envoy").resources, expected("50m", "64Mi", "128Mi"));
      assert.deepEqual(container(byName("front-envoy"), "envoy").resources, expected("100m", "64Mi", "256Mi"));
    });

    it("take resource overrides per service from the topology", () => {
      const topology = parseTopology({ extends: "seed", services: [{ name: "service-b", resources: { app: { memoryLimit: "512Mi" }, envoy: { cpuRequest: "200m" } } }] });
      const b = build(topology).find((p) => p.proxy === "service-b") as ProxyObjects;
      assert.deepEqual(container(b, "app").resources.limits, { memory: "512Mi" });
      assert.equal(container(b, "app").resources.requests.memory, DEFAULT_APP_RESOURCES.memoryRequest);
      assert.equal(container(b, "envoy").resources.requests.cpu, "200m");
    });

    it("bound Envoy's worker threads and drain time with the topology's settings", () => {
      const args: string[] = container(byName("service-a"), "envoy").args;
      const flag = (name: string) => args[args.indexOf(name) + 1];
      // The README's defaults: 2 workers, 10 s drain.
      assert.equal(flag("--concurrency"), "2");
      assert.equal(flag("--drain-time-s"), "10");
      assert.equal(flag("--config-path"), "/etc/envoy/envoy.json");
      const custom = build(parseTopology({ extends: "seed", envoy: { concurrency: 4, drainSeconds: 20 } }));
      const customArgs: string[] = container(custom[0], "envoy").args;
      assert.equal(customArgs[customArgs.indexOf("--concurrency") + 1], "4");
      assert.equal(customArgs[customArgs.indexOf("--drain-time-s") + 1], "20");
    });

    it("probe Envoy through its health listener and the app on its own health port, never through the sidecar", () => {
      const envoy = container(byName("service-a"), "envoy");
      const app = container(byName("service-a"), "app");
      for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) {
        assert.deepEqual(envoy[probe].httpGet, { path: "/ready", port: "envoy-health" }, probe);
        assert.deepEqual(app[probe].httpGet, { path: "/healthz", port: "app-health" }, probe);
      }
      assert.ok(envoy.ports.some((p: any) => p.name === "envoy-health" && p.containerPort === 9902));
      assert.deepEqual(app.ports, [{ name: "app-health", containerPort: 9903, protocol: "TCP" }]);
      assert.equal(app.env.find((e: any) => e.name === "HEALTH_PORT").value, "9903");
      // Not the sidecar's ingress (10000), so a sidecar restart cannot fail the app's probes.
      assert.ok(!app.ports.some((p: any) => p.containerPort === 10000));
    });

    it("probe with the documented periods, thresholds and timeouts", () => {
      const expected = {
        startupProbe: { periodSeconds: 1, failureThreshold: 30, timeoutSeconds: 1 },
        readinessProbe: { periodSeconds: 5, failureThreshold: 2, timeoutSeconds: 1 },
        livenessProbe: { periodSeconds: 10, failureThreshold: 3, timeoutSeconds: 1 },
      };
      for (const objects of seed) {
        for (const c of allContainers(objects)) {
          for (const [probe, settings] of Object.entries(expected)) {
            const { periodSeconds, failureThreshold, timeoutSeconds } = c[probe];
            assert.deepEqual({ periodSeconds, failureThreshold, timeoutSeconds }, settings, `${objects.proxy} ${c.name} ${probe}`);
          }
        }
      }
    });

    it("drain Envoy for --drain-time-s before SIGTERM ends it: the sidecar drains inbound listeners, the front proxy all of them", () => {
      const sidecarHook = container(byName("service-b"), "envoy").lifecycle.preStop.exec.command.join(" ");
      const frontHook = container(byName("front-envoy"), "envoy").lifecycle.preStop.exec.command.join(" ");
      assert.match(sidecarHook, /POST \/drain_listeners\?graceful&inboundonly HTTP\/1\.1/);
      assert.match(sidecarHook, /\/dev\/tcp\/127\.0\.0\.1\/9901/);
      assert.match(frontHook, /POST \/drain_listeners\?graceful HTTP\/1\.1/);
      // The drain does not end Envoy; the hook waits it out, then the kubelet's SIGTERM does.
      for (const hook of [sidecarHook, frontHook]) assert.match(hook, /sleep 10$/);
      const args: string[] = container(byName("service-b"), "envoy").args;
      assert.equal(args[args.indexOf("--drain-time-s") + 1], "10");
      assert.equal(args[args.indexOf("--drain-strategy") + 1], "immediate");
    });

    it("drain the app on SIGTERM: a 1 s preStop sleep, then 10 s of serving with /healthz at 503, then at most 10 s to finish", () => {
      const app = container(byName("service-a"), "app");
      const env = Object.fromEntries(app.env.filter((e: any) => "value" in e).map((e: any) => [e.name, e.value]));
      assert.deepEqual(app.lifecycle.preStop, { sleep: { seconds: 1 } });
      assert.equal(env.DRAIN_MS, "10000");
      assert.equal(env.SHUTDOWN_TIMEOUT_MS, "10000");
      const custom = build(parseTopology({ extends: "seed", envoy: { drainSeconds: 20 } }));
      const customApp = container(custom.find((p) => p.proxy === "service-a") as ProxyObjects, "app");
      assert.equal(customApp.env.find((e: any) => e.name === "DRAIN_MS").value, "20000");
    });

    it("give a service pod time for the whole sequence: preStop, app drain, app shutdown, sidecar drain, and a margin", () => {
      for (const name of ["service-a", "service-b", "service-c"]) {
        // 1 s preStop + 10 s drain + 10 s shutdown + 10 s sidecar drain + 5 s margin.
        assert.equal(podOf(byName(name)).spec.terminationGracePeriodSeconds, 36, name);
      }
      const custom = build(parseTopology({ extends: "seed", envoy: { drainSeconds: 30 } }));
      const a = custom.find((p) => p.proxy === "service-a") as ProxyObjects;
      const env = Object.fromEntries(container(a, "app").env.filter((e: any) => "value" in e).map((e: any) => [e.name, e.value]));
      const needed = container(a, "app").lifecycle.preStop.sleep.seconds + Number(env.DRAIN_MS) / 1000 + Number(env.SHUTDOWN_TIMEOUT_MS) / 1000 + 30;
      assert.ok(podOf(a).spec.terminationGracePeriodSeconds > needed, `${podOf(a).spec.terminationGracePeriodSeconds} <= ${needed}`);
      // The front proxy: its 10 s drain and a margin.
      assert.equal(podOf(byName("front-envoy")).spec.terminationGracePeriodSeconds, 15);
    });

    it("mount the bootstrap and the xDS files read-only into Envoy only, each as a whole folder (no subPath)", () => {
      for (const objects of seed) {
        const envoy = container(objects, "envoy");
        assert.deepEqual(envoy.volumeMounts.slice(0, 2), [
          { name: "envoy-config", mountPath: "/etc/envoy", readOnly: true },
          { name: "envoy-xds", mountPath: "/etc/mesh/xds", readOnly: true },
        ]);
        assert.deepEqual(podOf(objects).spec.volumes.slice(0, 2), [
          { name: "envoy-config", configMap: { name: objects.configMap.metadata.name, defaultMode: 0o444 } },
          { name: "envoy-xds", configMap: { name: `${objects.proxy}-xds`, defaultMode: 0o444 } },
        ]);
        // A subPath mount is a copy the kubelet never updates: Envoy would never see a new file.
        for (const c of allContainers(objects)) for (const mount of c.volumeMounts ?? []) assert.equal(mount.subPath, undefined, `${objects.proxy}/${c.name}`);
        const app = container(objects, "app");
        if (app !== undefined) assert.equal((app.volumeMounts ?? []).some((m: any) => m.name === "envoy-xds"), false, objects.proxy);
      }
    });

    it("start Envoy with unknown fields in xDS files refused, as they are in the bootstrap", () => {
      for (const objects of seed) assert.ok(container(objects, "envoy").args.includes("--reject-unknown-dynamic-fields"), objects.proxy);
    });

    it("give the app its listen address, upstream list and one local URL per upstream", () => {
      const env = Object.fromEntries(container(byName("service-a"), "app").env.filter((e: any) => "value" in e).map((e: any) => [e.name, e.value]));
      assert.equal(env.HOST, "127.0.0.1");
      assert.equal(env.PORT, "8081");
      assert.equal(env.UPSTREAMS, "service-b,service-c");
      assert.equal(env.SERVICE_B_URL, "http://127.0.0.1:10001");
      assert.equal(env.SERVICE_C_URL, "http://127.0.0.1:10002");
      assert.equal(podOf(byName("service-a")).spec.enableServiceLinks, false);
    });

    it("use the app image they are given and the pinned Envoy image", () => {
      assert.equal(container(byName("service-c"), "app").image, APP_IMAGE);
      for (const objects of seed) assert.equal(container(objects, "envoy").image, KIND.envoyImage);
    });
  });

  describe("rollouts and availability", () => {
    it("never take a ready pod away before its replacement is ready", () => {
      for (const objects of seed) {
        assert.deepEqual(objects.deployment.spec.strategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
      }
    });

    it("stop an old service pod only once every caller can have found and health-checked its replacement", () => {
      // Callers learn pods through DNS: CoreDNS may serve a 30 s old answer, Envoy re-resolves
      // every 5 s, then the new pod's first health check must pass.
      const check = (buildMeshConfigs(parseTopology(undefined), kubernetesEnvoyTarget(KIND))[0].bootstrap as any).static_resources.clusters[0].health_checks[0];
      const firstCheck = parseFloat(check.interval) + parseFloat(check.timeout);
      for (const name of ["service-a", "service-b", "service-c"]) {
        const minReady = byName(name).deployment.spec.minReadySeconds as number;
        assert.equal(minReady, 40, name);
        assert.ok(minReady >= 30 + 5 + firstCheck, name);
      }
      // The front proxy is reached through its Service, not through callers' DNS.
      assert.equal(byName("front-envoy").deployment.spec.minReadySeconds, undefined);
    });

    it("add a PodDisruptionBudget and node spreading only when a proxy has more than one replica", () => {
      for (const objects of seed) {
        assert.equal(objects.podDisruptionBudget, undefined);
        assert.equal(podOf(objects).spec.topologySpreadConstraints, undefined);
      }
      const scaled = build(parseTopology({ extends: "seed", services: [{ name: "service-b", replicas: 3 }], front: { replicas: 2 } }));
      for (const name of ["service-b", "front-envoy"]) {
        const objects = scaled.find((p) => p.proxy === name) as ProxyObjects;
        assert.deepEqual(objects.podDisruptionBudget?.spec, { maxUnavailable: 1, selector: { matchLabels: (objects.deployment.spec.selector as any).matchLabels } });
        assert.equal(podOf(objects).spec.topologySpreadConstraints[0].topologyKey, "kubernetes.io/hostname");
        assert.equal(podOf(objects).spec.topologySpreadConstraints[0].whenUnsatisfiable, "ScheduleAnyway");
      }
    });

    it("keep no old ReplicaSets: their content-named ConfigMaps are deleted after a rollout, so `kubectl rollout undo` could not start them", () => {
      for (const objects of [...seed, ...build(parseTopology(undefined), CLOUD)]) {
        assert.equal(objects.deployment.spec.revisionHistoryLimit, 0, objects.proxy);
      }
    });

    it("keep replicas 0 as 0", () => {
      const scaled = build(parseTopology({ extends: "seed", services: [{ name: "service-c", replicas: 0 }] }));
      assert.equal((scaled.find((p) => p.proxy === "service-c") as ProxyObjects).deployment.spec.replicas, 0);
    });

    it("name the bootstrap ConfigMap after its content: a bootstrap change renames it, the same bootstrap keeps the name", () => {
      const again = build();
      const changed = build(parseTopology({ extends: "seed", ports: { admin: 9911 } }));
      for (const [i, objects] of seed.entries()) {
        assert.match(objects.configMap.metadata.name, new RegExp(`^${objects.proxy}-envoy-[0-9a-f]{10}$`));
        assert.equal(again[i].configMap.metadata.name, objects.configMap.metadata.name);
        assert.notEqual(changed[i].configMap.metadata.name, objects.configMap.metadata.name);
        assert.equal(objects.configMap.immutable, true);
        assert.deepEqual(objects.configMap.data, { "envoy.json": objects.envoyBootstrap });
      }
    });
  });

  describe("Services", () => {
    it("are headless and target the sidecar's ingress port by name", () => {
      for (const name of ["service-a", "service-b", "service-c"]) {
        const { spec } = byName(name).service;
        assert.equal(spec.clusterIP, "None");
        assert.deepEqual(spec.ports, [{ name: "http", port: 10000, targetPort: "envoy-ingress", protocol: "TCP", appProtocol: "http" }]);
        assert.ok(container(byName(name), "envoy").ports.some((p: any) => p.name === "envoy-ingress" && p.containerPort === 10000));
      }
    });

    it("expose the front proxy as NodePort 30080 (HTTP) and 30443 (HTTPS) on kind and as a LoadBalancer in a cloud, port 80 to its listener", () => {
      const kind = byName("front-envoy").service.spec;
      assert.equal(kind.type, "NodePort");
      assert.deepEqual(kind.ports, [
        { name: "http", port: 80, targetPort: "http", protocol: "TCP", appProtocol: "http", nodePort: 30080 },
        { name: "https", port: 443, targetPort: "https", protocol: "TCP", appProtocol: "https", nodePort: 30443 },
      ]);
      const cloud = (build(parseTopology(undefined), CLOUD)[0] as ProxyObjects).service.spec;
      assert.equal(cloud.type, "LoadBalancer");
      assert.deepEqual(cloud.ports, [{ name: "http", port: 80, targetPort: "http", protocol: "TCP", appProtocol: "http" }]);
      assert.ok(container(byName("front-envoy"), "envoy").ports.some((p: any) => p.name === "http" && p.containerPort === 8080));
    });
  });

  describe("client address at the edge", () => {
    const frontHcm = (objects: ProxyObjects) => {
      // The front listeners are LDS resources in the xDS ConfigMap.
      const lds = load(objects.xdsFiles["lds.json"]) as any;
      const listener = lds.resources.find((l: any) => l.traffic_direction === "INBOUND" && l.per_connection_buffer_limit_bytes);
      return listener.filter_chains[0].filters[0].typed_config;
    };

    it("keeps the client's source address on a cloud load balancer: externalTrafficPolicy Local", () => {
      const cloud = build(parseTopology(undefined), CLOUD)[0] as ProxyObjects;
      assert.equal(cloud.service.spec.externalTrafficPolicy, "Local");
    });

    it("keeps Cluster on kind's NodePort, which only the host reaches (127.0.0.1) and any node may carry", () => {
      assert.equal(byName("front-envoy").service.spec.externalTrafficPolicy, "Cluster");
    });

    it("has the front Envoy take the TCP peer as the client and trust no X-Forwarded-For hop a client could forge", () => {
      for (const objects of [byName("front-envoy"), build(parseTopology(undefined), CLOUD)[0] as ProxyObjects]) {
        const hcm = frontHcm(objects);
        assert.equal(hcm.use_remote_address, true);
        assert.equal(hcm.xff_num_trusted_hops ?? 0, 0);
        assert.ok(Array.isArray(hcm.access_log) && hcm.access_log.length > 0, "the front proxy logs requests");
      }
    });
  });

  describe("labels and namespace", () => {
    it("carry the recommended labels on every object and pod, and select pods by a stable subset", () => {
      for (const objects of seed) {
        for (const manifest of proxyManifests(objects)) {
          assert.deepEqual(Object.keys(manifest.metadata.labels).sort(), [
            "app.kubernetes.io/component",
            "app.kubernetes.io/managed-by",
            "app.kubernetes.io/name",
            "app.kubernetes.io/part-of",
          ]);
          assert.equal(manifest.metadata.labels["app.kubernetes.io/name"], objects.proxy);
        }
        const component = objects.proxy === "front-envoy" ? "front-proxy" : "service";
        assert.deepEqual(podOf(objects).metadata.labels, {
          "app.kubernetes.io/name": objects.proxy,
          "app.kubernetes.io/part-of": "envoy-mesh",
          "app.kubernetes.io/component": component,
          "app.kubernetes.io/managed-by": "pulumi",
        });
        const selector = (objects.deployment.spec.selector as any).matchLabels as Record<string, string>;
        for (const [key, value] of Object.entries(selector)) assert.equal(podOf(objects).metadata.labels[key], value);
        assert.deepEqual(objects.service.spec.selector, selector);
      }
    });

    it("enforce the restricted Pod Security Standard on the namespace", () => {
      const labels = buildNamespace("envoy-mesh").metadata.labels;
      assert.equal(labels["pod-security.kubernetes.io/enforce"], "restricted");
    });
  });

  describe("registry pull Secret", () => {
    const decode = (base64: string) => JSON.parse(Buffer.from(base64, "base64").toString("utf8"));

    it("holds a .dockerconfigjson the kubelet reads: auths keyed by the registry, with username, password and auth", () => {
      const config = decode(encodeDockerConfigJson({ server: "ghcr.io/acme", username: "acme-bot", password: "p:ss wörd" }));
      assert.deepEqual(Object.keys(config), ["auths"]);
      const entry = config.auths["ghcr.io/acme"];
      assert.equal(entry.username, "acme-bot");
      assert.equal(entry.password, "p:ss wörd");
      // The kubelet splits `auth` at the first colon, so a colon in the password survives.
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      assert.equal(decoded, "acme-bot:p:ss wörd");
      assert.deepEqual([decoded.slice(0, decoded.indexOf(":")), decoded.slice(decoded.indexOf(":") + 1)], ["acme-bot", "p:ss wörd"]);
    });

    it("is a kubernetes.io/dockerconfigjson Secret with a fixed name in the mesh namespace", () => {
      const secret = buildRegistryPullSecret("shop", encodeDockerConfigJson({ server: "ghcr.io/acme", username: "u", password: "p" }));
      assert.equal(secret.type, "kubernetes.io/dockerconfigjson");
      assert.equal(secret.metadata.name, REGISTRY_PULL_SECRET_NAME);
      assert.equal(secret.metadata.namespace, "shop");
      assert.deepEqual(Object.keys(secret.data), [".dockerconfigjson"]);
      assert.equal(secret.metadata.annotations, undefined);
    });

    it("is named by every ServiceAccount of the mesh, the front proxy's included, when there is one", () => {
      const withSecret = buildAllProxyObjects(parseTopology(undefined), CLOUD, () => APP_IMAGE, REGISTRY_PULL_SECRET_NAME);
      assert.deepEqual(withSecret.map((p) => p.proxy), ["front-envoy", "service-a", "service-b", "service-c"]);
      for (const objects of withSecret) assert.deepEqual(objects.serviceAccount.imagePullSecrets, [{ name: REGISTRY_PULL_SECRET_NAME }]);
      for (const objects of seed) assert.equal(objects.serviceAccount.imagePullSecrets, undefined);
    });

    it("comes right after the namespace in the mesh's objects, before any ServiceAccount that names it", () => {
      const secret = buildRegistryPullSecret("envoy-mesh", encodeDockerConfigJson({ server: "ghcr.io/acme", username: "u", password: "p" }));
      const manifests = buildMeshManifests(parseTopology(undefined), CLOUD, () => APP_IMAGE, secret);
      assert.deepEqual(manifests.slice(0, 3).map((m) => m.kind), ["Namespace", "Secret", "ServiceAccount"]);
      const pullSecrets = buildMeshManifests(parseTopology(undefined), KIND, () => APP_IMAGE).filter((m) => m.kind === "Secret" && m.type === "kubernetes.io/dockerconfigjson");
      assert.equal(pullSecrets.length, 0);
    });

    it("passes the schema check only with base64 in data, as the API expects", () => {
      const secret = buildRegistryPullSecret("envoy-mesh", encodeDockerConfigJson({ server: "ghcr.io/acme", username: "u", password: "p" }));
      assert.deepEqual(validateManifests([secret]), []);
      const raw = buildRegistryPullSecret("envoy-mesh", JSON.stringify({ auths: {} }));
      assert.match(JSON.stringify(validateManifests([raw])), /must be a valid byte/);
    });
  });

  describe("checked like the API server and the restricted profile would", () => {
    const stacks: Record<string, () => Manifest[]> = {
      "seed on kind": () => buildMeshManifests(parseTopology(undefined), KIND, () => APP_IMAGE),
      "scaled on a cloud, with a pull Secret": () =>
        buildMeshManifests(
          parseTopology({ extends: "seed", services: [{ name: "service-b", replicas: 3 }], front: { replicas: 2 } }),
          CLOUD,
          () => APP_IMAGE,
          buildRegistryPullSecret("envoy-mesh", encodeDockerConfigJson({ server: "ghcr.io/acme", username: "u", password: "p" })),
        ),
    };
    for (const [label, build] of Object.entries(stacks)) {
      let manifests: Manifest[];
      before(() => (manifests = build()));

      it(`${label}: every object passes the strict schema check`, () => {
        assert.deepEqual(validateManifests(manifests), []);
      });

      it(`${label}: every pod passes the restricted profile and our defaults`, () => {
        assert.deepEqual(manifests.flatMap(checkPodPolicy), []);
      });
    }
  });
});
