/**
 * `npm run render -- --out DIR [--stack NAME]`: writes every Envoy config and Kubernetes object
 * a stack would deploy (for a docker stack: the Envoy configs and a `docker-compose.yaml`), and
 * the topology's diagram (`mesh.svg`), with no cluster, Docker or Pulumi CLI.
 */
import { resolve } from "node:path";
import { failureExitCode, parseOutStackArgs } from "./args";
import { COMPOSE_FILE } from "../render/composeFile";
import { renderMesh } from "../render/renderMesh";
import { OutputDirError, writeTree } from "../render/writeTree";
import { issuedFilesToKeep } from "../pki/composeCertificates";
import { stackDrawOptions } from "../graph/dot";
import { MESH_SVG_FILE, loadGraphviz, meshSvg } from "../graph/svg";

const USAGE = "usage: npm run render -- --out DIR [--stack NAME]   (default stack: kind)";
const PROJECT_DIR = resolve(__dirname, "..");

export function parseRenderArgs(argv: readonly string[]): { out: string; stack: string } | "help" {
  const args = parseOutStackArgs(argv, "kind");
  return args === "help" ? args : { out: args.out, stack: args.stack };
}

/**
 * The largest mesh render draws `mesh.svg` for: Graphviz's layout of the picture took about 1 s at
 * 50 services and over 30 s at 100 on a 2-core machine (`npm run bench:render -- --svg-max 100`).
 */
export const RENDER_SVG_MAX_SERVICES = 60;

/** `projectDir`: where Pulumi.yaml and the stack files are (tests pass a copy). */
export async function main(argv: readonly string[], projectDir = PROJECT_DIR): Promise<number> {
  try {
    const args = parseRenderArgs(argv);
    if (args === "help") {
      console.log(USAGE);
      return 0;
    }
    const { out, stack } = args;
    const rendered = renderMesh(projectDir, stack, { outDir: resolve(out) });
    // The picture of the topology, as `npm run graph` draws it; a large mesh is left to `npm run graph`.
    const services = rendered.settings.topology.services.length;
    const drawn = services <= RENDER_SVG_MAX_SERVICES;
    const files = drawn ? new Map([...rendered.files, [MESH_SVG_FILE, meshSvg(await loadGraphviz(), rendered.settings.topology, stackDrawOptions(rendered.settings))]]) : rendered.files;
    // Certificates `npm run certs` issued into the folder stay, so the mesh keeps its CA; render itself writes only placeholders.
    const kept = issuedFilesToKeep(resolve(out), files);
    const live = await writeTree(out, files, kept);
    const rest =
      rendered.composeServiceCount === undefined
        ? `${rendered.manifestCount} Kubernetes objects to ${out}/k8s`
        : `${out}/${COMPOSE_FILE} (${rendered.composeServiceCount} compose services; run: docker compose -f ${out}/${COMPOSE_FILE} up -d --wait)`;
    console.log(`render: stack ${stack} (target ${rendered.settings.target}): wrote ${rendered.envoyConfigCount} Envoy configs to ${out}/envoy and ${rest}`);
    for (const note of rendered.notes) console.log(`render: note: ${note}`);
    if (!drawn) {
      console.log(`render: note: ${MESH_SVG_FILE} not drawn: ${services} services is more than ${RENDER_SVG_MAX_SERVICES}, and Graphviz's layout grows fast with the mesh; npm run graph -- --stack ${stack} draws it anyway`);
    }
    // A compose mesh running from this folder reloads these at once (render/writeTree.ts).
    const updated = live.filter((l) => l.outcome === "updated").map((l) => l.folder);
    if (updated.length > 0) console.log(`render: published new xDS files in ${updated.map((f) => `${out}/${f}`).join(", ")}: Envoys running from them reload them now`);
    if (kept.length > 0) console.log(`render: kept ${kept.length} certificate and key files that npm run certs issued in ${out}/tls (not rendered); run npm run certs again to issue what is new`);
    return 0;
  } catch (error) {
    return failureExitCode("render", USAGE, error, [OutputDirError]);
  }
}

if (require.main === module) void main(process.argv.slice(2)).then((code) => (process.exitCode = code));
