import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { homedir, tmpdir } from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { tlsProviderOutputs } from "../helpers/tlsProvider";
import { dump } from "js-yaml";
import { checkServerVersion, serverVersionGate } from "../../components/serverVersionGate";
import type { KubeconfigSource } from "../../k8s/kubeconfig";
import { parseServerVersion } from "../../k8s/serverVersion";
import type { ProbeResult } from "../../k8s/versionProbe";
import { isKubernetesStack, parseStackSettings, type KubernetesStackSettings } from "../../stack";

const CLOUD = { target: "cloud", registry: "ghcr.io/acme" };
/** A Kubernetes stack's settings as the program reads them from stack config. */
function kubeStack(values: Record<string, unknown>): KubernetesStackSettings {
  const settings = parseStackSettings(values);
  assert.ok(isKubernetesStack(settings));
  return settings;
}

const known = (gitVersion: string): ProbeResult => ({ known: true, version: parseServerVersion(gitVersion), context: "prod", url: "https://203.0.113.7/version" });

/**
 * Runs `body` with the process's unhandled rejections collected instead of failing the test:
 * the Pulumi language host reports a failed registration that way (and prints a RunError's
 * message alone).
 */
async function collectingRejections(body: (rejections: readonly unknown[]) => Promise<void>): Promise<unknown[]> {
  const saved = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  const rejections: unknown[] = [];
  process.on("unhandledRejection", (e) => rejections.push(e));
  try {
    await body(rejections);
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    process.removeAllListeners("unhandledRejection");
    for (const l of saved) process.on("unhandledRejection", l);
  }
  return rejections;
}

describe("components/serverVersionGate", () => {
  describe("checkServerVersion", () => {
    it("refuses a server known to be older than 1.30 with a RunError naming it, its version and the sleep action", async () => {
      const warnings: string[] = [];
      await assert.rejects(checkServerVersion({}, async () => known("v1.29.4"), (m) => warnings.push(m)), (e: Error) => {
        assert.ok(e instanceof pulumi.RunError, "a RunError, printed without a stack trace");
        assert.match(e.message, /^the cluster of kube context prod \(https:\/\/203\.0\.113\.7\/version\): Kubernetes v1\.29\.4 is older than 1\.30/);
        assert.match(e.message, /lifecycle\.preStop\.sleep/);
        return true;
      });
      assert.deepEqual(warnings, []);
    });

    it("lets 1.30 and newer through without a word", async () => {
      for (const v of ["v1.30.0+k3s1", "v1.31.2-eks-7f9249a", "v1.33.1-gke.1584000"]) {
        const warnings: string[] = [];
        await checkServerVersion({}, async () => known(v), (m) => warnings.push(m));
        assert.deepEqual(warnings, [], v);
      }
    });

    it("when the version cannot be learnt: warns with the reason and the minimum, and does not fail", async () => {
      const warnings: string[] = [];
      await checkServerVersion({}, async () => ({ known: false, reason: "HTTPS_PROXY is set, and this check connects directly" }), (m) => warnings.push(m));
      assert.deepEqual(warnings, [
        "could not check the cluster's Kubernetes version (HTTPS_PROXY is set, and this check connects directly). This mesh needs Kubernetes 1.30 or newer; check with `kubectl version`.",
      ]);
    });
  });

  describe("serverVersionGate", () => {
    it("on kind: no gate and no probe (npm run up checks the kind cluster)", () => {
      let asked = false;
      const gate = serverVersionGate(kubeStack({}), async () => ((asked = true), known("v1.35.8")));
      assert.equal(gate, undefined);
      assert.equal(asked, false);
    });

    it("on a cloud stack: asks with the kubeconfig and context the provider gets", async () => {
      const asked: KubeconfigSource[] = [];
      const probe = async (s: KubeconfigSource) => (asked.push(s), known("v1.33.1-gke.1584000"));
      await new Promise((resolve) => serverVersionGate(kubeStack({ ...CLOUD, kubeconfig: "~/.kube/prod", kubeContext: "prod" }), probe)?.apply(resolve));
      await new Promise((resolve) => serverVersionGate(kubeStack(CLOUD), probe)?.apply(resolve));
      assert.deepEqual(asked, [{ kubeconfig: path.join(homedir(), ".kube/prod"), context: "prod" }, {}]);
    });
  });

  describe("in the Pulumi program (index.ts)", () => {
    const PROGRAM = require.resolve("../../index");
    let server: http.Server;
    let gitVersion: string;
    let dir: string;

    before(async () => {
      server = http.createServer((_req, res) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ gitVersion })));
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      dir = fs.mkdtempSync(path.join(tmpdir(), "envoy-mesh-gate-"));
      const server_ = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      fs.writeFileSync(
        path.join(dir, "config"),
        dump({
          apiVersion: "v1",
          kind: "Config",
          "current-context": "test",
          clusters: [{ name: "test", cluster: { server: server_ } }],
          users: [{ name: "test", user: { token: "t" } }],
          contexts: [{ name: "test", context: { cluster: "test", user: "test" } }],
        }),
      );
    });
    after(async () => {
      fs.rmSync(dir, { recursive: true, force: true });
      await new Promise((resolve) => server.close(resolve));
    });

    /**
     * Runs the program on a cloud stack whose kubeconfig points at the test server, and returns
     * what reached the mock engine once the check has answered (a refused check leaves the
     * mesh's children waiting forever for their parent, so there is no "all done" to wait for).
     */
    async function runCloudProgram(until: (registered: string[], rejections: unknown[]) => boolean): Promise<{ registered: string[]; rejections: unknown[] }> {
      const registered: string[] = [];
      const rejections = await collectingRejections(async (seen) => {
        pulumi.runtime.setAllConfig({ "envoy-mesh:target": "cloud", "envoy-mesh:kubeconfig": path.join(dir, "config"), "envoy-mesh:registry": "ghcr.io/acme" });
        await pulumi.runtime.setMocks(
          {
            async newResource(args) {
              registered.push(`${args.type} ${args.name}`);
              // The mesh's certificates, as the tls provider would issue them.
              const issued = await tlsProviderOutputs({ type: args.type, name: args.name, inputs: args.inputs });
              return { id: `${args.name}-id`, state: { ...args.inputs, ...issued, repoDigest: `ghcr.io/acme/app@sha256:${"a".repeat(64)}` } };
            },
            call: (args) => args.inputs,
          },
          "envoy-mesh",
          "prod",
          false,
        );
        delete require.cache[PROGRAM];
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require(PROGRAM);
        for (let waited = 0; waited < 3000 && !until(registered, [...seen]); waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      });
      return { registered, rejections };
    }

    it("against a 1.29 server: registers nothing and fails with the RunError", async () => {
      gitVersion = "v1.29.4";
      const { registered, rejections } = await runCloudProgram((_, failed) => failed.length > 0);
      assert.deepEqual(registered, []);
      assert.ok(rejections.length > 0, "the run fails");
      assert.ok(rejections.every((e) => e instanceof pulumi.RunError && /Kubernetes v1\.29\.4 is older than 1\.30/.test(e.message)), String(rejections));
    });

    it("against a 1.31 server: registers the mesh", async () => {
      gitVersion = "v1.31.2-eks-7f9249a";
      const hasDeployment = (r: string[]) => r.some((x) => x.startsWith("kubernetes:apps/v1:Deployment "));
      const { registered, rejections } = await runCloudProgram(hasDeployment);
      assert.deepEqual(rejections, []);
      assert.ok(hasDeployment(registered), registered.join(", "));
    });
  });
});
