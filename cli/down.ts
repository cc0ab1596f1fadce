import * as path from "path";
import { DOWN_USAGE, parseDownArgs, runCli } from "../ops/cli";
import { realDeps } from "../ops/deps";
import { runDown } from "../ops/down";

const repoRoot = path.resolve(__dirname, "..");

runCli(
    "npm run down",
    DOWN_USAGE,
    process.argv.slice(2),
    parseDownArgs,
    (args) => runDown(realDeps(), { repoRoot, stack: args.stack, deleteCluster: args.cluster }),
    { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), debug: process.env.DEBUG !== undefined },
).then((code) => {
    process.exitCode = code;
});
