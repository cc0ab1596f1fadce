import { strict as assert } from "node:assert";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { renderMesh } from "../../render/renderMesh";

const REPO_ROOT = resolve(__dirname, "../..");

/** `web` behind the front, calling `api`; faults only where the caller gives them. */
function topology(faults: { front?: object; upstream?: object } = {}) {
  const image = { ref: "ghcr.io/acme/web:1.0.0" };
  return {
    services: [
      { name: "web", appPort: 8081, image, upstreams: [{ service: "api", ...(faults.upstream ? { fault: faults.upstream } : {}) }] },
      { name: "api", appPort: 8082, image },
    ],
    front: { routes: [{ prefix: "/", service: "web", ...(faults.front ? { fault: faults.front } : {}) }] },
  };
}

describe("render: fault injection is noted on every target", () => {
  let dir: string;
  const render = (target: string, faults: { front?: object; upstream?: object }) => {
    writeFileSync(join(dir, `Pulumi.${target}.yaml`), JSON.stringify({ config: { "envoy-mesh:target": target, "envoy-mesh:topology": topology(faults) } }));
    return renderMesh(dir, target, { outDir: join(dir, "out") });
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "envoy-mesh-faults-"));
    copyFileSync(join(REPO_ROOT, "Pulumi.yaml"), join(dir, "Pulumi.yaml"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  for (const target of ["kind", "docker"]) {
    it(`${target}: notes a warning naming each faulty edge and what it does`, () => {
      const { notes } = render(target, { front: { delay: { fixedDelayMs: 500, percentage: 5 } }, upstream: { abort: { httpStatus: 503, percentage: 50 } } });
      const warnings = notes.filter((n) => /fault injection/.test(n));
      assert.deepEqual(warnings, [
        "warning: fault injection is on for 2 edges, for testing only: front-envoy → web (route /): delay 500 ms for 5%; web → api: abort with HTTP 503 for 50%",
      ]);
    });

    it(`${target}: notes nothing about faults when none are configured`, () => {
      assert.deepEqual(render(target, {}).notes.filter((n) => /fault injection/.test(n)), []);
    });
  }
});
