import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import { checkProject, checkStackConfig, readStackConfig, type PulumiProject } from "../../checks/pulumi";
import { CONFIG_KEYS, TARGETS, isKubernetesStack, projectDefaults, listStacks, parseStackSettings, readStackValues } from "../../stack";

const REPO_ROOT = resolve(__dirname, "../..");
const raw = load(readFileSync(join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { name: string; config: Record<string, { type?: string; default?: unknown; secret?: boolean }> };
const declared = raw.config;

function project(): PulumiProject {
  const loaded = checkProject(raw);
  assert.deepEqual(loaded.problems, []);
  return loaded.project as PulumiProject;
}

/** Pulumi's verdict on a stack file's content against the repository's Pulumi.yaml. */
function pulumiProblems(stack: string, config: Record<string, unknown>): readonly string[] {
  const read = readStackConfig(projectDefaults().project, { config });
  assert.deepEqual(read.problems, []);
  return checkStackConfig(project(), stack, read.config).problems;
}

/** Keys the program reads that Pulumi.yaml leaves undeclared on purpose (see its comment). */
const UNDECLARED = ["registryPassword", "caPrivateKey", "edgePrivateKey", "topology", "observability"];

describe("Pulumi.yaml and the stack files of the repository", () => {
  it("is the envoy-mesh project, the namespace every stack file uses", () => {
    assert.equal(raw.name, "envoy-mesh");
    assert.equal(projectDefaults().project, "envoy-mesh");
  });

  it("declares every config key the program reads, except the secret keys, topology and observability", () => {
    assert.deepEqual(Object.keys(declared).sort(), CONFIG_KEYS.filter((k) => !UNDECLARED.includes(k)).sort());
  });

  it("gives every declared key a type and a default, so no stack is missing a value", () => {
    for (const [key, d] of Object.entries(declared)) {
      assert.ok(d.type !== undefined && d.default !== undefined, key);
      assert.notEqual(d.secret, true, `${key}: Pulumi fills a default in as plain text, then refuses it as not encrypted`);
    }
  });

  // The bug of issue 8: a secret key with a plain default made Pulumi refuse every stack.
  it("lets Pulumi accept a stack with no registry password", () => {
    assert.deepEqual(pulumiProblems("kind", { "envoy-mesh:target": "kind" }), []);
    assert.deepEqual(pulumiProblems("prod", { "envoy-mesh:target": "cloud", "envoy-mesh:registry": "ghcr.io/acme" }), []);
  });

  it("lets Pulumi and the program accept a registry password set with --secret", () => {
    const config = { "envoy-mesh:target": "cloud", "envoy-mesh:registry": "ghcr.io/acme", "envoy-mesh:registryPassword": { secure: "v1:AAAA" } };
    assert.deepEqual(pulumiProblems("prod", config), []);
    const settings = parseStackSettings({ target: "cloud", registry: "ghcr.io/acme", registryPassword: { secure: "v1:AAAA" } });
    assert.ok(isKubernetesStack(settings) && settings.registry.hasPassword);
  });

  it("lets Pulumi and the program accept a CA and an edge key set with --secret, with no declaration of theirs", () => {
    const config = {
      "envoy-mesh:target": "cloud",
      "envoy-mesh:registry": "ghcr.io/acme",
      "envoy-mesh:caCertificate": { secure: "v1:AAAA" },
      "envoy-mesh:caPrivateKey": { secure: "v1:BBBB" },
      "envoy-mesh:edgeCertificate": { secure: "v1:CCCC" },
      "envoy-mesh:edgePrivateKey": { secure: "v1:DDDD" },
    };
    assert.deepEqual(pulumiProblems("prod", config), []);
    const settings = parseStackSettings(Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace("envoy-mesh:", ""), v])));
    assert.deepEqual(settings.certificates, { edge: { kind: "provided" }, ca: { kind: "provided" } });
  });

  it("lets Pulumi refuse a CA private key set without --secret only through the program (the key is undeclared)", () => {
    const config = { "envoy-mesh:target": "cloud", "envoy-mesh:registry": "ghcr.io/acme", "envoy-mesh:caPrivateKey": "-----BEGIN EC PRIVATE KEY-----" };
    assert.deepEqual(pulumiProblems("prod", config), []);
    assert.throws(() => parseStackSettings({ target: "cloud", registry: "ghcr.io/acme", caPrivateKey: "-----BEGIN EC PRIVATE KEY-----" }), /envoy-mesh:caPrivateKey: must be a secret: set it with pulumi config set --secret caPrivateKey < ca\.key/);
  });

  it("lets Pulumi accept the topology as an object (structured config), and as text", () => {
    assert.deepEqual(pulumiProblems("dev", { "envoy-mesh:topology": { extends: "seed", front: { replicas: 2 } } }), []);
    assert.deepEqual(pulumiProblems("dev", { "envoy-mesh:topology": "extends: seed\n" }), []);
  });

  it("gives the same settings with every declared default filled in (as the CLI passes them, as text) as with none", () => {
    const asText = Object.fromEntries(Object.entries(declared).map(([key, d]) => [key, String(d.default)]));
    assert.deepEqual(parseStackSettings(asText), parseStackSettings({}));
  });

  it("describes every target in the target key's description", () => {
    for (const target of TARGETS) assert.match(String((declared.target as { description?: string }).description), new RegExp(`\\b${target} \\(`), target);
  });

  it("declares the Envoy image default pinned by tag and digest", () => {
    assert.equal(declared.envoyImage.default, projectDefaults().envoyImage);
    assert.match(projectDefaults().envoyImage, /^envoyproxy\/envoy:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
  });

  it("has only Pulumi.<stack>.yaml files that Pulumi and the program accept", () => {
    const stacks = listStacks(REPO_ROOT);
    assert.ok(stacks.includes("kind") && stacks.includes("cloud-example") && stacks.includes("docker"), `stacks found: ${stacks.join(", ")}`);
    for (const stack of stacks) {
      assert.doesNotThrow(() => parseStackSettings(readStackValues(REPO_ROOT, stack)), `Pulumi.${stack}.yaml`);
    }
  });

  it("has a Pulumi.docker.yaml that deploys the seed mesh to the local Docker engine with no edits", () => {
    const file = load(readFileSync(join(REPO_ROOT, "Pulumi.docker.yaml"), "utf8")) as { config: Record<string, unknown> };
    assert.deepEqual(pulumiProblems("docker", file.config), []);
    const settings = parseStackSettings(readStackValues(REPO_ROOT, "docker"));
    assert.equal(settings.target, "docker");
    assert.deepEqual(settings.topology, parseStackSettings({}).topology);
  });

  it("has a Pulumi.cloud-example.yaml for a cloud registry, with its topology in the object form", () => {
    const values = readStackValues(REPO_ROOT, "cloud-example");
    assert.equal(typeof values.topology, "object");
    const settings = parseStackSettings(values);
    assert.equal(settings.target, "cloud");
    assert.equal(settings.registry.server, "ghcr.io/acme");
    assert.equal(settings.topology.front.replicas, 2);
  });
});
