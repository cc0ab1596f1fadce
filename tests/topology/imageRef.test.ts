import { strict as assert } from "node:assert";
import { isPinnedImageRef } from "../../topology";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

describe("topology/imageRef: isPinnedImageRef", () => {
  const pinned = [
    "nginx:1.27",
    "envoyproxy/envoy:v1.39.5",
    "localhost:5001/envoy-mesh-app:kind",
    "ghcr.io/acme/app:2024.05.01-rc_1",
    `nginx@${DIGEST}`,
    `localhost:5001/app@${DIGEST}`,
    `nginx:latest@${DIGEST}`,
  ];
  for (const ref of pinned) {
    it(`accepts ${ref}`, () => assert.equal(isPinnedImageRef(ref), true));
  }

  const loose: [string, string][] = [
    ["no tag", "nginx"],
    ["latest", "nginx:latest"],
    ["a registry port but no tag", "localhost:5000/app"],
    ["an empty tag", "nginx:"],
    ["a tag starting with '.'", "nginx:.1"],
    ["a tag over 128 characters", `nginx:${"v".repeat(129)}`],
    ["a short digest", "nginx@sha256:abc"],
    ["an uppercase digest", `nginx@${DIGEST.toUpperCase()}`],
    ["an empty name", ":1.0"],
    ["a path ending in '/'", "ghcr.io/acme/:1.0"],
    ["two digests", `nginx@${DIGEST}@${DIGEST}`],
    ["whitespace", "nginx: 1.27"],
  ];
  for (const [why, ref] of loose) {
    it(`refuses ${why}`, () => assert.equal(isPinnedImageRef(ref), false));
  }
});
