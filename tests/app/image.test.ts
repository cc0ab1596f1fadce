import * as assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { closedPortUrl, request, waitFor } from "./fixtures";

const repoRoot = path.resolve(__dirname, "..", "..");
const appDir = path.join(repoRoot, "app");

interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

interface Stage {
  readonly image: string;
  readonly name?: string;
  readonly instructions: readonly Instruction[];
}

/** Dockerfile instructions: comments dropped, continuation lines joined, keywords upper-cased. */
function parseDockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = [];
  let pending: { text: string; line: number } | undefined;
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (pending === undefined && (line === "" || line.startsWith("#"))) return;
    if (pending !== undefined && line.startsWith("#")) return;
    const current = pending ?? { text: "", line: index + 1 };
    const continued = line.endsWith("\\");
    current.text += `${continued ? line.slice(0, -1) : line} `;
    if (continued) {
      pending = current;
      return;
    }
    pending = undefined;
    const match = /^(\S+)\s*(.*)$/.exec(current.text.trim());
    if (match) instructions.push({ keyword: match[1].toUpperCase(), args: match[2].trim(), line: current.line });
  });
  return instructions;
}

function stagesOf(instructions: readonly Instruction[]): Stage[] {
  const stages: { image: string; name?: string; instructions: Instruction[] }[] = [];
  for (const instruction of instructions) {
    if (instruction.keyword === "FROM") {
      const parts = instruction.args.split(/\s+/).filter((part) => !part.startsWith("--"));
      const asIndex = parts.findIndex((part) => part.toUpperCase() === "AS");
      stages.push({ image: parts[0], name: asIndex >= 0 ? parts[asIndex + 1] : undefined, instructions: [] });
    } else {
      assert.ok(stages.length > 0, `line ${instruction.line}: ${instruction.keyword} before the first FROM`);
      stages[stages.length - 1].instructions.push(instruction);
    }
  }
  return stages;
}

/** A Docker image reference pinned to an exact version tag (x.y.z...) or a sha256 digest. */
function isPinned(image: string): boolean {
  if (/@sha256:[0-9a-f]{64}$/.test(image)) return true;
  const tag = /:([^/:@]+)$/.exec(image)?.[1];
  return tag !== undefined && tag !== "latest" && /\d+\.\d+\.\d+/.test(tag);
}

function execForm(instruction: Instruction | undefined): string[] | undefined {
  if (instruction === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(instruction.args);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === "string") ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The last instruction of `keyword` in `stage`, which is the one in effect. */
function last(stage: Stage, keyword: string): Instruction | undefined {
  return [...stage.instructions].reverse().find((instruction) => instruction.keyword === keyword);
}

/** .dockerignore semantics for top-level files: the last matching pattern decides. */
function dockerIgnores(patterns: readonly string[], file: string): boolean {
  let ignored = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith("!");
    const glob = negated ? pattern.slice(1) : pattern;
    const regex = new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*").replace(/\?/g, "[^/]")}$`);
    if (regex.test(file)) ignored = !negated;
  }
  return ignored;
}

describe("app image", () => {
  const instructions = parseDockerfile(fs.readFileSync(path.join(appDir, "Dockerfile"), "utf8"));
  const stages = stagesOf(instructions);
  const finalStage = stages[stages.length - 1];
  const stageNames = stages.map((stage) => stage.name).filter((name): name is string => name !== undefined);

  describe("Dockerfile", () => {
    it("is multi-stage", () => {
      assert.ok(stages.length >= 2, `${stages.length} stage(s)`);
    });

    it("pins every base image to an exact version tag or a digest", () => {
      for (const stage of stages) {
        if (stageNames.includes(stage.image)) continue;
        assert.ok(!stage.image.includes("$"), `${stage.image}: a build argument could unpin it`);
        assert.ok(isPinned(stage.image), `${stage.image} is not pinned to an exact tag or digest`);
      }
    });

    it("builds and runs on Node.js 24 LTS (20 reached end of life on 2026-04-30), each base pinned by tag and index digest", () => {
      const bases = stages.filter((stage) => !stageNames.includes(stage.image)).map((stage) => stage.image);
      assert.ok(bases.length >= 2, bases.join(", "));
      for (const image of bases) {
        assert.match(image, /^node:24\.\d+\.\d+-(alpine3\.\d+|bookworm-slim)@sha256:[0-9a-f]{64}$/, image);
      }
      // Build and runtime run the same Node release, so what compiles is what runs.
      assert.equal(new Set(bases.map((image) => /^node:(24\.\d+\.\d+)/.exec(image)?.[1])).size, 1, bases.join(", "));
      assert.match(finalStage.image, /-alpine3\.\d+@/, "the runtime stays on the small Alpine image");
    });

    it("never mentions the latest tag", () => {
      for (const instruction of instructions) {
        assert.doesNotMatch(instruction.args, /:latest\b/, `line ${instruction.line}`);
      }
    });

    it("runs the final stage as a numeric non-root user", () => {
      const user = last(finalStage, "USER");
      assert.ok(user, "the final stage sets no USER (it would run as root)");
      const match = /^(\d+)(?::(\d+))?$/.exec(user.args);
      assert.ok(match, `USER ${user.args} is not numeric, so Kubernetes runAsNonRoot cannot verify it`);
      assert.notEqual(Number(match[1]), 0, "USER 0 is root");
      if (match[2] !== undefined) assert.notEqual(Number(match[2]), 0, "group 0 is root's");
    });

    it("starts node on the compiled main in exec form, without a shell or entrypoint script", () => {
      const entrypoint = last(finalStage, "ENTRYPOINT");
      assert.ok(entrypoint, "the base image's entrypoint script must be cleared");
      assert.deepEqual(execForm(entrypoint), []);
      const cmd = execForm(last(finalStage, "CMD"));
      assert.ok(cmd, "CMD must be in exec form (a JSON array), so no shell is needed");
      assert.match(cmd[0], /(^|\/)node$/);
      const workdir = last(finalStage, "WORKDIR")?.args;
      assert.equal(cmd[1], `${workdir}/dist/main.js`);
    });

    it("copies the compiler's output directory from the build stage into dist/", () => {
      const tsconfig = JSON.parse(fs.readFileSync(path.join(appDir, "tsconfig.json"), "utf8")) as {
        compilerOptions: { outDir: string };
      };
      const copies = finalStage.instructions.filter((i) => i.keyword === "COPY");
      assert.equal(copies.length, 1, "the runtime stage should copy only the compiled app");
      const match = /^--from=(\S+)\s+(\S+)\s+(\S+)$/.exec(copies[0].args);
      assert.ok(match, `unexpected COPY ${copies[0].args}`);
      const build = stages.find((stage) => stage.name === match[1]);
      assert.ok(build, `COPY --from=${match[1]} names no earlier stage`);
      const buildWorkdir = last(build, "WORKDIR")?.args;
      assert.equal(match[2].replace(/\/$/, ""), `${buildWorkdir}/${tsconfig.compilerOptions.outDir}`);
      assert.equal(match[3].replace(/\/$/, ""), "./dist");
    });

    it("builds from files that exist in app/ and that .dockerignore lets through", () => {
      const ignorePatterns = fs
        .readFileSync(path.join(appDir, ".dockerignore"), "utf8")
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "" && !line.startsWith("#"));
      const files = fs.readdirSync(appDir);
      const sources = stages
        .flatMap((stage) => stage.instructions)
        .filter((i) => (i.keyword === "COPY" || i.keyword === "ADD") && !i.args.startsWith("--from="))
        .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
      assert.ok(sources.length > 0);
      for (const source of sources) {
        const matching = files.filter((file) => dockerIgnores([source], file));
        assert.ok(matching.length > 0, `COPY source ${source} matches no file in app/`);
        for (const file of matching) assert.equal(dockerIgnores(ignorePatterns, file), false, `${file} is excluded by .dockerignore`);
      }
      for (const file of ["README-section.md", "Dockerfile", "dist", "node_modules"]) {
        assert.equal(dockerIgnores(ignorePatterns, file), true, `${file} would be sent to the build`);
      }
    });
  });

  describe("package", () => {
    const appPackage = JSON.parse(fs.readFileSync(path.join(appDir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const rootPackage = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const appLock = JSON.parse(fs.readFileSync(path.join(appDir, "package-lock.json"), "utf8")) as {
      packages: Record<string, { version?: string; devDependencies?: Record<string, string> }>;
    };

    it("has no runtime dependencies", () => {
      assert.deepEqual(appPackage.dependencies ?? {}, {});
    });

    it("builds with the same TypeScript and Node types as the repository", () => {
      const rootVersions = { ...rootPackage.dependencies, ...rootPackage.devDependencies };
      for (const name of ["typescript", "@types/node"]) {
        assert.equal(appPackage.devDependencies[name], rootVersions[name], name);
      }
    });

    it("has a lock file that matches package.json, for npm ci", () => {
      assert.deepEqual(appLock.packages[""].devDependencies, appPackage.devDependencies);
      for (const [name, version] of Object.entries(appPackage.devDependencies)) {
        assert.equal(appLock.packages[`node_modules/${name}`]?.version, version, name);
      }
    });
  });

  describe("compiled with its own tsconfig, as the image build does", function () {
    this.timeout(30000);
    let outDir = "";
    let compile: { status: number | null; output: string };

    before(() => {
      outDir = fs.mkdtempSync(path.join(os.tmpdir(), "demo-app-build-"));
      // Emitting only when there are no errors makes this the same check as `tsc -p app --noEmit`.
      const result = spawnSync(
        process.execPath,
        [require.resolve("typescript/bin/tsc"), "-p", appDir, "--outDir", outDir, "--noEmitOnError"],
        { encoding: "utf8" },
      );
      compile = { status: result.status, output: `${result.stdout}${result.stderr}` };
    });

    after(() => fs.rmSync(outDir, { recursive: true, force: true }));

    it("type-checks without errors", () => {
      assert.equal(compile.status, 0, compile.output);
    });

    it("emits main.js at the root of the output directory", () => {
      assert.ok(fs.existsSync(path.join(outDir, "main.js")));
      assert.ok(!fs.readdirSync(outDir).some((file) => file.endsWith(".test.js")));
    });

    it("runs with plain node: serves /healthz and stops cleanly on SIGTERM", async () => {
      const port = new URL(await closedPortUrl()).port;
      const child = spawn(process.execPath, [path.join(outDir, "main.js")], {
        env: { SERVICE_NAME: "service-b", PORT: port, POD_NAME: "b-0" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
      try {
        await waitFor(() => stdout.includes("event=listening"), 5000);
        const res = await request(`http://127.0.0.1:${port}/healthz`);
        assert.equal(res.status, 200);
        assert.equal(res.headers["x-served-by"], "b-0");
        child.kill("SIGTERM");
        assert.equal(await exited, 0);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
      }
    });
  });
});
