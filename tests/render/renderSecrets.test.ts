import { strict as assert } from "node:assert";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { load } from "js-yaml";
import { MTLS_OFF_NOTE, renderMesh, renderedSecretSources, type RenderedMesh } from "../../render/renderMesh";
import { PLACEHOLDER_ANNOTATION } from "../../k8s";

const REPO_ROOT = resolve(__dirname, "../..");

interface SecretDoc {
  kind: string;
  type?: string;
  metadata: { name: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

function secrets(rendered: RenderedMesh): [string, SecretDoc][] {
  return [...rendered.files]
    .filter(([path]) => path.startsWith("k8s/"))
    .map(([path, content]) => [path, load(content) as SecretDoc] as [string, SecretDoc])
    .filter(([, doc]) => doc.kind === "Secret" && doc.type === "kubernetes.io/tls");
}

const decode = (value: string) => Buffer.from(value, "base64").toString("utf8");

describe("render/renderMesh: certificates", () => {
  describe("the kind stack of the repository", () => {
    let rendered: RenderedMesh;
    before(() => (rendered = renderMesh(REPO_ROOT, "kind")));

    it("renders one identity Secret per proxy and the edge Secret, each marked as a placeholder in an annotation and a file comment", () => {
      assert.deepEqual(secrets(rendered).map(([, doc]) => doc.metadata.name).sort(), [
        "front-envoy-edge",
        "front-envoy-identity",
        "service-a-identity",
        "service-b-identity",
        "service-c-identity",
      ]);
      for (const [path, doc] of secrets(rendered)) {
        assert.match(doc.metadata.annotations?.[PLACEHOLDER_ANNOTATION] ?? "", /placeholders: pulumi up writes the real ones/, path);
        assert.match(rendered.files.get(path) as string, /^# Placeholder certificate and key/);
        for (const [key, value] of Object.entries(doc.data ?? {})) assert.match(decode(value), /^-----BEGIN PLACEHOLDER-----\n/, `${path} ${key}`);
      }
    });

    it("writes no key material in any file, base64 Secret data included", () => {
      for (const [path, content] of rendered.files) {
        assert.ok(!content.includes("PRIVATE KEY-----"), path);
        const doc = load(content) as SecretDoc;
        if (doc?.kind === "Secret") for (const value of Object.values(doc.data ?? {})) assert.ok(!decode(value).includes("PRIVATE KEY-----"), path);
      }
    });

    it("notes each kind of placeholder once, naming its files", () => {
      const identity = rendered.notes.filter((n) => n.includes("identity Secrets"));
      assert.equal(identity.length, 1);
      assert.match(identity[0], /^4 identity Secrets \(k8s\/\d+-secret-front-envoy-identity\.yaml, .*\): the certificate, key and mesh CA are placeholders/);
      const edge = rendered.notes.filter((n) => n.includes("edge certificate"));
      assert.equal(edge.length, 1);
      assert.match(edge[0], /^k8s\/\d+-secret-front-envoy-edge\.yaml: the edge certificate and key are placeholders/);
      assert.ok(!rendered.notes.includes(MTLS_OFF_NOTE));
    });
  });

  describe("certificate sources", () => {
    it("mounts an existing edge Secret by name, with no placeholder for it", () => {
      assert.deepEqual(renderedSecretSources({ kind: "secret", name: "shop-tls" }).edge, { kind: "existing", name: "shop-tls" });
      assert.equal(renderedSecretSources({ kind: "none" }).edge, undefined);
      assert.equal(renderedSecretSources({ kind: "provided" }).edge?.kind, "data");
    });
  });

  /** Renders a one-service stack with mtls off on `target`, in a project folder of the test's own. */
  function renderMtlsOff(config: Record<string, string>): RenderedMesh {
    const dir = mkdtempSync(join(tmpdir(), "envoy-mesh-project-"));
    try {
      copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
      const topology = { services: [{ name: "web", appPort: 8081, image: { ref: "ghcr.io/acme/web:1.0.0" } }], front: { routes: [{ prefix: "/", service: "web" }] }, security: { mtls: "off" } };
      writeFileSync(join(dir, "Pulumi.off.yaml"), JSON.stringify({ config: { ...config, "envoy-mesh:topology": JSON.stringify(topology) } }));
      return renderMesh(dir, "off", { outDir: join(dir, "out") });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("with mtls off warns in a note, and renders no identity Secret", () => {
    const rendered = renderMtlsOff({ "envoy-mesh:target": "cloud", "envoy-mesh:registry": "ghcr.io/acme" });
    assert.equal(rendered.notes[0], MTLS_OFF_NOTE);
    assert.match(MTLS_OFF_NOTE, /topology\.security\.mtls is off.*debugging only/);
    assert.deepEqual(secrets(rendered), []);
  });

  it("with mtls off on the docker target warns in a note too, and writes no identity files", () => {
    const rendered = renderMtlsOff({ "envoy-mesh:target": "docker" });
    assert.equal(rendered.notes[0], MTLS_OFF_NOTE);
    assert.deepEqual([...rendered.files.keys()].filter((path) => path.startsWith("tls/") && !path.startsWith("tls/front-envoy-edge/")), []);
  });
});
