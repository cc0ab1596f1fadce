import { strict as assert } from "assert";
import * as fs from "fs";
import { addonsHowToOpen } from "../../ops/addons";
import { runUp } from "../../ops/up";
import { FakeBackend, FakeHttp, FakeMachine, FakeTime, fakeDeps, makeRepo, meshAnswer } from "./fakes";

describe("ops/addons: how to open the observability add-ons", () => {
    it("gives a port-forward command on the kind context for Jaeger, Grafana and Prometheus, and says Grafana needs no login", () => {
        const lines = addonsHowToOpen("envoy-mesh").join("\n");
        assert.match(lines, /kubectl --context kind-envoy-mesh -n observability port-forward svc\/jaeger 16686, then open http:\/\/localhost:16686\//);
        assert.match(lines, /kubectl --context kind-envoy-mesh -n observability port-forward svc\/grafana 3000, then open http:\/\/localhost:3000\/ \(no login: anonymous, read-only\)/);
        assert.match(lines, /port-forward svc\/prometheus 9090/);
    });

    it("names the stack's own kind cluster", () => {
        assert.match(addonsHowToOpen("demo").join("\n"), /--context kind-demo /);
    });

    describe("npm run up", () => {
        let repos: string[] = [];
        afterEach(() => {
            for (const repo of repos) fs.rmSync(repo, { recursive: true, force: true });
            repos = [];
        });
        const up = async (config: Record<string, unknown>) => {
            const repo = makeRepo(config);
            repos.push(repo);
            const deps = fakeDeps(new FakeMachine(), new FakeBackend(), new FakeHttp([meshAnswer()]), new FakeTime());
            await runUp(deps, { repoRoot: repo });
            return deps.lines.join("\n");
        };

        it("says nothing about the add-ons when they are off (the default)", async () => {
            const out = await up({ "envoy-mesh:target": "kind" });
            assert.doesNotMatch(out, /port-forward|Jaeger|Grafana/);
        });

        it("prints how to open Jaeger and Grafana after the mesh answers, when the stack turns the add-ons on", async function () {
            const out = await up({ "envoy-mesh:target": "kind", "envoy-mesh:observability": { addons: true } });
            assert.match(out, /port-forward svc\/jaeger 16686[\s\S]*port-forward svc\/grafana 3000[\s\S]*The mesh is up/);
        });
    });
});
