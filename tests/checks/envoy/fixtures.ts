import { readFileSync } from "node:fs";
import { join } from "node:path";
import { load } from "js-yaml";

export const FIXTURES = join(__dirname, "fixtures");

/** Absolute path of a fixture, e.g. `fixture("v3/front-proxy.yaml")`. */
export function fixture(name: string): string {
  return join(FIXTURES, name);
}

/** A fresh copy of a fixture's (single) document, safe to mutate. */
export function loadFixture(name: string): any {
  return load(readFileSync(fixture(name), "utf8"));
}

export const GOOD_CONFIGS = [
  "v3/front-proxy.yaml",
  "v3/service-a.yaml",
  "v3/service-b.json",
  "v3/service-c.json",
  "v3/third-party.yaml",
];
export const SEED_V2_CONFIGS = ["v2/front-envoy.yaml", "v2/service-a.yaml", "v2/service-b.yaml", "v2/service-c.yaml"];
