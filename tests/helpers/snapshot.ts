import { strict as assert } from "node:assert";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Compares `actual` with a committed file byte for byte. `UPDATE_SNAPSHOTS=1 npm test` rewrites
 * the file after an intended change; review its diff like code.
 */
export function matchSnapshot(actual: string, file: string): void {
  if (process.env.UPDATE_SNAPSHOTS === "1" || !existsSync(file)) {
    if (process.env.CI === "true" && !existsSync(file)) assert.fail(`snapshot ${file} is missing; run UPDATE_SNAPSHOTS=1 npm test and commit it`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.equal(actual, readFileSync(file, "utf8"), `output differs from ${file} (UPDATE_SNAPSHOTS=1 rewrites it)`);
}
