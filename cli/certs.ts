/**
 * `npm run certs -- --out DIR [--stack NAME] [--renew]`: issues, into DIR/tls/, the certificates
 * and keys the compose file that `npm run render -- --stack NAME --out DIR` wrote mounts, in place
 * of its placeholders: what `pulumi up` issues on the docker stack, for the compose workflow,
 * which has no Pulumi. Kubernetes stacks get theirs from `pulumi up` only.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isPlainObject } from "../topology/reader";
import { failureExitCode, parseOutStackArgs } from "./args";
import { COMPOSE_FILE } from "../render/composeFile";
import { renderDocker } from "../render/renderDocker";
import { RENDER_MARKER } from "../render/writeTree";
import { load } from "js-yaml";
import { isKubernetesStack, parseStackSettings, readStackValues } from "../stack";
import { CA_FILES, CertificateFilesError, MODES, TLS_FOLDER, certificatePlan, issueCertificateFiles } from "../pki/composeCertificates";

const USAGE = "usage: npm run certs -- --out DIR [--stack NAME] [--renew]   (default stack: docker; DIR: where render wrote the docker stack's compose file)";
const PROJECT_DIR = resolve(__dirname, "..");

export interface CertsArgs {
  readonly out: string;
  readonly stack: string;
  /** Reissue every leaf certificate (new keys), keeping the CAs. */
  readonly renew: boolean;
}

export function parseCertsArgs(argv: readonly string[]): CertsArgs | "help" {
  const args = parseOutStackArgs(argv, "docker", ["--renew"]);
  return args === "help" ? args : { out: args.out, stack: args.stack, renew: args.switches.has("--renew") };
}

/** The `file:` of every top-level secret of a compose document: the certificate files it mounts. */
export function composeSecretFiles(compose: unknown): string[] {
  const secrets = isPlainObject(compose) && isPlainObject(compose.secrets) ? compose.secrets : {};
  return Object.values(secrets)
    .map((s) => (isPlainObject(s) && typeof s.file === "string" ? s.file.replace(/^\.\//, "") : undefined))
    .filter((f): f is string => f !== undefined)
    .sort();
}

/**
 * The certificate files the stack's compose file mounts, checked against the compose file in
 * `out`: certificates for another stack or an older topology would not start the mesh.
 */
function mountedFiles(out: string, stack: string, composeText: string, rendered: readonly string[]): void {
  const expected = [...rendered].sort();
  let compose: unknown;
  try {
    compose = load(composeText);
  } catch (error) {
    throw new CertificateFilesError(`${out}/${COMPOSE_FILE}: not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  const found = composeSecretFiles(compose);
  const missing = expected.filter((f) => !found.includes(f));
  const extra = found.filter((f) => !expected.includes(f));
  if (missing.length > 0 || extra.length > 0) {
    const differences = [...(missing.length > 0 ? [`stack ${stack} mounts ${missing.join(", ")}, which it does not`] : []), ...(extra.length > 0 ? [`it mounts ${extra.join(", ")}, which stack ${stack} does not`] : [])];
    throw new CertificateFilesError(
      `${out}/${COMPOSE_FILE} is not the compose file of stack ${stack} as it is now (${differences.join("; ")}): run npm run render -- --stack ${stack} --out ${out} first`,
    );
  }
}

/** `projectDir`: where Pulumi.yaml and the stack files are (tests pass a copy). */
export async function main(argv: readonly string[], projectDir = PROJECT_DIR): Promise<number> {
  let folder = "";
  try {
    const args = parseCertsArgs(argv);
    if (args === "help") {
      console.log(USAGE);
      return 0;
    }
    const { out, stack, renew } = args;
    folder = out;
    const settings = parseStackSettings(readStackValues(projectDir, stack), { projectDir });
    if (isKubernetesStack(settings)) {
      throw new CertificateFilesError(
        `stack ${stack} deploys to Kubernetes (target ${settings.target}): there pulumi up issues the certificates into Secrets (npm run up -- --stack ${stack}); npm run certs is for a docker stack's compose file`,
      );
    }
    const outDir = resolve(out);
    const composePath = join(outDir, COMPOSE_FILE);
    if (!existsSync(join(outDir, RENDER_MARKER)) || !existsSync(composePath)) {
      throw new CertificateFilesError(`${out} holds no compose file that render wrote: run npm run render -- --stack ${stack} --out ${out} first`);
    }
    const rendered = renderDocker(projectDir, settings, outDir, stack);
    mountedFiles(out, stack, readFileSync(composePath, "utf8"), [...rendered.files.keys()].filter((p) => p.startsWith(`${TLS_FOLDER}/`)));
    const plan = certificatePlan(settings, rendered.mesh);
    const outcomes = await issueCertificateFiles(outDir, plan, { renew });
    for (const o of outcomes) console.log(`certs: ${o.action === "issued" ? "wrote" : "kept "} ${out}/${o.path} (${o.mode.toString(8).padStart(4, "0")}): ${o.why}`);
    const issued = outcomes.filter((o) => o.action === "issued").length;
    console.log(`certs: stack ${stack}: ${issued} files written, ${outcomes.length - issued} kept, in ${out}/${TLS_FOLDER}`);
    if (settings.topology.security.mtls === "off") console.log("certs: warning: topology.security.mtls is off: only the front's HTTPS certificate is issued, and the proxies talk plain HTTP");
    console.log(
      `certs: ${out}/${TLS_FOLDER} is ${MODES.folder.toString(8).padStart(4, "0")} (only you can reach it), its mounted files ${MODES.mounted.toString(8).padStart(4, "0")}: ` +
        "compose bind-mounts them with the host file's mode and Envoy reads them as uid 101, so anyone who can run containers or act as root here can read the keys",
    );
    if (plan.edgeCa !== undefined) {
      console.log(`certs: trust the front's HTTPS with: curl --cacert ${out}/${CA_FILES.edgeCertificate} https://localhost:${settings.docker.front.tlsHostPort}/`);
    }
    // A bind-mounted file keeps its inode: a running container sees a replaced file only once recreated.
    if (issued > 0) console.log(`certs: a mesh already running keeps the old files until recreated: docker compose -f ${out}/${COMPOSE_FILE} up -d --force-recreate`);
    return 0;
  } catch (error) {
    // A filesystem refusal (no permission, not a folder) is about the chosen folder.
    if (typeof (error as NodeJS.ErrnoException).code === "string" && (error as NodeJS.ErrnoException).syscall !== undefined) {
      console.error(`certs: cannot write ${folder}/${TLS_FOLDER}: ${(error as Error).message}`);
      return 1;
    }
    return failureExitCode("certs", USAGE, error, [CertificateFilesError]);
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
