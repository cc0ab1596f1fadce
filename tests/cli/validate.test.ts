import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import {
  DOCUMENT_VALIDATORS,
  chooseValidator,
  parseArgs,
  reportFile,
  runValidate,
  USAGE,
  type DocumentValidator,
} from "../../cli/validate";
import { dump, load } from "js-yaml";
import { renderMesh } from "../../render/renderMesh";
import { FIXTURES, fixture } from "../checks/envoy/fixtures";

function run(argv: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = runValidate(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

const GOOD = fixture("v3/front-proxy.yaml");
const SEED = fixture("v2/service-b.yaml");

describe("cli/validate", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "validate-cli-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  describe("arguments", () => {
    it("prints the usage and exits 0 for --help or -h", () => {
      for (const flag of ["--help", "-h"]) {
        const { code, out, err } = run(["a.yaml", flag]);
        assert.equal(code, 0);
        assert.deepEqual(out, [USAGE]);
        assert.deepEqual(err, []);
      }
    });

    it("takes --strict before, between or after the files", () => {
      for (const argv of [["--strict", "a", "b"], ["a", "--strict", "b"], ["a", "b", "--strict"]]) {
        assert.deepEqual(parseArgs(argv), { ok: true, files: ["a", "b"], strict: true });
      }
      assert.deepEqual(parseArgs(["a"]), { ok: true, files: ["a"], strict: false });
    });

    it("treats everything after -- as a file", () => {
      assert.deepEqual(parseArgs(["--", "--strict"]), { ok: true, files: ["--strict"], strict: false });
    });

    it("refuses an unknown flag, naming it, with exit code 2 and the usage", () => {
      const r = run([GOOD, "--stirct"]);
      assert.equal(r.code, 2);
      assert.deepEqual(r.out, []);
      assert.equal(r.err[0], "validate: unknown option --stirct");
      assert.match(r.err[1], /^usage: npm run validate -- FILE\|FOLDER\.\.\. \[--strict\]$/);
    });

    it("refuses a call without files, with exit code 2", () => {
      const r = run(["--strict"]);
      assert.equal(r.code, 2);
      assert.equal(r.err[0], "validate: no files given");
    });
  });

  describe("output and exit code", () => {
    it("prints <path>: OK and exits 0 when every file passes", () => {
      const r = run([GOOD, fixture("v3/service-b.json")]);
      assert.equal(r.code, 0);
      assert.deepEqual(r.out, [`${GOOD}: OK`, `${fixture("v3/service-b.json")}: OK`]);
    });

    it("reads a .json file as JSON, as Envoy does: the same config written as YAML in a .json file fails, naming the file", () => {
      const asJson = join(dir, "front-proxy.json");
      writeFileSync(asJson, JSON.stringify(load(readFileSync(GOOD, "utf8"))));
      assert.deepEqual(run([asJson]).out, [`${asJson}: OK`]);
      const yamlInJson = join(dir, "front-proxy-yaml.json");
      copyFileSync(GOOD, yamlInJson);
      const r = run([yamlInJson]);
      assert.equal(r.code, 1);
      assert.equal(r.out[0], `${yamlInJson}: FAIL`);
      assert.match(r.out[1], new RegExp(`^  error: ${yamlInJson.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not valid JSON \\(Envoy reads a \\.json file as JSON\\): `));
    });

    it("prints FAIL with one indented line per reason and its config path, and exits 1", () => {
      const r = run([GOOD, SEED]);
      assert.equal(r.code, 1);
      assert.equal(r.out[0], `${GOOD}: OK`);
      assert.equal(r.out[1], `${SEED}: FAIL`);
      assert.ok(
        r.out.includes(
          '  error static_resources.clusters[0].hosts: unknown field "hosts" in envoy.config.cluster.v3.Cluster; the v2 "hosts" field was removed: list endpoints in "load_assignment"',
        ),
        r.out.join("\n"),
      );
      assert.ok(r.out.some((l) => /^ {2}warning admin\.access_log_path: "access_log_path" is deprecated/.test(l)));
      assert.ok(r.out.slice(2).every((l) => /^ {2}(error|warning) \S+: /.test(l)), r.out.join("\n"));
    });

    it("with --strict reports warnings as errors and fails on them", () => {
      const file = join(dir, "deprecated.yaml");
      writeFileSync(file, "admin:\n  access_log_path: /dev/null\n");
      assert.deepEqual(run([file]).out, [`${file}: OK`, `  warning admin.access_log_path: "access_log_path" is deprecated (envoy.config.bootstrap.v3.Admin.access_log_path, since API v3.0)`]);
      const strict = run(["--strict", file]);
      assert.equal(strict.code, 1);
      assert.deepEqual(strict.out, [`${file}: FAIL`, `  error admin.access_log_path: "access_log_path" is deprecated (envoy.config.bootstrap.v3.Admin.access_log_path, since API v3.0)`]);
    });

    it("validates each document of a multi-document file and labels them", () => {
      const file = join(dir, "multi.yaml");
      writeFileSync(file, "admin: {}\n---\nstatic_resources:\n  clusters:\n    - name: ''\n");
      const r = run([file]);
      assert.equal(r.code, 1);
      assert.deepEqual(r.out, [
        `${file} (document 1 of 2): OK`,
        `${file} (document 2 of 2): FAIL`,
        '  error static_resources.clusters[0].name: must be at least 1 character long, got the string ""',
      ]);
    });

    it("names a missing file, a folder with nothing to check, non-YAML and an empty file in a clear error", () => {
      const missing = join(dir, "missing.yaml");
      const folder = mkdtempSync(join(dir, "folder-"));
      const broken = join(dir, "broken.yaml");
      const empty = join(dir, "empty.yaml");
      writeFileSync(broken, "admin: [unclosed\n");
      writeFileSync(empty, "# nothing here\n");
      const r = run([missing, folder, broken, empty, GOOD]);
      assert.equal(r.code, 1);
      assert.deepEqual(r.out.slice(0, 2), [`${missing}: FAIL`, `  error: cannot read ${missing}: no such file`]);
      assert.deepEqual(r.out.slice(2, 4), [`${folder}: FAIL`, `  error: ${folder} is a folder with no .yaml, .yml or .json file in it`]);
      assert.equal(r.out[4], `${broken}: FAIL`);
      assert.match(r.out[5], new RegExp(`^ {2}error: ${broken.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not valid YAML: `));
      assert.deepEqual(r.out.slice(6, 8), [`${empty}: FAIL`, `  error: ${empty} has no YAML document`]);
      assert.equal(r.out[8], `${GOOD}: OK`);
      assert.ok(r.out.every((l) => !/\n|^\s+at /.test(l)), "no stack traces");
    });

    it("refuses a document that is not a mapping", () => {
      const file = join(dir, "scalar.yaml");
      writeFileSync(file, "just text\n");
      assert.deepEqual(run([file]).out, [`${file}: FAIL`, "  error: expected a bootstrap config object, got the string \"just text\""]);
    });
  });

  describe("document dispatch", () => {
    it("sends every document to the Envoy bootstrap validator by default", () => {
      assert.equal(chooseValidator({ admin: {} })?.kind, "Envoy v3 bootstrap");
      assert.equal(DOCUMENT_VALIDATORS.at(-1)?.kind, "Envoy v3 bootstrap");
    });

    it("lets a more specific validator claim a document before the bootstrap one", () => {
      const manifests: DocumentValidator = {
        kind: "test manifest",
        accepts: (d) => typeof d === "object" && d !== null && "kind" in d,
        validate: () => ({ ok: false, errors: [{ path: "kind", message: "claimed" }], warnings: [] }),
      };
      const file = join(dir, "mixed.yaml");
      writeFileSync(file, "kind: Thing\n---\nadmin: {}\n");
      const out: string[] = [];
      const ok = reportFile(file, {}, { out: (l) => out.push(l), err: () => undefined }, [manifests, ...DOCUMENT_VALIDATORS]);
      assert.equal(ok, false);
      assert.deepEqual(out, [`${file} (document 1 of 2): FAIL`, "  error kind: claimed", `${file} (document 2 of 2): OK`]);
    });
  });

  describe("compose files", () => {
    const fixtures = join(__dirname, "..", "checks", "compose", "fixtures");

    it("are told from Envoy bootstraps and Kubernetes objects by their top-level services", () => {
      assert.equal(chooseValidator({ services: {} })?.kind, "compose file");
      assert.equal(chooseValidator({ apiVersion: "v1", kind: "Service" })?.kind, "Kubernetes object");
      assert.equal(chooseValidator({ static_resources: {} })?.kind, "Envoy v3 bootstrap");
      assert.equal(chooseValidator({ resources: [] })?.kind, "Envoy xDS resource file");
    });

    it("pass a compose file compose accepts, warning about the mesh's rules it breaks", () => {
      const file = join(fixtures, "accepted", "envoy-examples-front-proxy.yaml");
      const { code, out } = run([file]);
      assert.equal(code, 0);
      assert.equal(out[0], `${file}: OK`);
      assert.ok(out.includes("  warning services.front-envoy.read_only: must be true (read-only root filesystem)"), out.join("\n"));
    });

    it("fail on the mesh's rules with --strict", () => {
      const file = join(fixtures, "accepted", "envoy-examples-front-proxy.yaml");
      const { code, out } = run([file, "--strict"]);
      assert.equal(code, 1);
      assert.equal(out[0], `${file}: FAIL`);
      assert.ok(out.includes("  error services.front-envoy.read_only: must be true (read-only root filesystem)"), out.join("\n"));
    });

    it("fail a compose file the Compose Specification refuses, naming the field", () => {
      const file = join(fixtures, "refused", "ports-not-a-list.yaml");
      assert.deepEqual(run([file]).out, [`${file}: FAIL`, '  error services.front-envoy.ports: must be a list, got "8080"']);
    });
  });

  describe("a bootstrap with its xDS files", () => {
    // Envoy's dynamic-config-fs example (Apache-2.0): envoy.yaml reads /var/lib/envoy/lds.yaml and cds.yaml.
    const example = join(FIXTURES, "envoy-examples", "dynamic-config-fs");
    const bootstrap = join(example, "envoy.yaml");
    const configs = join(example, "configs");

    it("checks the references between a bootstrap and the xDS files of a folder, by file name", () => {
      const r = run([bootstrap, configs]);
      assert.equal(r.code, 0, r.out.join("\n"));
      assert.deepEqual(r.out, [
        `${bootstrap}: OK`,
        `${join(configs, "cds.yaml")}: OK`,
        `${join(configs, "lds.yaml")}: OK`,
        `${bootstrap} with its xDS files: OK`,
        "  warning lds.yaml:version_info: missing: Envoy accepts the file but reports an empty version, so nobody can tell which content an Envoy runs",
        "  warning cds.yaml:version_info: missing: Envoy accepts the file but reports an empty version, so nobody can tell which content an Envoy runs",
      ]);
      assert.equal(run([bootstrap, configs, "--strict"]).code, 1);
    });

    it("fails a route to a cluster the CDS file lacks and a listener file holding a Cluster, naming file and path", () => {
      const folder = mkdtempSync(join(dir, "xds-"));
      const lds = load(readFileSync(join(configs, "lds.yaml"), "utf8")) as any;
      const cds = load(readFileSync(join(configs, "cds.yaml"), "utf8")) as any;
      lds.resources[0].filter_chains[0].filters.typed_config.route_config.virtual_hosts[0].routes[0].route.cluster = "missing";
      lds.resources.push(cds.resources[0]);
      writeFileSync(join(folder, "lds.yaml"), dump(lds));
      writeFileSync(join(folder, "cds.yaml"), dump(cds));
      const r = run([bootstrap, folder]);
      assert.equal(r.code, 1);
      const block = r.out.slice(r.out.indexOf(`${bootstrap} with its xDS files: FAIL`));
      assert.ok(block.length > 1, r.out.join("\n"));
      assert.ok(block.includes("  error lds.yaml:resources[1]: is a envoy.config.cluster.v3.Cluster, but the LDS subscription reading this file takes envoy.config.listener.v3.Listener resources only (Envoy refuses the whole file: Unable to unpack as envoy.config.listener.v3.Listener)"), block.join("\n"));
      lds.resources.pop();
      writeFileSync(join(folder, "lds.yaml"), dump(lds));
      assert.ok(run([bootstrap, folder]).out.some((l) => l.startsWith("  error lds.yaml:resources[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes[0].route.cluster: routes to cluster 'missing'")));
    });

    it("checks a lone xDS file on its own, and fails a given xDS file no bootstrap reads", () => {
      const lds = join(configs, "lds.yaml");
      assert.deepEqual(run([lds]).out, [`${lds}: OK`]);
      const folder = mkdtempSync(join(dir, "spare-"));
      const spare = join(folder, "rds-spare.yaml");
      writeFileSync(spare, "version_info: '1'\nresources: []\n");
      const r = run([bootstrap, configs, spare]);
      assert.equal(r.code, 1);
      assert.deepEqual(r.out.slice(-2), ["xDS files: FAIL", `  error ${spare}: is given but no bootstrap reads it: no ConfigSource names a file of that name`]);
    });
  });

  describe("Kubernetes manifests", () => {
    let rendered: ReturnType<typeof renderMesh>;
    before(() => (rendered = renderMesh(join(__dirname, "..", ".."), "kind")));
    const deployment = () =>
      [...rendered.files.values()].map((content) => load(content) as any).find((doc) => doc?.kind === "Deployment" && doc.metadata.name === "service-a");
    const write = (name: string, content: unknown) => {
      const file = join(dir, name);
      writeFileSync(file, typeof content === "string" ? content : dump(content));
      return file;
    };

    it("are told from Envoy bootstraps by their apiVersion or kind", () => {
      assert.equal(chooseValidator({ apiVersion: "v1", kind: "Service" })?.kind, "Kubernetes object");
      assert.equal(chooseValidator({ kind: "Service" })?.kind, "Kubernetes object");
      assert.equal(chooseValidator({ apiVersion: "v1", metadata: {} })?.kind, "Kubernetes object");
      assert.equal(chooseValidator({ static_resources: {} })?.kind, "Envoy v3 bootstrap");
    });

    it("report a manifest without kind as a Kubernetes object missing its kind", () => {
      const file = write("no-kind.yaml", "apiVersion: v1\nmetadata:\n  name: a\n");
      assert.deepEqual(run([file]).out, [`${file}: FAIL`, '  error kind: missing required field "kind"']);
    });

    it("check each item of a List, as kubectl applies them, labelled List item N", () => {
      const good = deployment();
      const bad = deployment();
      bad.spec.replicas = "2";
      const file = write("list.yaml", { apiVersion: "v1", kind: "List", items: [good, bad] });
      const { code, out } = run([file]);
      assert.equal(code, 1);
      assert.equal(out[0], `${file} (List item 1 of 2): OK`);
      assert.equal(out[1], `${file} (List item 2 of 2): FAIL`);
      assert.match(out[2], /^ {2}error spec\.replicas: must be an integer/);
      const multi = write("multi-list.yaml", `${dump({ admin: {} })}---\n${dump({ apiVersion: "v1", kind: "List", items: [good] })}`);
      assert.deepEqual(run([multi]).out, [`${multi} (document 1 of 2): OK`, `${multi} (document 2 of 2, List item 1 of 1): OK`]);
    });

    it("refuse a List without kind or with items that are not a list", () => {
      const file = write("bad-list.yaml", { apiVersion: "v1", items: { a: 1 } });
      assert.deepEqual(run([file]).out, [
        `${file}: FAIL`,
        '  error items: must be an array of objects (a document with "items" is a List), got an object',
        '  error kind: missing required field "kind"',
      ]);
    });

    it("warn that a custom resource was not checked; --strict makes it fail", () => {
      const file = write("gateway.yaml", { apiVersion: "gateway.networking.k8s.io/v1", kind: "Gateway", metadata: { name: "g" }, spec: {} });
      const lenient = run([file]);
      assert.equal(lenient.code, 0);
      assert.equal(lenient.out[0], `${file}: OK`);
      assert.match(lenient.out[1], /^ {2}warning apiVersion: custom resource, not checked: /);
      assert.equal(run([file, "--strict"]).code, 1);
    });

    /** Every file a render writes, checked as a user would: the manifests, then each proxy's folder (bootstrap as envoy.json, its xDS files beside it). */
    const acceptsEveryRenderedFile = (files: ReadonlyMap<string, string>, label: string) => {
      const manifests = [...files].filter(([path]) => path.startsWith("k8s/")).map(([path, content]) => write(`${label}-${path.replace(/\//g, "-")}`, content));
      const { code, out } = run([...manifests, "--strict"]);
      assert.equal(code, 0, out.join("\n"));
      assert.equal(out.filter((l) => l.endsWith(": OK")).length, manifests.length);
      const proxies = new Map<string, [string, string][]>();
      for (const [path, content] of files) {
        const match = /^envoy\/([^/]+?)(?:\.json$|\/(.+)$)/.exec(path);
        if (!match) continue;
        const name = match[2] === undefined ? "envoy.json" : basename(match[2]);
        proxies.set(match[1], [...(proxies.get(match[1]) ?? []), [name, content]]);
      }
      assert.ok(proxies.size >= 4, [...proxies.keys()].join());
      for (const [proxy, proxyFiles] of proxies) {
        const folder = join(dir, `${label}-proxy-${proxy}`);
        mkdirSync(folder, { recursive: true });
        for (const [name, content] of proxyFiles) writeFileSync(join(folder, name), content);
        const r = run([folder, "--strict"]);
        assert.equal(r.code, 0, r.out.join("\n"));
        assert.ok(r.out.includes(`${join(folder, "envoy.json")} with its xDS files: OK`), r.out.join("\n"));
      }
    };

    it("accepts every file the render command writes, in strict mode, each proxy's bootstrap with its xDS files", () => {
      acceptsEveryRenderedFile(rendered.files, "kind");
    });

    it("accepts, in strict mode, every file a render with tracing, JSON access logs and the observability add-ons writes", () => {
      const project = mkdtempSync(join(tmpdir(), "validate-observability-"));
      try {
        copyFileSync(join(__dirname, "..", "..", "Pulumi.yaml"), join(project, "Pulumi.yaml"));
        cpSync(join(__dirname, "..", "..", "app"), join(project, "app"), { recursive: true, filter: (src) => !src.includes("node_modules") });
        writeFileSync(join(project, "Pulumi.kind.yaml"), JSON.stringify({ config: { "envoy-mesh:target": "kind", "envoy-mesh:observability": { addons: true } } }));
        const traced = renderMesh(project, "kind");
        const lds = [...traced.files].filter(([path]) => /^envoy\/[^/]+\/lds\.json$/.test(path));
        assert.ok(lds.length >= 4 && lds.every(([, text]) => text.includes("envoy.tracers.opentelemetry") && text.includes("json_format")), "every proxy traces and logs JSON");
        assert.ok([...traced.files.keys()].some((path) => path.startsWith("k8s/") && path.includes("grafana")), "the add-ons are rendered");
        acceptsEveryRenderedFile(traced.files, "traced");
      } finally {
        rmSync(project, { recursive: true, force: true });
      }
    });

    it("fail on a schema problem, naming the field", () => {
      const bad = deployment();
      bad.spec.template.spec.containers[0].imagePullPolicy = "Sometimes";
      bad.spec.replicas = "2";
      const file = write("bad-deployment.yaml", bad);
      const { code, out } = run([file]);
      assert.equal(code, 1);
      assert.equal(out[0], `${file}: FAIL`);
      assert.ok(out.some((l) => /^ {2}error spec\.replicas: /.test(l)), out.join("\n"));
      assert.ok(out.some((l) => /^ {2}error spec\.template\.spec\.containers\[0\]\.imagePullPolicy: /.test(l)), out.join("\n"));
    });

    it("warn when a pod gives up a protection, naming the rule; --strict makes it fail", () => {
      const relaxed = deployment();
      relaxed.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = false;
      const file = write("relaxed-deployment.yaml", relaxed);
      const lenient = run([file]);
      assert.equal(lenient.code, 0);
      assert.deepEqual(lenient.out.slice(0, 1), [`${file}: OK`]);
      assert.match(lenient.out[1], /^ {2}warning spec\.template\.spec\.containers\[0\]\.securityContext\.readOnlyRootFilesystem: .*\[defaults\/read-only-root-fs\]$/);
      const strict = run([file, "--strict"]);
      assert.equal(strict.code, 1);
      assert.match(strict.out[1], /^ {2}error .*\[defaults\/read-only-root-fs\]$/);
    });
  });

  describe("as a process", () => {
    it("exits 1 on a failing file and 2 on a usage error, without stack traces", function () {
      this.timeout(60_000);
      const script = join(__dirname, "..", "..", "cli", "validate.ts");
      const opts = { encoding: "utf8" as const, cwd: join(__dirname, "..", "..") };
      const fail = spawnSync(process.execPath, ["-r", "ts-node/register", script, SEED, "--strict"], opts);
      assert.equal(fail.status, 1, fail.stderr);
      assert.match(fail.stdout, /: FAIL\n {2}error /);
      const usage = spawnSync(process.execPath, ["-r", "ts-node/register", script, "--nope"], opts);
      assert.equal(usage.status, 2);
      assert.match(usage.stderr, /^validate: unknown option --nope\n/);
      assert.doesNotMatch(usage.stderr + fail.stderr, /\n\s+at /);
    });
  });
});
