/**
 * The render command on another project folder, for `npm run bench:render`'s whole-command
 * figure: `<how npm run render starts cli/render.ts> scripts/bench-render-command.ts PROJECT_DIR
 * [render arguments]`. It runs cli/render.ts's main as `npm run render` does, then prints the
 * process's peak RSS on a line of its own.
 */
import { main } from "../cli/render";

export const COMMAND_RESULT_PREFIX = "BENCH-COMMAND ";

if (require.main === module) {
  const [projectDir, ...argv] = process.argv.slice(2);
  void main(argv, projectDir).then((code) => {
    console.log(`${COMMAND_RESULT_PREFIX}${JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024 })}`);
    process.exitCode = code;
  });
}
