/**
 * `npm run graph [-- --stack NAME] [--out FILE]`: draws the stack's mesh (front proxy, services,
 * versions, every edge with its ports and policy) as an SVG diagram, offline, with Graphviz
 * compiled to WebAssembly. Default: the kind stack, into `out/mesh.svg`.
 */
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { failureExitCode, parseOutStackArgs } from "./args";
import { stackDrawOptions } from "../graph/dot";
import { MESH_SVG_FILE, loadGraphviz, meshSvg } from "../graph/svg";
import { DEFAULT_OUT_DIR } from "../render/renderMesh";
import { parseStackSettings, readStackValues } from "../stack";

const DEFAULT_OUT = join(DEFAULT_OUT_DIR, MESH_SVG_FILE);
const USAGE = `usage: npm run graph -- [--stack NAME] [--out FILE]   (default stack: kind; default file: ${DEFAULT_OUT})`;
const PROJECT_DIR = resolve(__dirname, "..");

/** The output file cannot be written: a user's mistake, exit 1. */
export class GraphOutputError extends Error {}

export function parseGraphArgs(argv: readonly string[]): { out: string; stack: string } | "help" {
  const args = parseOutStackArgs(argv, "kind", [], DEFAULT_OUT);
  return args === "help" ? args : { out: args.out, stack: args.stack };
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Writes `svg` to `out`, creating its folder; refuses a folder, naming the flag. */
function writeSvg(out: string, svg: string): void {
  if (isFolder(out)) throw new GraphOutputError(`--out ${out} is a folder; give a file, e.g. ${join(out, MESH_SVG_FILE)}`);
  try {
    mkdirSync(dirname(resolve(out)), { recursive: true });
    writeFileSync(out, svg);
  } catch (error) {
    throw new GraphOutputError(`--out ${out}: cannot write it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/** `projectDir`: where Pulumi.yaml and the stack files are (tests pass a copy). */
export async function main(argv: readonly string[], projectDir = PROJECT_DIR): Promise<number> {
  try {
    const args = parseGraphArgs(argv);
    if (args === "help") {
      console.log(USAGE);
      return 0;
    }
    const settings = parseStackSettings(readStackValues(projectDir, args.stack), { projectDir });
    const { topology } = settings;
    const svg = meshSvg(await loadGraphviz(), topology, stackDrawOptions(settings));
    writeSvg(args.out, svg);
    const edges = topology.front.routes.length + topology.services.reduce((n, s) => n + s.upstreams.length, 0);
    console.log(`graph: stack ${args.stack}: wrote ${args.out} (${topology.services.length} services, ${edges} edges)`);
    return 0;
  } catch (error) {
    return failureExitCode("graph", USAGE, error, [GraphOutputError]);
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
