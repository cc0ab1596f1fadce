import { strict as assert } from "node:assert";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import {
  CONFIG_KEYS,
  DEFAULT_CLUSTER_DOMAIN,
  DEFAULT_ENVOY_IMAGE,
  DEFAULT_FRONT_NODE_PORT,
  DEFAULT_KIND_CLUSTER_NAME,
  DEFAULT_NAMESPACE,
  DEFAULT_TARGET,
  PROJECT,
  parseStackSettings,
  readStackConfigFile,
} from "../../stack";
import { parseTopology } from "../../topology";

const REPO_ROOT = resolve(__dirname, "../..");

interface Declared {
  readonly type: string;
  readonly default: unknown;
  readonly secret?: boolean;
}

const project = load(readFileSync(join(REPO_ROOT, "Pulumi.yaml"), "utf8")) as { name: string; config: Record<string, Declared> };
const declared = project.config;

/** Every declared default, as Pulumi fills them in before the program runs. */
const pulumiDefaults = (): Record<string, unknown> => Object.fromEntries(Object.entries(declared).map(([key, d]) => [key, d.default]));

describe("Pulumi.yaml and the stack files of the repository", () => {
  it("names the project as the config namespace", () => {
    assert.equal(project.name, PROJECT);
  });

  it("declares exactly the config keys the program reads", () => {
    assert.deepEqual(Object.keys(declared).sort(), [...CONFIG_KEYS].sort());
  });

  it("declares the defaults of stack/defaults.ts", () => {
    assert.deepEqual(
      {
        target: declared.target.default,
        namespace: declared.namespace.default,
        clusterDomain: declared.clusterDomain.default,
        envoyImage: declared.envoyImage.default,
        kindClusterName: declared.kindClusterName.default,
        frontNodePort: declared.frontNodePort.default,
      },
      {
        target: DEFAULT_TARGET,
        namespace: DEFAULT_NAMESPACE,
        clusterDomain: DEFAULT_CLUSTER_DOMAIN,
        envoyImage: DEFAULT_ENVOY_IMAGE,
        kindClusterName: DEFAULT_KIND_CLUSTER_NAME,
        frontNodePort: DEFAULT_FRONT_NODE_PORT,
      },
    );
  });

  it("declares the optional keys with the empty default that means not set", () => {
    for (const key of ["registry", "kubeconfig", "kubeContext", "registryUsername", "registryPassword"]) {
      assert.equal(declared[key].default, "", key);
    }
  });

  it("declares the seed mesh as the topology default", () => {
    assert.equal(declared.topology.default, "extends: seed");
    assert.deepEqual(parseTopology(load(declared.topology.default as string)), parseTopology(undefined));
  });

  it("declares frontNodePort an integer, the others strings, and registryPassword secret", () => {
    for (const key of CONFIG_KEYS) assert.equal(declared[key].type, key === "frontNodePort" ? "integer" : "string", key);
    assert.equal(declared.registryPassword.secret, true);
  });

  it("gives the same settings with every declared default filled in as with none", () => {
    assert.deepEqual(parseStackSettings(pulumiDefaults()), parseStackSettings({}));
  });

  it("accepts the declared kind defaults on a cloud stack", () => {
    const settings = parseStackSettings({ ...pulumiDefaults(), target: "cloud", registry: "ghcr.io/acme" });
    assert.equal(settings.target, "cloud");
  });

  it("has a Pulumi.kind.yaml that parses, alone and over the declared defaults", () => {
    const values = readStackConfigFile(REPO_ROOT, "kind");
    assert.equal(parseStackSettings(values).target, "kind");
    assert.equal(parseStackSettings({ ...pulumiDefaults(), ...values }).target, "kind");
  });

  it("has a Pulumi.cloud-example.yaml that parses, alone and over the declared defaults", () => {
    const values = readStackConfigFile(REPO_ROOT, "cloud-example");
    const settings = parseStackSettings(values);
    assert.equal(settings.target, "cloud");
    assert.equal(settings.registry.server, "ghcr.io/acme");
    assert.deepEqual(parseStackSettings({ ...pulumiDefaults(), ...values }), settings);
  });
});
