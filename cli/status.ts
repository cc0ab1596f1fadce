import * as path from "path";
import { STATUS_USAGE, parseStatusArgs, runCli } from "../ops/cli";
import { realDeps } from "../ops/deps";
import { runStatus } from "../ops/status";

const repoRoot = path.resolve(__dirname, "..");

runCli(
    "npm run status",
    STATUS_USAGE,
    process.argv.slice(2),
    parseStatusArgs,
    (args) => runStatus(realDeps(), { repoRoot, stack: args.stack, nudge: args.nudge, ...(args.waitMs !== undefined ? { waitMs: args.waitMs } : {}) }),
    { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), debug: process.env.DEBUG !== undefined },
).then((code) => {
    process.exitCode = code;
});
