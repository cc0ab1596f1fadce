import { strict as assert } from "node:assert";
import { load } from "js-yaml";
import { envoyConfigProblems, forgetEnvoyVerdicts, loadEnvoyConfig, meshEnvoyConfigProblems, renderEnvoyConfig, renderFileXds, type RenderedEnvoyConfig } from "../../envoy/check";
import { ENVOY_CONFIG_DIR, ENVOY_CONFIG_FILE, XDS_DIR, buildMeshConfigs, buildSidecarConfig, toFileXds } from "../../envoy";
import { proxyMetrics, proxyMetricsOf } from "../../observability/metrics";
import { parseTopology } from "../../topology";
import { kubernetesEnvoyTarget } from "../../k8s";
import type { EnvoyTarget } from "../../envoy";
import { resourceVerdicts } from "../../checks/envoy";

const CONTEXT: EnvoyTarget = { namespace: "mesh", upstreamHost: (service) => kubernetesEnvoyTarget(KIND_NAMES).upstreamHost(service) };
const KIND_NAMES = { namespace: "envoy-mesh", clusterDomain: "cluster.local" };

describe("checking generated Envoy configs before deploy", () => {
  it("finds nothing wrong with any proxy of the seed mesh, strict mode included", () => {
    assert.deepEqual(meshEnvoyConfigProblems(parseTopology(undefined), CONTEXT), []);
  });

  it("names the proxy and the field of each problem", () => {
    const broken = [
      "static_resources:",
      "  clusters:",
      "    - name: local_app",
      "      connect_timeout: 250ms",
      "      hosts: [{socket_address: {address: 127.0.0.1, port_value: 8081}}]",
    ].join("\n");
    const problems = envoyConfigProblems([{ proxy: "service-b", bootstrap: JSON.stringify(load(broken)), xdsFiles: {} }]);
    const paths = problems.map((p) => p.path);
    assert.ok(paths.includes("envoy config of service-b: static_resources.clusters[0].hosts"), paths.join("\n"));
    assert.ok(paths.includes("envoy config of service-b: static_resources.clusters[0].connect_timeout"), paths.join("\n"));
  });

  it("treats a deprecated field as a failure", () => {
    const deprecated = "admin:\n  access_log_path: /tmp/admin.log\n  address: {socket_address: {address: 127.0.0.1, port_value: 9901}}\n";
    const problems = envoyConfigProblems([{ proxy: "front-envoy", bootstrap: JSON.stringify(load(deprecated)), xdsFiles: {} }]);
    assert.deepEqual(problems.map((p) => p.path), ["envoy config of front-envoy: admin.access_log_path"]);
  });

  it("checks a changed file anew: a verdict is reused only for the same text", () => {
    const good = renderEnvoyConfig(buildSidecarConfig(parseTopology(undefined), parseTopology(undefined).services[1], CONTEXT));
    const broken = { ...good, xdsFiles: { ...good.xdsFiles, "cds.json": good.xdsFiles["cds.json"].replace(/"connect_timeout": "[^"]*"/, '"connect_timeout": "soon"') } };
    assert.notEqual(broken.xdsFiles["cds.json"], good.xdsFiles["cds.json"], "the CDS file has a connect_timeout to break");
    assert.deepEqual(envoyConfigProblems([good]), []);
    assert.ok(envoyConfigProblems([broken]).some((p) => p.path.startsWith(`cds.json of ${good.proxy}:`)));
    assert.deepEqual(envoyConfigProblems([good]), [], "the good text again");
    assert.ok(envoyConfigProblems([broken]).some((p) => p.path.startsWith(`cds.json of ${good.proxy}:`)), "the broken text again");
  });

  it("reuses a verdict for the same bytes in another proxy, each problem under its own proxy, as a fresh check reports it", () => {
    const topology = parseTopology(undefined);
    const broken = (r: RenderedEnvoyConfig): RenderedEnvoyConfig => {
      const file = JSON.parse(r.xdsFiles["sds-mesh-ca.json"]);
      file.resources[0].bogus = 1;
      return { ...r, xdsFiles: { ...r.xdsFiles, "sds-mesh-ca.json": `${JSON.stringify(file, null, 2)}\n` } };
    };
    const [b, c] = ["service-b", "service-c"].map((name) => broken(renderEnvoyConfig(buildSidecarConfig(topology, topology.services.find((s) => s.name === name)!, CONTEXT))));
    assert.equal(b.xdsFiles["sds-mesh-ca.json"], c.xdsFiles["sds-mesh-ca.json"], "the same bytes in both proxies");
    const fresh = envoyConfigProblems([b]);
    assert.ok(fresh.length > 0 && fresh.every((p) => p.path.startsWith("sds-mesh-ca.json of service-b: resources[0]")), JSON.stringify(fresh));
    const reused = envoyConfigProblems([c]);
    assert.deepEqual(reused, fresh.map((p) => ({ ...p, path: p.path.replace("of service-b", "of service-c") })));
  });

  it("checks every config afresh after forgetEnvoyVerdicts, with the same verdict", () => {
    const config = renderEnvoyConfig(buildSidecarConfig(parseTopology(undefined), parseTopology(undefined).services[0], CONTEXT));
    assert.deepEqual(envoyConfigProblems([config]), []);
    forgetEnvoyVerdicts();
    assert.equal(resourceVerdicts.size, 0);
    resourceVerdicts.stats.misses = 0;
    assert.deepEqual(envoyConfigProblems([config]), []);
    assert.ok(resourceVerdicts.stats.misses > 0, "the resources were checked again, not taken from the memo");
  });

  describe("the shipped text: JSON, read back once", () => {
    const configs = () => buildMeshConfigs(parseTopology(undefined), { ...CONTEXT, edgeHttpsPort: 8443 });

    it("writes every bootstrap and xDS file as JSON that parses back to exactly the built object", () => {
      for (const config of configs()) {
        const split = toFileXds(config);
        const rendered = renderFileXds(split);
        assert.deepStrictEqual(JSON.parse(rendered.bootstrap), split.bootstrap, config.proxy);
        assert.equal(rendered.bootstrap, `${JSON.stringify(split.bootstrap, null, 2)}\n`, config.proxy);
        assert.deepEqual(Object.keys(rendered.xdsFiles), Object.keys(split.files), config.proxy);
        for (const [file, text] of Object.entries(rendered.xdsFiles)) {
          assert.ok(file.endsWith(".json"), `${config.proxy} ${file}`);
          assert.deepStrictEqual(JSON.parse(text), split.files[file], `${config.proxy} ${file}`);
          assert.ok(text.endsWith("}\n"), `${config.proxy} ${file}`);
        }
      }
    });

    it("names only .json files, in the xDS folder, so Envoy parses each as JSON (it picks the parser by the name)", () => {
      assert.equal(ENVOY_CONFIG_FILE, "envoy.json");
      for (const config of configs()) {
        const rendered = renderEnvoyConfig(config);
        // Every path_config_source of the bootstrap and of the files (the LDS/CDS/RDS subscriptions, each SDS config).
        const paths: string[] = [];
        const walk = (node: unknown): void => {
          if (Array.isArray(node)) node.forEach(walk);
          else if (typeof node === "object" && node !== null) {
            for (const [key, value] of Object.entries(node)) {
              if (key === "path_config_source") paths.push((value as { path: string }).path);
              walk(value);
            }
          }
        };
        walk(JSON.parse(rendered.bootstrap));
        Object.values(rendered.xdsFiles).forEach((text) => walk(JSON.parse(text)));
        assert.ok(paths.length >= 3, `${config.proxy}: ${paths.join(", ")}`);
        for (const path of paths) {
          assert.match(path, /\.json$/, config.proxy);
          assert.ok(path.startsWith(`${XDS_DIR}/`) && path.slice(XDS_DIR.length + 1) in rendered.xdsFiles, `${config.proxy}: ${path} is delivered`);
        }
        assert.ok(!ENVOY_CONFIG_DIR.startsWith(XDS_DIR));
      }
    });

    it("reports a text that is not JSON as a problem naming the proxy and the file, instead of throwing", () => {
      const good = renderEnvoyConfig(configs()[1]);
      // YAML is not JSON: Envoy would refuse a .json file holding it.
      const yamlBootstrap = { ...good, bootstrap: "admin: {}\n" };
      assert.deepEqual(
        envoyConfigProblems([yamlBootstrap]).map((p) => p.path),
        [`envoy config of ${good.proxy}`],
      );
      const truncated = { ...good, xdsFiles: { ...good.xdsFiles, "cds.json": good.xdsFiles["cds.json"].slice(0, 40) } };
      const problems = envoyConfigProblems([truncated]);
      assert.deepEqual(problems.map((p) => p.path), [`cds.json of ${good.proxy}`]);
      assert.match(problems[0].message, /^not valid JSON, and Envoy reads this file as JSON: /);
      // Both at once, and the metrics of such a config still come out (the check reports the text).
      assert.equal(envoyConfigProblems([{ ...truncated, bootstrap: "{" }]).length, 2);
      assert.doesNotThrow(() => proxyMetrics({ ...truncated, bootstrap: "{" }));
    });

    it("parses each rendered config once, for the checks and the metrics alike, and neither changes what it read", () => {
      const rendered = configs().map(renderEnvoyConfig);
      const first = rendered.map(loadEnvoyConfig);
      assert.deepEqual(envoyConfigProblems(rendered), []);
      const metrics = rendered.map(proxyMetrics);
      rendered.forEach((r, i) => {
        assert.equal(loadEnvoyConfig(r), first[i], "the same loaded form");
        assert.deepStrictEqual(first[i].bootstrap, JSON.parse(r.bootstrap), `${r.proxy}: untouched by the checks`);
        for (const [file, text] of Object.entries(r.xdsFiles)) assert.deepStrictEqual(first[i].files[file], JSON.parse(text), `${r.proxy} ${file}`);
        // A copy with the same bytes is loaded on its own and gives the same verdict and series.
        const copy: RenderedEnvoyConfig = { proxy: r.proxy, bootstrap: r.bootstrap, xdsFiles: { ...r.xdsFiles } };
        assert.notEqual(loadEnvoyConfig(copy), first[i]);
        assert.deepStrictEqual(loadEnvoyConfig(copy), first[i]);
        const parsedFiles = Object.fromEntries(Object.entries(r.xdsFiles).map(([f, t]) => [f, JSON.parse(t)]));
        assert.deepStrictEqual(metrics[i], proxyMetricsOf(r.proxy, JSON.parse(r.bootstrap), parsedFiles));
      });
    });
  });
});
