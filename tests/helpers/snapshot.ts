import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/** Set to `1` to write snapshots: every one compared is rewritten with the actual output. */
export const UPDATE_SNAPSHOTS_ENV = "UPDATE_SNAPSHOTS";

/**
 * Compares `actual` with a committed file byte for byte. A missing file fails like a differing
 * one: a snapshot written silently would pass whatever the output. `UPDATE_SNAPSHOTS=1 npm test`
 * writes them after an intended change; review the diff like code.
 */
export function matchSnapshot(actual: string, file: string): void {
  if (process.env[UPDATE_SNAPSHOTS_ENV] === "1") {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) assert.fail(`snapshot ${file} is missing; run ${UPDATE_SNAPSHOTS_ENV}=1 npm test to write it, then review and commit it`);
  assert.equal(actual, readFileSync(file, "utf8"), `output differs from ${file} (${UPDATE_SNAPSHOTS_ENV}=1 rewrites it)`);
}
