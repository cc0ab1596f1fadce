import * as assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import { recordReads } from "../../../checks/kubernetes/read-recorder";

/*
 * Unknown-field detection rests on one property of the schema package: its validator for a
 * type reads every field that the type declares. This checks that property for every type the
 * package ships against the package's own type declarations, so that an upgrade which breaks
 * it fails here instead of silently accepting unknown fields.
 */

const load = createRequire(__filename);
const root = path.dirname(load.resolve("kubernetes-models/package.json"));

interface ModelClass {
  readonly prototype: { validate?: (this: unknown) => void };
}

function declarationFiles(dir: string, relative: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) {
      if (!entry.startsWith("_") && entry !== "node_modules") {
        files.push(...declarationFiles(full, `${relative}${entry}/`));
      }
    } else if (entry.endsWith(".d.ts") && entry !== "index.d.ts") {
      files.push(`${relative}${entry.slice(0, -".d.ts".length)}`);
    }
  }
  return files;
}

function declaredFields(typeName: string, source: string): Set<string> {
  const body = new RegExp(`export interface I${typeName}(?: extends [^{]+)? \\{([\\s\\S]*?)\\n\\}`).exec(source);
  return new Set(body === null ? [] : [...body[1].matchAll(/^ {4}"([^"]+)"\??:/gm)].map((match) => match[1]));
}

function fieldsReadBy(model: ModelClass): Set<string> {
  const { visits } = recordReads({}, (copy) => {
    try {
      model.prototype.validate?.call(copy);
    } catch {
      // Required fields are missing from the empty object; only the reads matter here.
    }
  });
  return new Set(visits[0].fieldsRead);
}

describe("schema package coverage", () => {
  it("reads every declared field of every type, except annotation-named fields of CRD and PriorityClass types", function () {
    this.timeout(10_000);
    const gaps: string[] = [];
    let checked = 0;
    for (const file of declarationFiles(root, "")) {
      const typeName = path.basename(file);
      const model = (load(`kubernetes-models/${file}`) as Record<string, ModelClass | undefined>)[typeName];
      if (model?.prototype.validate === undefined) {
        continue;
      }
      checked++;
      const declared = declaredFields(typeName, readFileSync(path.join(root, `${file}.d.ts`), "utf8"));
      const read = fieldsReadBy(model);
      const unread = [...declared].filter((field) => !read.has(field));
      const undeclared = [...read].filter((field) => !declared.has(field));
      if (unread.length > 0 || undeclared.length > 0) {
        gaps.push(`${file}: unread ${unread.join(",")}; undeclared ${undeclared.join(",")}`);
      }
    }
    assert.ok(checked > 800, `checked only ${checked} types`);
    const annotationNamed = /^(description|x-kubernetes-[a-z-]+)$/;
    for (const gap of gaps) {
      const [file, detail] = gap.split(": ");
      assert.match(file, /^(apiextensions\.k8s\.io\/v1(beta1)?\/(CustomResourceColumnDefinition|ExternalDocumentation|JSONSchemaProps)|scheduling\.k8s\.io\/v1(beta1)?\/PriorityClass)$/, gap);
      const unread = detail.replace(/^unread /, "").split("; ")[0].split(",");
      assert.ok(unread.every((field) => annotationNamed.test(field)), gap);
      assert.match(detail, /; undeclared $/, gap);
    }
  });
});
