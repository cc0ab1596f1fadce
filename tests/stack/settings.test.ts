import { strict as assert } from "node:assert";
import { dump } from "js-yaml";
import { CONFIG_KEYS, DEFAULT_ENVOY_IMAGE, parseStackSettings, type StackSettings } from "../../stack";
import { ConfigError, parseTopology, type ConfigIssue, type Topology } from "../../topology";

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
    let settings: StackSettings;
    before(() => {
      settings = parseStackSettings({});
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
      assert.deepEqual(settings.mesh.front, { type: "NodePort", nodePort: 30080 });
    });

    it("deploys to namespace envoy-mesh, cluster domain cluster.local, with the pinned Envoy image", () => {
      assert.deepEqual(
        { namespace: settings.mesh.namespace, clusterDomain: settings.mesh.clusterDomain, envoyImage: settings.mesh.envoyImage },
        { namespace: "envoy-mesh", clusterDomain: "cluster.local", envoyImage: DEFAULT_ENVOY_IMAGE },
      );
    });

    it("deploys the seed topology", () => {
      assert.deepEqual(settings.topology, parseTopology(undefined));
    });

    it("derives the kube context from kindClusterName", () => {
      assert.deepEqual(parseStackSettings({ kindClusterName: "dev" }).cluster, { target: "kind", clusterName: "dev", context: "kind-dev" });
    });

    it("accepts a registry of the user's on kind", () => {
      assert.equal(parseStackSettings({ registry: "localhost:5555" }).registry.server, "localhost:5555");
    });
  });

  describe("target cloud", () => {
    it("requires registry", () => {
      assert.match(onlyIssue({ target: "cloud" }, "envoy-mesh:registry"), /^required for target cloud/);
    });

    it("exposes the front proxy through a LoadBalancer", () => {
      assert.deepEqual(parseStackSettings(CLOUD).mesh.front, { type: "LoadBalancer" });
    });

    it("uses the ambient kubeconfig and its current context unless told", () => {
      assert.deepEqual(parseStackSettings(CLOUD).cluster, { target: "cloud", kubeconfig: undefined, context: undefined });
    });

    it("passes kubeconfig, kubeContext and the registry credentials through", () => {
      const settings = parseStackSettings({ ...CLOUD, kubeconfig: "~/.kube/config", kubeContext: "prod", registryUsername: "bot", registryPassword: "s3cret" });
      assert.deepEqual(settings.cluster, { target: "cloud", kubeconfig: "~/.kube/config", context: "prod" });
      assert.deepEqual(settings.registry, { server: "ghcr.io/acme", username: "bot", hasPassword: true });
    });

    it("accepts registryPassword as a secret placeholder from a stack file", () => {
      assert.equal(parseStackSettings({ ...CLOUD, registryPassword: { secure: "v1:AAAABBBB" } }).registry.hasPassword, true);
    });

    it("refuses a registryPassword that is neither a string nor a secret", () => {
      assert.match(onlyIssue({ ...CLOUD, registryPassword: 42 }, "envoy-mesh:registryPassword"), /^expected a secret string/);
    });

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
    assert.equal(onlyIssue({ target: "aws" }, "envoy-mesh:target"), '"aws" is not one of kind, cloud');
  });

  it("names an unknown key with the envoy-mesh: prefix and lists the known keys", () => {
    assert.equal(onlyIssue({ colour: "blue" }, "envoy-mesh:colour"), `unknown config key (known: ${CONFIG_KEYS.join(", ")})`);
  });

  describe('"" means not set', () => {
    it("for target, namespace and envoyImage", () => {
      const settings = parseStackSettings({ target: "", namespace: "", envoyImage: "" });
      assert.equal(settings.target, "kind");
      assert.equal(settings.mesh.namespace, "envoy-mesh");
      assert.equal(settings.mesh.envoyImage, DEFAULT_ENVOY_IMAGE);
    });

    it("for registry on kind (the local registry)", () => {
      assert.equal(parseStackSettings({ registry: "" }).registry.server, "localhost:5001");
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
      assert.deepEqual(parseStackSettings({ frontNodePort: "30081" }).mesh.front, { type: "NodePort", nodePort: 30081 });
    });

    it("refuses a port outside the NodePort range", () => {
      assert.equal(onlyIssue({ frontNodePort: 8080 }, "envoy-mesh:frontNodePort"), "8080 is not an integer from 30000 to 32767");
    });

    it("refuses a string that is not an integer", () => {
      assert.equal(onlyIssue({ frontNodePort: "30081.5" }, "envoy-mesh:frontNodePort"), '"30081.5" is not an integer from 30000 to 32767');
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

    for (const image of ["envoyproxy/envoy:v1.30.1", "localhost:5000/envoy:dev-1", `envoyproxy/envoy@sha256:${"0".repeat(64)}`]) {
      it(`accepts ${image}`, () => {
        assert.equal(parseStackSettings({ envoyImage: image }).mesh.envoyImage, image);
      });
    }
  });

  describe("namespace", () => {
    for (const namespace of ["Envoy", "envoy_mesh", "-mesh", "mesh-", "n".repeat(64)]) {
      it(`refuses ${JSON.stringify(namespace)}`, () => {
        assert.match(onlyIssue({ namespace }, "envoy-mesh:namespace"), /is not a valid namespace name \(a DNS-1123 label\)$/);
      });
    }

    it("accepts a label starting with a digit (DNS-1123)", () => {
      assert.equal(parseStackSettings({ namespace: "1mesh" }).mesh.namespace, "1mesh");
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
