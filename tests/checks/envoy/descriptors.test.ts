import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { cacheKey, compileDescriptorSet, loadDescriptorSet, type DescriptorSetInfo } from "../../../checks/envoy/descriptorCache";
import {
  collectProtoSources,
  parseImports,
  patchValidateProto,
  topLevelMessageTypes,
  type ProtoSources,
} from "../../../checks/envoy/protoSources";
import { BOOTSTRAP_TYPE, buildEnvoyRegistry, loadEnvoyRegistry } from "../../../checks/envoy/registry";

describe("protoSources", () => {
  let sources: ProtoSources;
  before(() => {
    sources = collectProtoSources();
  });

  it("reads import statements, including public and weak imports", () => {
    const text = 'syntax = "proto3";\r\nimport "a/b.proto";\r\nimport public "c.proto";\nimport weak "d.proto";\n// import "no.proto";';
    assert.deepEqual(parseImports(text), ["a/b.proto", "c.proto", "d.proto"]);
  });

  it("lists a file's top-level message types with their package", () => {
    const text = "package x.y;\nmessage A {\n  message Nested {}\n}\nmessage B {}\n";
    assert.deepEqual(topLevelMessageTypes(text), ["x.y.A", "x.y.B"]);
  });

  it("adds StringRules.ignore_empty (field 26) to an old validate.proto, once", () => {
    const old = "message StringRules {\r\n  optional bool strict = 25 [default = true];\r\n}\r\n";
    const patched = patchValidateProto(old);
    assert.match(patched, /strict = 25 \[default = true\];\n {2}optional bool ignore_empty = 26;/);
    assert.equal(patchValidateProto(patched), patched);
    assert.throws(() => patchValidateProto("message StringRules {}"), /cannot find StringRules.strict/);
  });

  it("compiles the bootstrap, core, filter and extension protos and the rules they carry", () => {
    const paths = new Set(sources.files.map((f) => f.path));
    for (const p of [
      "envoy/config/bootstrap/v3/bootstrap.proto",
      "envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto",
      "envoy/extensions/filters/http/router/v3/router.proto",
      "envoy/extensions/access_loggers/stream/v3/stream.proto",
      "envoy/extensions/filters/http/geoip/v3/geoip.proto",
      "xds/type/v3/typed_struct.proto",
      "validate/validate.proto",
    ]) {
      assert.ok(paths.has(p), `${p} missing`);
    }
    assert.ok(sources.files.length > 300, `only ${sources.files.length} files`);
  });

  it("leaves out the v2 API and the v3 files whose imports the package does not ship, naming their types", () => {
    assert.ok(sources.files.every((f) => !/\/v2(alpha\d?)?\//.test(f.path)));
    const excluded = new Map(sources.excluded.map((e) => [e.path, e]));
    const otel = excluded.get("envoy/extensions/access_loggers/open_telemetry/v3/logs_service.proto");
    assert.ok(otel, "OpenTelemetry access logger should be excluded");
    assert.ok(otel.missing.some((m) => m.startsWith("opentelemetry/")));
    assert.deepEqual(otel.messageTypes, ["envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig"]);
    for (const e of sources.excluded) assert.ok(e.missing.length > 0);
  });

  it("is deterministic: same files, same order, same fingerprint", () => {
    const again = collectProtoSources();
    assert.equal(again.fingerprint, sources.fingerprint);
    assert.deepEqual(
      again.files.map((f) => f.path),
      sources.files.map((f) => f.path),
    );
  });

  describe("cache key", () => {
    // A package of the test's own, laid out as the real one: an Envoy v3 file that is compiled,
    // a v2 file that is not, and the validate.proto every set carries.
    let pkg: string;
    const file = (path: string, content: string) => {
      mkdirSync(dirname(join(pkg, path)), { recursive: true });
      writeFileSync(join(pkg, path), content);
    };
    const keyNow = () => cacheKey(collectProtoSources(pkg), "1.0.0");
    const COMPILED = "deps/envoy-api/envoy/config/demo/v3/demo.proto";
    const DEMO = 'syntax = "proto3";\npackage envoy.config.demo.v3;\nmessage Demo {\n  string name = 1;\n}\n';

    beforeEach(() => {
      pkg = mkdtempSync(join(tmpdir(), "envoy-proto-package-"));
      file("package.json", JSON.stringify({ version: "9.9.9" }));
      file(COMPILED, DEMO);
      file("deps/envoy-api/envoy/api/v2/old.proto", 'syntax = "proto3";\npackage envoy.api.v2;\nmessage Old {}\n');
      file(
        "deps/protoc-gen-validate/validate/validate.proto",
        'syntax = "proto2";\npackage validate;\nmessage StringRules {\n  optional bool strict = 25 [default = true];\n}\n',
      );
      mkdirSync(join(pkg, "deps", "xds"));
      mkdirSync(join(pkg, "deps", "googleapis"));
    });
    afterEach(() => rmSync(pkg, { recursive: true, force: true }));

    it("changes when a compiled input file changes, and comes back when the change is undone", () => {
      const before = keyNow();
      assert.deepEqual(
        collectProtoSources(pkg).files.map((f) => f.path),
        ["envoy/config/demo/v3/demo.proto", "validate/validate.proto"],
      );
      file(COMPILED, DEMO.replace("string name = 1;", "string name = 1;\n  uint32 port = 2;"));
      const edited = keyNow();
      assert.notEqual(edited, before);
      file(COMPILED, DEMO);
      assert.equal(keyNow(), before, "the key follows the content, not the file's time");
    });

    it("stays the same when a file that is not compiled changes", () => {
      const before = keyNow();
      file("deps/envoy-api/envoy/api/v2/old.proto", 'syntax = "proto3";\npackage envoy.api.v2;\nmessage Older {}\n');
      assert.equal(keyNow(), before);
    });

    it("changes with the compiler version", () => {
      const sources = collectProtoSources(pkg);
      assert.notEqual(cacheKey(sources, "1.0.0"), cacheKey(sources, "1.0.1"));
    });
  });
});

describe("descriptorCache", () => {
  // Each compile takes about a second: the cases share one build where they can.
  let dir: string;
  let first: DescriptorSetInfo;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "envoy-descriptor-cache-"));
    first = loadDescriptorSet({ cacheDir: dir });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("builds once, then reads the same bytes from the cache", () => {
    assert.equal(first.source, "built");
    // The build links the package's folders into a scratch folder; removing it must not
    // remove what the links point to.
    assert.ok(existsSync(join(collectProtoSources().depsDir, "envoy-api", "envoy", "config", "bootstrap", "v3", "bootstrap.proto")));
    const second = loadDescriptorSet({ cacheDir: dir });
    assert.equal(second.source, "cache");
    assert.equal(second.key, first.key);
    assert.deepEqual(Buffer.from(second.bytes), Buffer.from(first.bytes));
  });

  it("compiles deterministically: a separate build gives identical bytes", () => {
    // The shared default cache was compiled by another build (an earlier run, or this run's
    // first validation); compile afresh only when it is missing.
    const shared = loadDescriptorSet();
    const other = shared.source === "cache" ? shared.bytes : compileDescriptorSet(collectProtoSources());
    assert.equal(shared.key, first.key);
    assert.ok(other.length > 100_000);
    assert.deepEqual(Buffer.from(other), Buffer.from(first.bytes));
  });

  it("rebuilds over a damaged cache entry and drops entries for other inputs", () => {
    writeFileSync(join(dir, `${first.key}.json`), "{ not json");
    writeFileSync(join(dir, `${"0".repeat(32)}-buf0.0.1.binpb`), "stale");
    const again = loadDescriptorSet({ cacheDir: dir });
    assert.equal(again.source, "built");
    assert.deepEqual(readdirSync(dir).sort(), [`${first.key}.binpb`, `${first.key}.json`]);
  });

  it("still works when the cache folder cannot be written", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const info = loadDescriptorSet({ cacheDir: join(file, "sub") });
    assert.equal(info.source, "built");
    assert.equal(existsSync(join(file, "sub")), false);
    rmSync(file);
  });
});

describe("registry", () => {
  it("is built once per process and reused", () => {
    assert.equal(loadEnvoyRegistry(), loadEnvoyRegistry());
  });

  it("knows the bootstrap, the validate options and Envoy's deprecation annotations", () => {
    {
      const reg = buildEnvoyRegistry();
      assert.equal(reg.bootstrap.typeName, BOOTSTRAP_TYPE);
      assert.equal(reg.options.rules.typeName, "validate.rules");
      assert.equal(reg.options.deprecatedAtMinorVersion.typeName, "envoy.annotations.deprecated_at_minor_version");
      assert.ok(reg.registry.getMessage("envoy.extensions.filters.http.router.v3.Router"));
      assert.equal(
        reg.uncheckedTypes.get("envoy.extensions.access_loggers.open_telemetry.v3.OpenTelemetryAccessLogConfig"),
        "envoy/extensions/access_loggers/open_telemetry/v3/logs_service.proto",
      );
    }
  });
});
