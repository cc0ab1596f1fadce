import { strict as assert } from "node:assert";
import { homedir } from "node:os";
import { join } from "node:path";
import { dump } from "js-yaml";
import { CONFIG_KEYS, isKubernetesStack, projectDefaults, parseStackSettings, type KubernetesStackSettings } from "../../stack";
import { ConfigError, parseTopology, type ConfigIssue, type Topology } from "../../topology";

/** The settings of a stack that must deploy to Kubernetes. */
function kube(values: Record<string, unknown>): KubernetesStackSettings {
  const settings = parseStackSettings(values);
  assert.ok(isKubernetesStack(settings), `expected a Kubernetes target, got ${settings.target}`);
  return settings;
}

type Values = Record<string, unknown>;

function stackError(values: Values): ConfigError {
  try {
    parseStackSettings(values);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected the stack config to be refused");
}

function show(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join("\n");
}

/** Asserts exactly one problem, at `path`, and returns its message. */
function onlyIssue(values: Values, path: string): string {
  const { issues } = stackError(values);
  assert.deepEqual(
    issues.map((i) => i.path),
    [path],
    show(issues),
  );
  return issues[0].message;
}

const CLOUD = { target: "cloud", registry: "ghcr.io/acme" };
const TOPOLOGY = {
  services: [{ name: "web", appPort: 8081, upstreams: ["api"] }, { name: "api", appPort: 8082 }],
  front: { routes: [{ prefix: "/", service: "web" }] },
};

describe("stack/settings: parseStackSettings", () => {
  describe("target kind (the default)", () => {
    let settings: KubernetesStackSettings;
    before(() => {
      settings = kube({});
    });

    it("targets kind", () => {
      assert.equal(settings.target, "kind");
    });

    it("uses the kind cluster envoy-mesh through context kind-envoy-mesh", () => {
      assert.deepEqual(settings.cluster, { target: "kind", clusterName: "envoy-mesh", context: "kind-envoy-mesh" });
    });

    it("pushes to kind's local registry localhost:5001 without a password", () => {
      assert.deepEqual(settings.registry, { server: "localhost:5001", hasPassword: false });
    });

    it("exposes the front proxy on NodePort 30080", () => {
      assert.deepEqual(settings.mesh.front, { type: "NodePort", nodePort: 30080, tlsNodePort: 30443 });
    });

    it("deploys to namespace envoy-mesh, cluster domain cluster.local, with the pinned Envoy image", () => {
      assert.deepEqual(
        { namespace: settings.mesh.namespace, clusterDomain: settings.mesh.clusterDomain, envoyImage: settings.mesh.envoyImage },
        { namespace: "envoy-mesh", clusterDomain: "cluster.local", envoyImage: projectDefaults().envoyImage },
      );
    });

    it("deploys the seed topology", () => {
      assert.deepEqual(settings.topology, parseTopology(undefined));
    });

    it("gives the Kubernetes provider the kind cluster's context and no kubeconfig (the ambient one)", () => {
      assert.deepEqual(kube({ kindClusterName: "dev" }).provider, { context: "kind-dev" });
    });

    it("derives the kube context from kindClusterName", () => {
      assert.deepEqual(kube({ kindClusterName: "dev" }).cluster, { target: "kind", clusterName: "dev", context: "kind-dev" });
    });

    it("accepts a registry of the user's on kind", () => {
      assert.equal(kube({ registry: "localhost:5555" }).registry.server, "localhost:5555");
    });
  });

  describe("target cloud", () => {
    it("requires registry", () => {
      assert.match(onlyIssue({ target: "cloud" }, "envoy-mesh:registry"), /^required for target cloud/);
    });

    it("exposes the front proxy through a LoadBalancer", () => {
      assert.deepEqual(kube(CLOUD).mesh.front, { type: "LoadBalancer" });
    });

    it("uses the ambient kubeconfig and its current context unless told", () => {
      assert.deepEqual(kube(CLOUD).cluster, { target: "cloud", kubeconfig: undefined, context: undefined });
    });

    it("gives the Kubernetes provider the kubeconfig with ~ as the home directory, and the context", () => {
      assert.deepEqual(kube(CLOUD).provider, {});
      assert.deepEqual(kube({ ...CLOUD, kubeconfig: "~/.kube/prod", kubeContext: "prod" }).provider, { kubeconfig: join(homedir(), ".kube/prod"), context: "prod" });
    });

    it("passes kubeconfig, kubeContext and the registry credentials through", () => {
      const settings = kube({ ...CLOUD, kubeconfig: "~/.kube/config", kubeContext: "prod", registryUsername: "bot", registryPassword: { secure: "v1:AAAA" } });
      assert.deepEqual(settings.cluster, { target: "cloud", kubeconfig: "~/.kube/config", context: "prod" });
      assert.deepEqual(settings.registry, { server: "ghcr.io/acme", username: "bot", hasPassword: true, platform: "linux/amd64" });
    });

    it("accepts registryPassword as a secret placeholder from a stack file", () => {
      assert.equal(kube({ ...CLOUD, registryPassword: { secure: "v1:AAAABBBB" } }).registry.hasPassword, true);
    });

    for (const password of ["s3cret", 42]) {
      it(`refuses a registryPassword that is not a secret (${JSON.stringify(password)})`, () => {
        assert.equal(
          onlyIssue({ ...CLOUD, registryPassword: password }, "envoy-mesh:registryPassword"),
          "must be a secret: set it with pulumi config set --secret registryPassword <token>",
        );
      });
    }

    for (const [key, value] of [
      ["kindClusterName", "other"],
      ["frontNodePort", 30090],
      ["frontNodePort", "30090"],
    ] as const) {
      it(`refuses the kind-only key ${key}=${JSON.stringify(value)}`, () => {
        assert.equal(onlyIssue({ ...CLOUD, [key]: value }, `envoy-mesh:${key}`), "only applies to target kind");
      });
    }

    it("accepts kind-only keys at the defaults Pulumi fills in (as numbers or strings)", () => {
      assert.doesNotThrow(() => parseStackSettings({ ...CLOUD, kindClusterName: "envoy-mesh", frontNodePort: 30080 }));
      assert.doesNotThrow(() => parseStackSettings({ ...CLOUD, kindClusterName: "envoy-mesh", frontNodePort: "30080" }));
    });
  });

  describe("target docker", () => {
    it("runs on the local Docker engine: network named after the namespace, front on 127.0.0.1:8080 and HTTPS on 8443 with a localhost certificate, the pinned Envoy image", () => {
      assert.deepEqual(parseStackSettings({ target: "docker" }), {
        target: "docker",
        docker: { name: "envoy-mesh", envoyImage: projectDefaults().envoyImage, front: { hostIp: "127.0.0.1", hostPort: 8080, tlsHostPort: 8443 } },
        certificates: { edge: { kind: "local", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"] }, ca: { kind: "generated" } },
        topology: parseTopology(undefined),
        observability: { addons: false },
      });
    });

    it("names the network and containers after the namespace", () => {
      const settings = parseStackSettings({ target: "docker", namespace: "shop" });
      assert.equal(settings.target === "docker" && settings.docker.name, "shop");
    });

    it("builds and runs for the engine's own platform unless told", () => {
      const platformOf = (values: Values) => {
        const settings = parseStackSettings({ target: "docker", ...values });
        return settings.target === "docker" ? settings.docker.platform : "not docker";
      };
      assert.equal(platformOf({}), undefined);
      assert.equal(platformOf({ platform: "" }), undefined);
      assert.equal(platformOf({ platform: "linux/arm64" }), "linux/arm64");
    });

    for (const [key, value, readers] of [
      ["kindClusterName", "other", "target kind"],
      ["frontNodePort", 30090, "target kind"],
      ["kubeconfig", "~/.kube/config", "target cloud"],
      ["kubeContext", "prod", "target cloud"],
      ["registryUsername", "bot", "target cloud"],
      ["registryPassword", { secure: "v1:AAAA" }, "target cloud"],
      // Nothing is pushed: images stay in the local engine and are referenced by image ID.
      ["registry", "ghcr.io/acme", "targets kind, cloud"],
      // No cluster DNS: callers find a service by its network alias.
      ["clusterDomain", "corp.local", "targets kind, cloud"],
    ] as const) {
      it(`refuses ${key}, which only Kubernetes targets read`, () => {
        assert.equal(onlyIssue({ target: "docker", [key]: value }, `envoy-mesh:${key}`), `only applies to ${readers}`);
      });
    }

    it("refuses more than one front replica: one host port, no load balancer in front", () => {
      assert.equal(
        onlyIssue({ target: "docker", topology: { extends: "seed", front: { replicas: 2 } } }, "envoy-mesh:topology.front.replicas"),
        "2 is more than target docker can expose (at most 1: one published host port, no load balancer)",
      );
    });

    it("reports every key it does not read at once", () => {
      const { issues } = stackError({ target: "docker", registry: "ghcr.io/acme", kubeContext: "prod", frontNodePort: 30090 });
      assert.deepEqual(issues.map((i) => i.path).sort(), ["envoy-mesh:frontNodePort", "envoy-mesh:kubeContext", "envoy-mesh:registry"]);
    });

    it("accepts every value Pulumi fills in from Pulumi.yaml's defaults", () => {
      const filled = { clusterDomain: "cluster.local", kindClusterName: "envoy-mesh", frontNodePort: "30080", registry: "", kubeconfig: "", kubeContext: "", registryUsername: "", platform: "" };
      assert.deepEqual(parseStackSettings({ target: "docker", ...filled }), parseStackSettings({ target: "docker" }));
    });
  });

  describe("cloud-only keys on kind", () => {
    for (const [key, value] of [
      ["kubeconfig", "~/.kube/config"],
      ["kubeContext", "prod"],
      ["registryUsername", "bot"],
      ["registryPassword", { secure: "v1:AAAA" }],
    ] as const) {
      it(`refuses ${key}`, () => {
        assert.equal(onlyIssue({ [key]: value }, `envoy-mesh:${key}`), "only applies to target cloud");
      });
    }

    it("accepts them when empty (the declared default)", () => {
      assert.doesNotThrow(() => parseStackSettings({ kubeconfig: "", kubeContext: "", registryUsername: "", registryPassword: "" }));
    });
  });

  it("refuses an unknown target, listing the targets", () => {
    assert.equal(onlyIssue({ target: "aws" }, "envoy-mesh:target"), '"aws" is not one of kind, cloud, docker');
  });

  it("names an unknown key with the envoy-mesh: prefix and lists the known keys", () => {
    assert.equal(onlyIssue({ colour: "blue" }, "envoy-mesh:colour"), `unknown config key (known: ${CONFIG_KEYS.join(", ")})`);
  });

  for (const [typo, meant] of [
    ["namespce", "namespace"],
    ["clusterdomain", "clusterDomain"],
    ["topolgy", "topology"],
    ["registy", "registry"],
  ]) {
    it(`suggests envoy-mesh:${meant} for the misspelled ${typo}`, () => {
      assert.equal(onlyIssue({ [typo]: "x" }, `envoy-mesh:${typo}`), `unknown config key; did you mean envoy-mesh:${meant}? (known: ${CONFIG_KEYS.join(", ")})`);
    });
  }

  describe("clusterDomain", () => {
    for (const domain of ["not a domain!", "Cluster.Local", "cluster..local", "-cluster.local", "cluster.local.", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(63)}`]) {
      it(`refuses ${JSON.stringify(domain.length > 40 ? `${domain.slice(0, 20)}...` : domain)}`, () => {
        assert.equal(onlyIssue({ clusterDomain: domain }, "envoy-mesh:clusterDomain"), `${JSON.stringify(domain).length > 60 ? `${JSON.stringify(domain).slice(0, 57)}...` : JSON.stringify(domain)} is not a valid cluster domain (a DNS-1123 subdomain, such as cluster.local)`);
      });
    }

    for (const domain of ["cluster.local", "k8s.example.com", "1cluster"]) {
      it(`accepts ${domain}`, () => {
        assert.equal(kube({ clusterDomain: domain }).mesh.clusterDomain, domain);
      });
    }
  });

  describe("registry (distribution/reference grammar)", () => {
    for (const registry of ["not a domain!", "acme", "ghcr.io/Acme", "ghcr.io/acme/", "ghcr.io//acme", "-ghcr.io/acme", "ghcr.io:port/acme", "https://ghcr.io/acme"]) {
      it(`refuses ${JSON.stringify(registry)}`, () => {
        assert.equal(
          onlyIssue({ ...CLOUD, registry }, "envoy-mesh:registry"),
          `${JSON.stringify(registry)} is not a registry host[:port][/path] (for example ghcr.io/acme or localhost:5001)`,
        );
      });
    }

    for (const registry of ["ghcr.io/acme", "localhost:5001", "registry.example.com:5000/team/sub-team", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "[::1]:5000/mesh", "docker.io/acme"]) {
      it(`accepts ${registry}`, () => {
        assert.equal(kube({ ...CLOUD, registry }).registry.server, registry);
      });
    }

    it("checks it on kind too", () => {
      assert.match(onlyIssue({ registry: "not a domain!" }, "envoy-mesh:registry"), /is not a registry host/);
    });
  });

  describe("kindClusterName (kind's rule)", () => {
    for (const name of ["Envoy", "envoy_mesh", "my cluster", "a".repeat(51)]) {
      it(`refuses ${JSON.stringify(name)}`, () => {
        assert.match(onlyIssue({ kindClusterName: name }, "envoy-mesh:kindClusterName"), /is not a valid kind cluster name \(lowercase letters, digits, "\." and "-", at most 50 characters\)$/);
      });
    }

    for (const name of ["dev", "envoy.mesh-2", "a".repeat(50)]) {
      it(`accepts ${name.length > 20 ? "a 50-character name" : name}`, () => {
        assert.equal(kube({ kindClusterName: name }).cluster.target, "kind");
      });
    }
  });

  describe("platform", () => {
    it("defaults to linux/amd64 on cloud, what most cloud nodes run", () => {
      assert.equal(kube(CLOUD).registry.platform, "linux/amd64");
      assert.equal(kube({ ...CLOUD, platform: "" }).registry.platform, "linux/amd64", "Pulumi.yaml's empty default");
    });

    it("on kind, sets none unless asked: the Docker engine's own platform is the kind nodes' platform", () => {
      assert.equal(kube({ target: "kind" }).registry.platform, undefined);
      assert.equal(kube({ target: "kind", platform: "" }).registry.platform, undefined);
      assert.equal(kube({ target: "kind", platform: "linux/arm64" }).registry.platform, "linux/arm64");
    });

    for (const platform of ["linux/arm64", "linux/arm/v7", "linux/amd64"]) {
      it(`accepts ${platform}`, () => {
        assert.equal(kube({ ...CLOUD, platform }).registry.platform, platform);
      });
    }

    for (const platform of ["amd64", "darwin/arm64", "linux/x86_64", "windows/amd64"]) {
      it(`refuses ${platform}`, () => {
        assert.equal(onlyIssue({ ...CLOUD, platform }, "envoy-mesh:platform"), `${JSON.stringify(platform)} is not a Linux platform such as linux/amd64 or linux/arm64`);
      });
    }
  });

  describe('"" means not set', () => {
    it("for target, namespace and envoyImage", () => {
      const settings = parseStackSettings({ target: "", namespace: "", envoyImage: "" });
      assert.equal(settings.target, "kind");
      assert.equal(settings.mesh.namespace, "envoy-mesh");
      assert.equal(settings.mesh.envoyImage, projectDefaults().envoyImage);
    });

    it("for registry on kind (the local registry)", () => {
      assert.equal(kube({ registry: "" }).registry.server, "localhost:5001");
    });

    it("for registry on cloud, which is then missing", () => {
      assert.match(onlyIssue({ target: "cloud", registry: "" }, "envoy-mesh:registry"), /^required for target cloud/);
    });

    it("for the topology (the seed)", () => {
      assert.deepEqual(parseStackSettings({ topology: "" }).topology, parseTopology(undefined));
    });
  });

  describe("frontNodePort", () => {
    it("accepts an integer given as a string, as pulumi config set stores it", () => {
      assert.deepEqual(kube({ frontNodePort: "30081" }).mesh.front, { type: "NodePort", nodePort: 30081, tlsNodePort: 30443 });
    });

    it("refuses a port outside the NodePort range", () => {
      assert.equal(onlyIssue({ frontNodePort: 8080 }, "envoy-mesh:frontNodePort"), "8080 is not an integer from 30000 to 32767");
    });

    it("refuses a string that is not an integer", () => {
      assert.equal(onlyIssue({ frontNodePort: "30081.5" }, "envoy-mesh:frontNodePort"), '"30081.5" is not an integer from 30000 to 32767');
    });
  });

  describe("frontTlsNodePort", () => {
    it("is 30443 by default, and takes another NodePort", () => {
      assert.deepEqual(kube({}).mesh.front, { type: "NodePort", nodePort: 30080, tlsNodePort: 30443 });
      assert.deepEqual(kube({ frontTlsNodePort: "30444" }).mesh.front, { type: "NodePort", nodePort: 30080, tlsNodePort: 30444 });
    });

    it("refuses a port outside the NodePort range", () => {
      assert.equal(onlyIssue({ frontTlsNodePort: 8443 }, "envoy-mesh:frontTlsNodePort"), "8443 is not an integer from 30000 to 32767");
    });

    it("refuses the plain HTTP NodePort: each listener needs its own", () => {
      assert.match(onlyIssue({ frontNodePort: 30500, frontTlsNodePort: "30500" }, "envoy-mesh:frontTlsNodePort"), /30500 is already the plain HTTP NodePort \(frontNodePort\)/);
    });

    it("only applies to target kind, except at the default Pulumi fills in", () => {
      assert.equal(onlyIssue({ ...CLOUD, frontTlsNodePort: 30444 }, "envoy-mesh:frontTlsNodePort"), "only applies to target kind");
      assert.doesNotThrow(() => parseStackSettings({ ...CLOUD, frontTlsNodePort: "30443" }));
    });
  });

  describe("topology", () => {
    let expected: Topology;
    before(() => (expected = parseTopology(TOPOLOGY)));

    it("accepts YAML text", () => {
      assert.deepEqual(parseStackSettings({ topology: dump(TOPOLOGY) }).topology, expected);
    });

    it("accepts JSON text", () => {
      assert.deepEqual(parseStackSettings({ topology: JSON.stringify(TOPOLOGY) }).topology, expected);
    });

    it("accepts an object (structured config)", () => {
      assert.deepEqual(parseStackSettings({ topology: TOPOLOGY }).topology, expected);
    });

    it("accepts the extends: seed shorthand", () => {
      const topology = parseStackSettings({ topology: "extends: seed\nfront:\n  replicas: 2\n" }).topology;
      assert.equal(topology.front.replicas, 2);
      assert.equal(topology.services.length, 3);
    });

    it("refuses text that is not YAML, with the parser's first line", () => {
      const message = onlyIssue({ topology: "services: [web" }, "envoy-mesh:topology");
      assert.match(message, /^not valid YAML: /);
      assert.doesNotMatch(message, /\n/);
    });

    it("refuses YAML that is not a mapping", () => {
      assert.equal(onlyIssue({ topology: "- web" }, "envoy-mesh:topology"), 'expected a YAML mapping, got "- web"');
    });

    it("reports topology problems under envoy-mesh:topology, with their messages", () => {
      const bad = { ...TOPOLOGY, services: [{ name: "Web", appPort: 8081 }, TOPOLOGY.services[1]] };
      const { issues } = stackError({ topology: JSON.stringify(bad) });
      const issue = issues.find((i) => i.path === "envoy-mesh:topology.services[0].name");
      assert.ok(issue, show(issues));
      assert.match(issue.message, /^"Web" is not a valid name/);
      assert.ok(issues.every((i) => i.path.startsWith("envoy-mesh:topology")), show(issues));
    });
  });

  describe("envoyImage", () => {
    for (const image of ["envoyproxy/envoy", "envoyproxy/envoy:latest", "localhost:5000/envoy", "envoyproxy/envoy@sha256:abc"]) {
      it(`refuses ${image}`, () => {
        const message = onlyIssue({ envoyImage: image }, "envoy-mesh:envoyImage");
        assert.equal(message, `${JSON.stringify(image)} must pin an exact tag or digest (not latest), so every pod runs the same Envoy`);
      });
    }

    const digest = `sha256:${"0".repeat(64)}`;
    for (const image of [`envoyproxy/envoy:v1.30.1@${digest}`, `localhost:5000/envoy:dev-1@${digest}`, `envoyproxy/envoy@${digest}`]) {
      it(`accepts ${image}`, () => {
        assert.equal(kube({ envoyImage: image }).mesh.envoyImage, image);
      });
    }

    it("pins the default image by tag and digest", () => {
      assert.match(projectDefaults().envoyImage, /^envoyproxy\/envoy:v1\.39\.\d+@sha256:[0-9a-f]{64}$/);
    });

    for (const image of ["envoyproxy/envoy:v1.30.1", "localhost:5000/envoy:dev-1"]) {
      it(`refuses the tag-only ${image}, naming the opt-in`, () => {
        assert.equal(
          onlyIssue({ envoyImage: image }, "envoy-mesh:envoyImage"),
          `${JSON.stringify(image)} pins a tag only, which can be moved to other content: add its digest (image:tag@sha256:...), or set envoy-mesh:allowTagOnlyEnvoyImage to true`,
        );
      });

      it(`accepts the tag-only ${image} with allowTagOnlyEnvoyImage (as Pulumi passes it: text or boolean)`, () => {
        assert.equal(kube({ envoyImage: image, allowTagOnlyEnvoyImage: "true" }).mesh.envoyImage, image);
        assert.equal(kube({ envoyImage: image, allowTagOnlyEnvoyImage: true }).mesh.envoyImage, image);
      });
    }

    it("still refuses latest with allowTagOnlyEnvoyImage", () => {
      assert.match(onlyIssue({ envoyImage: "envoyproxy/envoy:latest", allowTagOnlyEnvoyImage: true }, "envoy-mesh:envoyImage"), /must pin an exact tag or digest/);
    });

    it("refuses an allowTagOnlyEnvoyImage that is not a boolean", () => {
      assert.equal(onlyIssue({ allowTagOnlyEnvoyImage: "yes" }, "envoy-mesh:allowTagOnlyEnvoyImage"), '"yes" is not true or false');
    });
  });

  describe("namespace", () => {
    for (const namespace of ["Envoy", "envoy_mesh", "-mesh", "mesh-", "n".repeat(64)]) {
      it(`refuses ${JSON.stringify(namespace)}`, () => {
        assert.match(onlyIssue({ namespace }, "envoy-mesh:namespace"), /is not a valid namespace name \(a DNS-1123 label\)$/);
      });
    }

    it("accepts a label starting with a digit (DNS-1123)", () => {
      assert.equal(kube({ namespace: "1mesh" }).mesh.namespace, "1mesh");
    });
  });

  it("reports every problem of the stack and of its topology at once", () => {
    const { issues, message } = stackError({
      target: "cloud",
      colour: "blue",
      frontNodePort: 30099,
      namespace: "Mesh",
      topology: { extends: "seed", envoy: { concurrency: 0 } },
    });
    assert.deepEqual(issues.map((i) => i.path).sort(), [
      "envoy-mesh:colour",
      "envoy-mesh:frontNodePort",
      "envoy-mesh:namespace",
      "envoy-mesh:registry",
      "envoy-mesh:topology.envoy.concurrency",
    ]);
    assert.ok(message.startsWith("invalid stack configuration (5 problems):"), message);
  });
});
