import { strict as assert } from "node:assert";
import { readFileSync, readdirSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { TARGETS, type KubernetesTargetDescriptor, type TargetSettingsReader } from "../../stack";

const ROOT = resolve(__dirname, "..", "..");
/**
 * Where a target may be named: its descriptor, the local workflow (`npm run up` drives the kind
 * and docker stacks by name) and tests.
 */
const MAY_NAME_TARGETS = ["stack/targets.ts", "ops/", "tests/"];

function programSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name.startsWith(".") || e.name === "node_modules" || e.name === "out" ? [] : programSources(path);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Code that decides by a target's name: compares it, switches on it, or picks one target's descriptor. */
function targetBranches(targets: readonly string[]): RegExp {
  const name = `"(?:${targets.join("|")})"`;
  return new RegExp(`[!=]==?\\s*${name}|${name}\\s*[!=]==?|case\\s+${name}|describeTarget\\(\\s*"|TARGET_DESCRIPTORS(?:\\.\\w|\\[\\s*")|Extract<Target\\b`);
}

function branchesIn(source: string, targets: readonly string[]): string[] {
  const pattern = targetBranches(targets);
  return source.split("\n").flatMap((line, i) => (pattern.test(line) ? [`${i + 1}: ${line.trim()}`] : []));
}

describe("stack/targets: a target is one place", () => {
  it("no module outside the descriptor table (and the local workflow) branches on a target's name", () => {
    const found = programSources(ROOT)
      .map((file) => relative(ROOT, file).split("\\").join("/"))
      .filter((file) => !MAY_NAME_TARGETS.some((allowed) => file === allowed || (allowed.endsWith("/") && file.startsWith(allowed))))
      .flatMap((file) => branchesIn(readFileSync(join(ROOT, file), "utf8"), TARGETS).map((hit) => `${file}:${hit}`));
    assert.deepEqual(found, [], `ask the target's descriptor (stack/targets.ts) instead:\n${found.join("\n")}`);
  });

  it("the check finds the branches a new target would otherwise need (so it can fail)", () => {
    const old = [
      'if (target === "docker") {',
      '} else if (target === "kind") {',
      '    case "cloud":',
      'if (!describeTarget(cluster.target).checksServerVersion || cluster.target !== "cloud") return undefined;',
      'export const DEFAULT_CLOUD_PLATFORM = describeTarget("cloud").defaultPlatform as string;',
      'readonly target: Extract<Target, "kind" | "cloud">;',
      'return args.stack === "docker" ? runDockerUp() : runUp();',
    ].join("\n");
    assert.equal(branchesIn(old, TARGETS).length, 7);
    assert.deepEqual(branchesIn('const kind = stringField(obj, "kind");\nif (isKubernetesStack(settings)) {', TARGETS), []);
  });

  // With no branch on a name left, the program handles a target by its descriptor alone: a new
  // one needs only an entry of this interface in TARGET_DESCRIPTORS.
  describe("a fourth Kubernetes target, as one descriptor", () => {
    /** A cluster reached through one fixed context, say a shared staging cluster: built only from the descriptor interface. */
    const staging: KubernetesTargetDescriptor = {
      summary: "the shared staging cluster",
      runtime: "kubernetes",
      keys: ["clusterDomain", "registry", "platform"],
      checksServerVersion: true,
      pushesImages: true,
      observability: { samplingPercent: 1, addons: false },
      settings: (read) => {
        const server = read.optionalString("registry") ?? read.report("registry", "required for target staging");
        return server === undefined
          ? undefined
          : { cluster: { target: "staging" }, provider: { context: "staging" }, front: { type: "LoadBalancer" }, registry: { server, hasPassword: read.hasPassword }, certificates: { edge: { kind: "none" }, ca: { kind: "generated" } } };
      },
    };

    function reader(values: Readonly<Record<string, string>>, reported: string[]): TargetSettingsReader {
      return {
        report: (key, message) => void reported.push(`${key}: ${message}`),
        isSecret: () => false,
        isSet: (key) => values[key] !== undefined,
        optionalString: (key) => values[key],
        integer: (_key, _min, _max, fallback) => fallback,
        namespace: "envoy-mesh",
        envoyImage: "envoyproxy/envoy:v1.34.1",
        hasPassword: false,
        defaults: { project: "envoy-mesh", namespace: "envoy-mesh", clusterDomain: "cluster.local", envoyImage: "envoyproxy/envoy:v1.34.1", kindClusterName: "envoy-mesh", frontNodePort: 30080, frontTlsNodePort: 30443 },
      };
    }

    it("reads its own keys and reports its own problems through the reader", () => {
      const reported: string[] = [];
      assert.equal(staging.settings(reader({}, reported)), undefined);
      assert.deepEqual(reported, ["registry: required for target staging"]);
      assert.deepEqual(staging.settings(reader({ registry: "ghcr.io/acme" }, []))?.provider, { context: "staging" });
    });
  });
});
