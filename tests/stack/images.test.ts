import { strict as assert } from "node:assert";
import { PLACEHOLDER_TAG, imageBuildPlans, planFor, renderedImage } from "../../stack";
import { parseTopology, type MeshService, type Topology } from "../../topology";

/** Services a, b, c, ... with the given images; `a` is routed from `/`. */
function withImages(...images: unknown[]): Topology {
  return parseTopology({
    services: images.map((image, i) => ({ name: String.fromCharCode(97 + i), appPort: 8081 + i, image })),
    front: { routes: [{ prefix: "/", service: "a" }] },
  });
}

function service(topology: Topology, name: string): MeshService {
  const found = topology.services.find((s) => s.name === name);
  assert.ok(found);
  return found;
}

describe("stack/images", () => {
  describe("imageBuildPlans", () => {
    it("builds the seed's demo app once, named after registry, context and tag", () => {
      const plans = imageBuildPlans(parseTopology(undefined), "localhost:5001", "kind");
      assert.deepEqual(plans, [{ key: "app", build: { context: "app", dockerfile: "Dockerfile" }, imageName: "localhost:5001/envoy-mesh-app:kind" }]);
    });

    it("gives services that share a context and Dockerfile one plan", () => {
      const topology = withImages({ build: { context: "app" } }, { build: { context: "app" } }, { build: { context: "./app/" } });
      const plans = imageBuildPlans(topology, "r", "t");
      assert.equal(plans.length, 1);
      for (const s of topology.services) assert.equal(planFor(s, plans), plans[0]);
    });

    it("gives another Dockerfile in the same context its own plan", () => {
      const topology = withImages({ build: { context: "app" } }, { build: { context: "app", dockerfile: "Dockerfile.debug" } });
      const plans = imageBuildPlans(topology, "r", "t");
      assert.deepEqual(
        plans.map((p) => p.key),
        ["app", "app-dockerfile-debug"],
      );
      assert.notEqual(planFor(service(topology, "a"), plans), planFor(service(topology, "b"), plans));
    });

    it("gives contexts with the same folder name their own plans, each service its own build", () => {
      const topology = withImages({ build: { context: "services/web/app" } }, { build: { context: "legacy/app" } });
      const plans = imageBuildPlans(topology, "r", "t");
      assert.equal(plans.length, 2);
      assert.equal(new Set(plans.map((p) => p.imageName)).size, 2);
      assert.equal(planFor(service(topology, "a"), plans)?.build.context, "services/web/app");
      assert.equal(planFor(service(topology, "b"), plans)?.build.context, "legacy/app");
    });

    it("keeps plans apart whose readable names would coincide", () => {
      const topology = withImages({ build: { context: "a-b" } }, { build: { context: "a/b" } });
      const plans = imageBuildPlans(topology, "r", "t");
      assert.equal(new Set(plans.map((p) => p.key)).size, 2);
      assert.equal(planFor(service(topology, "a"), plans)?.build.context, "a-b");
      assert.equal(planFor(service(topology, "b"), plans)?.build.context, "a/b");
    });

    it("names images in lowercase, as registries require", () => {
      const plans = imageBuildPlans(withImages({ build: { context: "Web/App" } }), "r", "t");
      assert.match(plans[0].imageName, /^r\/envoy-mesh-[a-z0-9-]+:t$/);
      assert.match(plans[0].key, /app/);
    });

    it("does not build prebuilt images", () => {
      const topology = withImages({ ref: "nginx:1.27" }, { build: { context: "app" } });
      const plans = imageBuildPlans(topology, "r", "t");
      assert.deepEqual(
        plans.map((p) => p.key),
        ["app"],
      );
      assert.equal(planFor(service(topology, "a"), plans), undefined);
    });

    it("lists plans by key whatever the order of services", () => {
      const topology = withImages({ build: { context: "zeta" } }, { build: { context: "alpha" } }, { build: { context: "mid" } });
      assert.deepEqual(
        imageBuildPlans(topology, "r", "t").map((p) => p.key),
        ["alpha", "mid", "zeta"],
      );
    });
  });

  describe("renderedImage", () => {
    it("gives a prebuilt image its ref", () => {
      const topology = withImages({ ref: "ghcr.io/acme/web:1.2.3" });
      assert.equal(renderedImage(service(topology, "a"), imageBuildPlans(topology, "r", "t")), "ghcr.io/acme/web:1.2.3");
    });

    it("gives a built image a marked placeholder tag on the plan's repository", () => {
      const topology = withImages({ build: { context: "app" } });
      const image = renderedImage(service(topology, "a"), imageBuildPlans(topology, "localhost:5001", "kind"));
      assert.equal(image, `localhost:5001/envoy-mesh-app:${PLACEHOLDER_TAG}`);
    });

    it("uses a placeholder that is a valid Docker tag", () => {
      assert.match(PLACEHOLDER_TAG, /^[\w][\w.-]{0,127}$/);
    });
  });
});
