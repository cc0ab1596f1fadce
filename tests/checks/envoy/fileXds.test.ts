import { strict as assert } from "node:assert";
import { load } from "js-yaml";
import { fromFileXds, validateResourceFile, type XdsProblem } from "../../../checks/envoy";
import { buildMeshConfigs, CDS_FILE, LDS_FILE, XDS_DIR, rdsFileName } from "../../../envoy";
import { envoyConfigProblems, renderEnvoyConfig, type RenderedEnvoyConfig } from "../../../envoy/check";
import { kubernetesEnvoyTarget } from "../../../k8s";
import { parseTopology } from "../../../topology";
import { loadFixture } from "./fixtures";

const target = () => kubernetesEnvoyTarget({ namespace: "mesh", clusterDomain: "cluster.local" });
/** Our own rendered service-a: the proxy with listeners, routes, clusters and SDS files. */
function rendered(): RenderedEnvoyConfig {
  const config = buildMeshConfigs(parseTopology(undefined), target()).find((c) => c.proxy === "service-a");
  assert.ok(config);
  return renderEnvoyConfig(config);
}

const parsed = (r: RenderedEnvoyConfig) => ({
  bootstrap: load(r.bootstrap) as any,
  files: Object.fromEntries(Object.entries(r.xdsFiles).map(([f, t]) => [f, load(t)])) as Record<string, any>,
});

const describeProblem = (p: XdsProblem) => `${p.file ?? "bootstrap"}: ${p.path}: ${p.message}`;

/** Envoy's own example of a file-based config (fixtures/envoy-examples/dynamic-config-fs, Apache-2.0). */
function envoyExample() {
  return {
    bootstrap: loadFixture("envoy-examples/dynamic-config-fs/envoy.yaml"),
    files: {
      "lds.yaml": loadFixture("envoy-examples/dynamic-config-fs/configs/lds.yaml"),
      "cds.yaml": loadFixture("envoy-examples/dynamic-config-fs/configs/cds.yaml"),
    } as Record<string, any>,
  };
}

describe("file-based xDS: a bootstrap and its files checked together", () => {
  it("our rendered files load back into the static config, with no problem", () => {
    const r = rendered();
    const { bootstrap, files } = parsed(r);
    const loaded = fromFileXds(bootstrap, files, { xdsDir: XDS_DIR });
    assert.deepEqual([...loaded.errors, ...loaded.warnings].map(describeProblem), []);
    assert.deepEqual([...loaded.read].sort(), Object.keys(files).sort());
    assert.deepEqual(envoyConfigProblems([r]), []);
  });

  it("accepts Envoy's dynamic-config-fs example, whose files live in the folder its bootstrap names", () => {
    const { bootstrap, files } = envoyExample();
    const loaded = fromFileXds(bootstrap, files);
    assert.deepEqual(loaded.errors.map(describeProblem), []);
    // The example's files carry no version_info: Envoy takes them, only a version cannot be told.
    assert.deepEqual(loaded.warnings.map((w) => `${w.file}: ${w.path}`), ["lds.yaml: version_info", "cds.yaml: version_info"]);
    const equivalent = loaded.bootstrap as any;
    assert.deepEqual(equivalent.static_resources.listeners.map((l: any) => l.name), ["listener_0"]);
    assert.deepEqual(equivalent.static_resources.clusters.map((c: any) => c.name), ["example_proxy_cluster"]);
    assert.equal(equivalent.dynamic_resources, undefined);
    for (const content of Object.values(files)) assert.deepEqual(validateResourceFile(content, { strict: true }).errors, []);
  });

  it("with our own folder rule, refuses the example's paths outside XDS_DIR", () => {
    const { bootstrap, files } = envoyExample();
    const messages = fromFileXds(bootstrap, files, { xdsDir: XDS_DIR }).errors.map(describeProblem);
    assert.ok(messages.includes(`bootstrap: dynamic_resources.lds_config: reads its LDS resources from /var/lib/envoy/lds.yaml, outside ${XDS_DIR}: only that folder holds the delivered xDS files`), messages.join("\n"));
  });

  it("refuses a route to a cluster neither static nor in the CDS file", () => {
    const { bootstrap, files } = envoyExample();
    files["lds.yaml"].resources[0].filter_chains[0].filters.typed_config.route_config.virtual_hosts[0].routes[0].route.cluster = "nowhere";
    assert.deepEqual(fromFileXds(bootstrap, files).errors.map(describeProblem), [
      "lds.yaml: resources[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster: routes to cluster 'nowhere', which neither static_resources.clusters nor cds.yaml defines (Envoy: route: unknown cluster 'nowhere', or a 503 for each request when the route table came by RDS)",
    ]);
  });

  it("refuses a tracer whose collector cluster neither the bootstrap nor the CDS file defines", () => {
    const tracing = { collectorHost: "collector.example", collectorPort: 4317, samplingPercent: 100 };
    const config = buildMeshConfigs(parseTopology(undefined), { ...target(), tracing }).find((c) => c.proxy === "service-a");
    assert.ok(config);
    const { bootstrap, files } = parsed(renderEnvoyConfig(config));
    assert.deepEqual(fromFileXds(bootstrap, files, { xdsDir: XDS_DIR }).errors, [], "as rendered, the collector cluster is in the CDS file");
    files[CDS_FILE].resources = files[CDS_FILE].resources.filter((c: { name: string }) => c.name !== "otel_collector");
    const errors = fromFileXds(bootstrap, files, { xdsDir: XDS_DIR }).errors.map(describeProblem);
    assert.ok(errors.length > 0 && errors.every((e) => /^lds\.json: .*envoy_grpc\.cluster_name: sends gRPC to cluster 'otel_collector'/.test(e)), errors.join("\n"));
    // Each at its own path: the listener's tracer, inside its connection manager.
    assert.ok(errors.some((e) => e.startsWith("lds.json: resources[0].filter_chains[0].filters[0].typed_config.tracing.provider.typed_config.grpc_service.envoy_grpc.cluster_name: ")), errors.join("\n"));
  });

  it("refuses a weighted cluster of an RDS file that no CDS file defines", () => {
    const { bootstrap, files } = parsed(rendered());
    const rds = Object.keys(files).find((f) => f.startsWith("rds-"));
    assert.ok(rds);
    const route = files[rds].resources[0].virtual_hosts[0].routes[0].route;
    route.weighted_clusters = { clusters: [{ name: route.cluster, weight: 1 }, { name: "upstream_gone", weight: 1 }] };
    delete route.cluster;
    const messages = fromFileXds(bootstrap, files, { xdsDir: XDS_DIR }).errors.map(describeProblem);
    assert.equal(messages.length, 1, messages.join("\n"));
    assert.match(messages[0], new RegExp(`^${rds}: resources\\[0\\]\\.virtual_hosts\\[0\\]\\.routes\\[0\\]\\.route\\.weighted_clusters\\.clusters\\[1\\]\\.name: routes to weighted cluster 'upstream_gone', which neither static_resources\\.clusters nor cds\\.json defines`));
  });

  it("refuses an RDS file whose route configuration is not the one asked for, and one with two", () => {
    const { bootstrap, files } = parsed(rendered());
    const rds = Object.keys(files).find((f) => f.startsWith("rds-"));
    assert.ok(rds);
    const asked = files[rds].resources[0].name;
    files[rds].resources[0].name = "other";
    assert.deepEqual(fromFileXds(bootstrap, files, { xdsDir: XDS_DIR }).errors.map(describeProblem), [
      `${rds}: resources[0].name: is 'other', but ${LDS_FILE} asks this file for route configuration '${asked}' (Envoy: Unexpected RDS configuration (expecting ${asked}): other)`,
    ]);
    files[rds].resources = [files[rds].resources[0], { ...files[rds].resources[0], name: asked }];
    assert.deepEqual(fromFileXds(bootstrap, files, { xdsDir: XDS_DIR }).errors.map(describeProblem), [
      `${rds}: resources: holds 2 route configurations, but an RDS subscription takes exactly one (Envoy: Unexpected RDS resource length: 2)`,
    ]);
  });

  it("refuses a file read by the wrong subscription: a Cluster in the LDS file", () => {
    const { bootstrap, files } = envoyExample();
    files["lds.yaml"].resources.push(files["cds.yaml"].resources[0]);
    assert.deepEqual(fromFileXds(bootstrap, files).errors.map(describeProblem), [
      "lds.yaml: resources[1]: is a envoy.config.cluster.v3.Cluster, but the LDS subscription reading this file takes envoy.config.listener.v3.Listener resources only (Envoy refuses the whole file: Unable to unpack as envoy.config.listener.v3.Listener)",
    ]);
  });

  it("names a file the bootstrap reads but nobody delivered, and a delivered file nobody reads", () => {
    const { bootstrap, files } = parsed(rendered());
    delete files[CDS_FILE];
    files["rds-spare.yaml"] = { version_info: "1", resources: [] };
    const messages = fromFileXds(bootstrap, files, { xdsDir: XDS_DIR }).errors.map(describeProblem);
    assert.ok(messages.includes(`bootstrap: dynamic_resources.cds_config: reads its CDS resources from ${XDS_DIR}/${CDS_FILE}, but no file ${CDS_FILE} is delivered with this config (Envoy would wait for it and never finish initializing that CDS subscription)`), messages.join("\n"));
    assert.ok(messages.includes("rds-spare.yaml: : is delivered but nothing reads it: no ConfigSource of the bootstrap or of its xDS files names it"), messages.join("\n"));
  });

  it("refuses a dynamic listener or cluster named like a static one, and a name twice in a file", () => {
    const { bootstrap, files } = parsed(rendered());
    const staticCluster = bootstrap.static_resources.clusters[0];
    files[CDS_FILE].resources.push({ "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", ...staticCluster });
    files[LDS_FILE].resources.push(files[LDS_FILE].resources[0]);
    const messages = fromFileXds(bootstrap, files, { xdsDir: XDS_DIR }).errors.map(describeProblem);
    const n = files[CDS_FILE].resources.length - 1;
    const l = files[LDS_FILE].resources.length - 1;
    const listener = files[LDS_FILE].resources[0].name;
    assert.ok(messages.includes(`${CDS_FILE}: resources[${n}].name: cluster '${staticCluster.name}' is also a static cluster of the bootstrap: Envoy never replaces a static cluster through xDS, so this one would not apply`), messages.join("\n"));
    assert.ok(messages.includes(`${LDS_FILE}: resources[${l}].name: names listener '${listener}' a second time (Envoy: duplicate listener ${listener} found)`), messages.join("\n"));
  });

  it("refuses an SDS file whose Secret is not the one asked for, naming the proxy and file", () => {
    const r = rendered();
    const sds = Object.keys(r.xdsFiles).find((f) => f.startsWith("sds-identity"));
    assert.ok(sds);
    const broken = { ...r, xdsFiles: { ...r.xdsFiles, [sds]: r.xdsFiles[sds].replace(/"name": "[^"]*"/, '"name": "wrong"') } };
    const problems = envoyConfigProblems([broken]).map((p) => `${p.path}: ${p.message}`);
    assert.equal(problems.length > 0, true);
    assert.ok(problems.every((p) => /^(envoy config|\S+\.json) of service-a: /.test(p)), problems.join("\n"));
    assert.ok(problems.some((p) => p.includes(`asks ${sds} for SDS secret`) && p.includes('but its Secret is named "wrong"')), problems.join("\n"));
  });

  it("warns about a file without version_info, which our own configs treat as a problem", () => {
    const r = rendered();
    const withoutVersion = { ...r, xdsFiles: { ...r.xdsFiles, [CDS_FILE]: r.xdsFiles[CDS_FILE].replace(/^ {2}"version_info": .*\n/m, "") } };
    assert.deepEqual(envoyConfigProblems([withoutVersion]).map((p) => p.path), [`${CDS_FILE} of service-a: version_info`]);
  });

  it("gives listeners, clusters and route tables of xDS files the checks a bootstrap's get", () => {
    const { files } = parsed(rendered());
    const lds = files[LDS_FILE];
    const hcm = lds.resources[0].filter_chains[0].filters.find((f: any) => f.typed_config.http_filters).typed_config;
    hcm.http_filters.reverse();
    const ldsErrors = validateResourceFile(lds, { strict: true }).errors.map((e) => e.message);
    assert.ok(ldsErrors.some((m) => /terminal filter named envoy.filters.http.router .* must be the last filter/.test(m)), ldsErrors.join("\n"));

    const cds = files[CDS_FILE];
    cds.resources.push(cds.resources[0]);
    const cdsErrors = validateResourceFile(cds, { strict: true }).errors.map((e) => `${e.path}: ${e.message}`);
    assert.ok(cdsErrors.some((m) => m.startsWith(`resources[${cds.resources.length - 1}].name: cluster manager: duplicate cluster`)), cdsErrors.join("\n"));

    const rdsFile = files[rdsFileName(hcm.rds.route_config_name)];
    const vhost = rdsFile.resources[0].virtual_hosts[0];
    rdsFile.resources[0].virtual_hosts.push({ ...vhost, name: "copy" });
    const rdsErrors = validateResourceFile(rdsFile, { strict: true }).errors.map((e) => e.message);
    assert.ok(rdsErrors.some((m) => m.startsWith("Only unique values for domains are permitted")), rdsErrors.join("\n"));
  });
});
