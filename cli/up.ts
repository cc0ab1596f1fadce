import * as path from "path";
import { UP_USAGE, parseUpArgs, runCli } from "../ops/cli";
import { realDeps } from "../ops/deps";
import { DOCKER_STACK } from "../ops/stackSettings";
import { runDockerUp, runUp } from "../ops/up";

const repoRoot = path.resolve(__dirname, "..");

runCli(
    "npm run up",
    UP_USAGE,
    process.argv.slice(2),
    parseUpArgs,
    (args) => {
        const options = { repoRoot, ...(args.waitTimeoutMs !== undefined ? { waitTimeoutMs: args.waitTimeoutMs } : {}) };
        return args.stack === DOCKER_STACK ? runDockerUp(realDeps(), options) : runUp(realDeps(), options);
    },
    { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), debug: process.env.DEBUG !== undefined },
).then((code) => {
    process.exitCode = code;
});
