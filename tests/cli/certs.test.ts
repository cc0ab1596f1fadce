import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { X509Certificate, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { load } from "js-yaml";
import { main, parseCertsArgs } from "../../cli/certs";
import { main as render } from "../../cli/render";
import { spiffeId } from "../../envoy/identity";
import { CA_FILES, certificatePlan, issueCertificateFiles } from "../../pki/composeCertificates";
import { PLACEHOLDER_MARK, renderDocker } from "../../render/renderDocker";
import { isKubernetesStack, parseStackSettings, readStackValues } from "../../stack";
import { x509 } from "../../pki/x509";
import { captureConsole, type CommandRun } from "../helpers/console";

const REPO_ROOT = resolve(__dirname, "../..");
const USAGE = "usage: npm run certs -- --out DIR [--stack NAME] [--renew]   (default stack: docker; DIR: where render wrote the docker stack's compose file)";
const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const IDENTITIES = ["front-envoy", "service-a", "service-b", "service-c"];

/**
 * A project folder with the repository's files (linked, the app copied), plus stack files of
 * our own: `docker` as in the repository, and others that change it.
 */
function project(dir: string, stacks: Record<string, Record<string, string>>): string {
  const copy = join(dir, "project");
  mkdirSync(copy);
  for (const entry of readdirSync(REPO_ROOT)) {
    if (/^Pulumi\..+\.yaml$/.test(entry) || entry === ".git") continue;
    // The app is a build context, which must be a folder inside the project: a copy, not a link.
    if (entry === "app") cpSync(join(REPO_ROOT, entry), join(copy, entry), { recursive: true });
    else symlinkSync(join(REPO_ROOT, entry), join(copy, entry));
  }
  writeFileSync(join(copy, "Pulumi.docker.yaml"), readFileSync(join(REPO_ROOT, "Pulumi.docker.yaml")));
  writeFileSync(join(copy, "Pulumi.kind.yaml"), readFileSync(join(REPO_ROOT, "Pulumi.kind.yaml")));
  for (const [name, config] of Object.entries(stacks)) {
    const values = Object.entries({ "envoy-mesh:target": "docker", ...config }).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`);
    writeFileSync(join(copy, `Pulumi.${name}.yaml`), `config:\n${values.join("\n")}\n`);
  }
  return copy;
}

/** Every file under `root`, relative, sorted. */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

/** The `file:` of every secret of the compose file in `out`, relative to it. */
function composeFiles(out: string, kind: "secrets"): string[] {
  const compose = load(readFileSync(join(out, "docker-compose.yaml"), "utf8")) as Record<string, Record<string, { file: string }> | undefined>;
  return Object.values(compose[kind] ?? {}).map((e) => e.file.replace(/^\.\//, "")).sort();
}

/** The folders the compose file in `out` bind-mounts (each proxy's xDS folder), relative to it. */
function composeBindFolders(out: string): string[] {
  const compose = load(readFileSync(join(out, "docker-compose.yaml"), "utf8")) as { services: Record<string, { volumes?: { source: string }[] }> };
  return [...new Set(Object.values(compose.services).flatMap((s) => (s.volumes ?? []).map((v) => v.source.replace(/^\.\//, ""))))].sort();
}

const pem = (out: string, path: string) => readFileSync(join(out, path), "utf8");
const cert = (out: string, path: string) => new X509Certificate(pem(out, path));
const mode = (path: string) => statSync(path).mode & 0o777;

/** A self-signed RSA CA certificate for `keyPem`, made with @peculiar/x509. */
async function rsaCa(keyPem: string): Promise<{ certificate: string; keyPem: string }> {
  const { webcrypto } = await import("node:crypto");
  const algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const der = createPrivateKey(keyPem).export({ type: "pkcs8", format: "der" });
  const privateKey = await webcrypto.subtle.importKey("pkcs8", der, algorithm, true, ["sign"]);
  const spki = createPublicKey(keyPem).export({ type: "spki", format: "der" });
  const publicKey = await webcrypto.subtle.importKey("spki", spki, algorithm, true, ["verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=rsa CA",
    keys: { privateKey, publicKey },
    signingAlgorithm: algorithm,
    notBefore: new Date(),
    notAfter: new Date(Date.now() + 3_600_000),
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  return { certificate: ca.toString("pem"), keyPem };
}

function keyUsage(certificate: X509Certificate): number | undefined {
  return new x509.X509Certificate(certificate.raw).getExtension(x509.KeyUsagesExtension)?.usages;
}

describe("cli/certs", function () {
  // Issuing is fast (P-256); rendering the stack twice per test is what takes the time.
  this.timeout(20_000);
  let dir: string;
  let out: string;
  let projectDir: string;
  const NAMESPACE = "envoy-mesh";

  const certs = (...argv: string[]) => captureConsole(() => main(argv, projectDir));
  const renderInto = async (target: string, stack = "docker") => {
    const r = await captureConsole(() => render(["--stack", stack, "--out", target], projectDir));
    assert.equal(r.code, 0, r.stderr);
    return r;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), "envoy-mesh-certs-"));
    projectDir = project(dir, {
      "mtls-off": { "envoy-mesh:topology": JSON.stringify({ extends: "seed", security: { mtls: "off" } }) },
      "with-d": { "envoy-mesh:topology": JSON.stringify({ extends: "seed", services: [{ name: "service-d", appPort: 8084 }] }) },
      "other-ns": { "envoy-mesh:namespace": "shop" },
      short: { "envoy-mesh:topology": JSON.stringify({ extends: "seed", security: { certificates: { validityHours: 2, renewBeforeHours: 1 } } }) },
    });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  beforeEach(() => {
    out = join(dir, `out-${++n}`);
  });

  describe("usage errors (exit 2, with the usage line)", () => {
    it("requires --out", async () => {
      const r = await certs();
      assert.equal(r.code, 2);
      assert.equal(r.stderr, `certs: --out is required\n${USAGE}`);
    });

    it("names an unknown flag or a flag without a value", async () => {
      assert.equal((await certs("--out", out, "--force")).stderr, `certs: unknown argument "--force"\n${USAGE}`);
      assert.match((await certs("--out", out, "--stack")).stderr, /^certs: --stack needs a value\n/);
      assert.equal((await certs("--out=")).code, 2);
    });

    it("prints the usage for --help and exits 0", async () => {
      assert.deepEqual(await certs("--help"), { code: 0, stdout: USAGE, stderr: "" });
    });

    it("defaults the stack to docker, and reads --renew", () => {
      assert.deepEqual(parseCertsArgs(["--out", "x"]), { out: "x", stack: "docker", renew: false });
      assert.deepEqual(parseCertsArgs(["--out=x", "--stack=other", "--renew"]), { out: "x", stack: "other", renew: true });
    });
  });

  describe("mistakes about the stack or the folder (exit 1, one clear line, nothing written)", () => {
    it("refuses an unknown stack, listing the stacks", async () => {
      const r = await certs("--stack", "nope", "--out", out);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^certs: unknown stack \(1 problem\):\n {2}- --stack: no stack file for "nope" \(stacks: .*docker.*\)$/);
      assert.equal(existsSync(out), false);
    });

    it("refuses a Kubernetes stack: Pulumi issues its certificates", async () => {
      await renderInto(out, "docker");
      const r = await certs("--stack", "kind", "--out", out);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, "certs: stack kind deploys to Kubernetes (target kind): there pulumi up issues the certificates into Secrets (npm run up -- --stack kind); npm run certs is for a docker stack's compose file");
      assert.ok(pem(out, "tls/service-a/tls.key").startsWith(PLACEHOLDER_MARK));
    });

    it("refuses a folder render did not write, saying to render first", async () => {
      mkdirSync(out);
      const r = await certs("--out", out);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `certs: ${out} holds no compose file that render wrote: run npm run render -- --stack docker --out ${out} first`);
      assert.deepEqual(filesUnder(out), []);
    });

    it("refuses a compose file of another topology, naming the difference", async () => {
      await renderInto(out, "with-d");
      const r = await certs("--out", out);
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^certs: ${out}/docker-compose.yaml is not the compose file of stack docker as it is now \\(it mounts tls/service-d/ca.crt, tls/service-d/tls.crt, tls/service-d/tls.key, which stack docker does not\\): run npm run render -- --stack docker --out ${out} first$`));
      assert.ok(pem(out, "tls/service-a/tls.key").startsWith(PLACEHOLDER_MARK), "nothing was issued");
    });

    it("refuses an unusable CA instead of replacing it, saying how to start over", async () => {
      await renderInto(out);
      assert.equal((await certs("--out", out)).code, 0);
      writeFileSync(join(out, CA_FILES.meshKey), pem(out, CA_FILES.edgeKey));
      const before = pem(out, "tls/service-a/tls.crt");
      const r = await certs("--out", out);
      assert.equal(r.code, 1);
      assert.equal(r.stderr, "certs: tls/mesh-ca.crt does not match the private key in tls/mesh-ca.key; remove tls/mesh-ca.crt and tls/mesh-ca.key to issue a new mesh CA (every certificate it signed is then reissued)");
      assert.equal(pem(out, "tls/service-a/tls.crt"), before);
    });

    it("refuses a CA whose key it cannot sign with (RSA), naming the file", async () => {
      await renderInto(out);
      const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
      const key = await rsaCa(privateKey.export({ type: "pkcs8", format: "pem" }) as string);
      writeFileSync(join(out, CA_FILES.meshCertificate), key.certificate);
      writeFileSync(join(out, CA_FILES.meshKey), key.keyPem);
      const r = await certs("--out", out);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^certs: tls\/mesh-ca\.key: only ECDSA P-256\/P-384\/P-521 keys are supported, got rsa; remove tls\/mesh-ca\.crt and tls\/mesh-ca\.key/);
    });

    it("as a real process: exits 1 on a Kubernetes stack with the message and no stack trace", function () {
      const child = spawnSync(process.execPath, ["-r", "ts-node/register", "cli/certs.ts", "--stack", "kind", "--out", out], { cwd: REPO_ROOT, encoding: "utf8", timeout: 19_000 });
      assert.equal(child.status, 1, child.stderr);
      assert.match(child.stderr, /^certs: stack kind deploys to Kubernetes/);
      assert.doesNotMatch(child.stderr, /\n\s+at /);
    });
  });

  describe("on the docker stack's rendered compose file", () => {
    let result: CommandRun;
    // One render and one run for the checks below (the outer beforeEach picks a fresh folder per test).
    let out = "";
    before(async () => {
      out = join(dir, "seed");
      await renderInto(out);
      result = await certs("--out", out);
    });

    it("exits 0 and replaces every certificate file the compose file mounts: none is a placeholder, each mounted file and folder exists", () => {
      assert.equal(result.code, 0, result.stderr);
      const secrets = composeFiles(out, "secrets");
      assert.equal(secrets.length, IDENTITIES.length * 3 + 2);
      const folders = composeBindFolders(out);
      assert.equal(folders.length, IDENTITIES.length);
      for (const file of [...folders, ...secrets]) assert.ok(existsSync(join(out, file)), file);
      for (const file of filesUnder(out)) assert.ok(!readFileSync(join(out, file), "utf8").startsWith(PLACEHOLDER_MARK), `${file} is still a placeholder`);
    });

    it("writes into tls/ exactly the mounted files, the two CAs and their keys, and nothing elsewhere", () => {
      const caFiles = Object.values(CA_FILES);
      assert.deepEqual(filesUnder(join(out, "tls")).map((f) => `tls/${f}`), [...composeFiles(out, "secrets"), ...caFiles].sort());
      const keys = filesUnder(out).filter((f) => pem(out, f).includes("PRIVATE KEY-----"));
      assert.ok(keys.every((f) => f.startsWith("tls/")), keys.join(", "));
    });

    it("tls/ and its folders are 0700, the mounted files and edge-ca.crt 0644, the CA keys 0600; it says so in one line", () => {
      for (const folder of ["tls", ...IDENTITIES.map((p) => `tls/${p}`), "tls/front-envoy-edge"]) assert.equal(mode(join(out, folder)), 0o700, folder);
      for (const file of composeFiles(out, "secrets")) assert.equal(mode(join(out, file)), 0o644, file);
      assert.equal(mode(join(out, CA_FILES.edgeCertificate)), 0o644);
      assert.equal(mode(join(out, CA_FILES.meshKey)), 0o600);
      assert.equal(mode(join(out, CA_FILES.edgeKey)), 0o600);
      assert.equal(result.stdout.split("\n").filter((l) => /is 0700 .* 0644: .*uid 101/.test(l)).length, 1);
    });

    it("prints each file it wrote, and how curl trusts the edge", () => {
      for (const file of composeFiles(out, "secrets")) assert.ok(result.stdout.includes(`certs: wrote ${out}/${file} (0644)`), file);
      assert.ok(result.stdout.includes(`certs: trust the front's HTTPS with: curl --cacert ${out}/tls/edge-ca.crt https://localhost:8443/`));
    });

    it("the mesh CA is an ECDSA P-256 CA; every identity verifies against it, carries exactly its SPIFFE ID, the identity uses and validityHours, and matches its key", () => {
      const ca = cert(out, CA_FILES.meshCertificate);
      assert.equal(ca.ca, true);
      assert.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
      assert.equal(keyUsage(ca), x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature);
      for (const proxy of IDENTITIES) {
        const leaf = cert(out, `tls/${proxy}/tls.crt`);
        assert.ok(leaf.checkIssued(ca) && leaf.verify(ca.publicKey), proxy);
        assert.equal(leaf.subjectAltName, `URI:${spiffeId("cluster.local", NAMESPACE, proxy)}`);
        assert.equal(leaf.subject, undefined, "no subject: the SPIFFE ID is the name");
        assert.equal(leaf.ca, false);
        assert.deepEqual(leaf.keyUsage, [SERVER_AUTH, CLIENT_AUTH]);
        assert.equal(keyUsage(leaf), x509.KeyUsageFlags.digitalSignature);
        assert.equal(Date.parse(leaf.validTo) - Date.parse(leaf.validFrom), 2160 * 3_600_000);
        assert.ok(leaf.checkPrivateKey(createPrivateKey(pem(out, `tls/${proxy}/tls.key`))), `${proxy}'s key`);
        assert.equal(pem(out, `tls/${proxy}/ca.crt`), pem(out, CA_FILES.meshCertificate));
      }
    });

    it("the edge certificate is for localhost, 127.0.0.1 and ::1, server auth only, from the local edge CA, which the mesh CA is not", () => {
      const edgeCa = cert(out, CA_FILES.edgeCertificate);
      const leaf = cert(out, "tls/front-envoy-edge/tls.crt");
      assert.ok(edgeCa.ca && leaf.checkIssued(edgeCa) && leaf.verify(edgeCa.publicKey));
      assert.equal(leaf.checkHost("localhost"), "localhost");
      assert.equal(leaf.checkIP("127.0.0.1"), "127.0.0.1");
      assert.equal(leaf.checkIP("::1"), "::1");
      assert.equal(leaf.checkHost("example.com"), undefined);
      assert.deepEqual(leaf.keyUsage, [SERVER_AUTH]);
      assert.ok(leaf.checkPrivateKey(createPrivateKey(pem(out, "tls/front-envoy-edge/tls.key"))));
      const meshCa = cert(out, CA_FILES.meshCertificate);
      assert.equal(leaf.verify(meshCa.publicKey), false);
      assert.equal(cert(out, "tls/service-a/tls.crt").verify(edgeCa.publicKey), false);
    });

    it("run again, keeps every file as it is; --renew reissues every leaf and key but keeps both CAs", async () => {
      const snapshot = () => new Map(filesUnder(join(out, "tls")).map((f) => [f, pem(join(out, "tls"), f)]));
      const first = snapshot();
      const again = await certs("--out", out);
      assert.equal(again.code, 0);
      assert.deepEqual(snapshot(), first);
      assert.match(again.stdout, /: 0 files written, 18 kept/);

      assert.equal((await certs("--out", out, "--renew")).code, 0);
      const renewed = snapshot();
      for (const f of ["mesh-ca.crt", "mesh-ca.key", "edge-ca.crt", "edge-ca.key", ...IDENTITIES.map((p) => `${p}/ca.crt`)]) assert.equal(renewed.get(f), first.get(f), f);
      for (const f of [...IDENTITIES.flatMap((p) => [`${p}/tls.crt`, `${p}/tls.key`]), "front-envoy-edge/tls.crt", "front-envoy-edge/tls.key"]) assert.notEqual(renewed.get(f), first.get(f), f);
      const ca = cert(out, CA_FILES.meshCertificate);
      for (const proxy of IDENTITIES) assert.ok(cert(out, `tls/${proxy}/tls.crt`).verify(ca.publicKey), proxy);
    });
  });

  it("a re-render keeps what certs issued (and the folder's modes); after a topology change, certs adds the new identity, signed by the same CA", async () => {
    await renderInto(out);
    assert.equal((await certs("--out", out)).code, 0);
    const ca = pem(out, CA_FILES.meshCertificate);
    const a = pem(out, "tls/service-a/tls.crt");
    const rendered = await renderInto(out, "with-d");
    assert.match(rendered.stdout, /render: kept 18 certificate and key files that npm run certs issued/);
    assert.equal(pem(out, CA_FILES.meshCertificate), ca);
    assert.equal(pem(out, "tls/service-a/tls.crt"), a);
    assert.equal(mode(join(out, "tls")), 0o700);
    assert.equal(mode(join(out, CA_FILES.meshKey)), 0o600);
    assert.ok(pem(out, "tls/service-d/tls.key").startsWith(PLACEHOLDER_MARK));

    const r = await certs("--stack", "with-d", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.includes(`certs: wrote ${out}/tls/service-d/tls.crt (0644): service-d`));
    assert.ok(r.stdout.includes(`certs: kept  ${out}/tls/service-a/tls.crt (0644)`));
    assert.equal(pem(out, "tls/service-a/tls.crt"), a);
    const d = cert(out, "tls/service-d/tls.crt");
    assert.ok(d.verify(new X509Certificate(ca).publicKey));
    assert.equal(d.subjectAltName, `URI:${spiffeId("cluster.local", NAMESPACE, "service-d")}`);
  });

  it("another namespace: the leaves are reissued for the new SPIFFE IDs, by the same CA", async () => {
    await renderInto(out);
    assert.equal((await certs("--out", out)).code, 0);
    const ca = pem(out, CA_FILES.meshCertificate);
    await renderInto(out, "other-ns");
    const r = await certs("--stack", "other-ns", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /wrote .*tls\/service-a\/tls\.crt .*its names differ from the stack's/);
    assert.equal(pem(out, CA_FILES.meshCertificate), ca);
    assert.equal(cert(out, "tls/service-a/tls.crt").subjectAltName, `URI:${spiffeId("cluster.local", "shop", "service-a")}`);
  });

  it("inside the renewal window (renewBeforeHours), a plain run reissues the leaves, with the same CA", async () => {
    await renderInto(out, "short");
    assert.equal((await certs("--stack", "short", "--out", out)).code, 0);
    const first = cert(out, "tls/service-b/tls.crt");
    assert.equal(Date.parse(first.validTo) - Date.parse(first.validFrom), 2 * 3_600_000);
    const settings = parseStackSettings(readStackValues(projectDir, "short"), { projectDir });
    assert.ok(!isKubernetesStack(settings));
    const plan = certificatePlan(settings, renderDocker(projectDir, settings, out, "short").mesh);
    const ca = pem(out, CA_FILES.meshCertificate);
    // Half an hour on: not yet in the last hour. An hour and a half on: inside it.
    const at = (hours: number) => issueCertificateFiles(out, plan, { renew: false, now: new Date(Date.parse(first.validFrom) + hours * 3_600_000) });
    assert.ok((await at(0.5)).every((o) => o.action === "kept"));
    assert.equal(pem(out, "tls/service-b/tls.crt"), first.toString());
    const renewed = await at(1.5);
    assert.match(renewed.find((o) => o.path === "tls/service-b/tls.crt")?.why ?? "", /\(renewal window \(expires /);
    assert.notEqual(pem(out, "tls/service-b/tls.crt"), first.toString());
    assert.equal(pem(out, CA_FILES.meshCertificate), ca);
  });

  it("with mtls off, issues only the edge certificate and its CA, with a warning", async () => {
    await renderInto(out, "mtls-off");
    const r = await certs("--stack", "mtls-off", "--out", out);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(composeFiles(out, "secrets"), ["tls/front-envoy-edge/tls.crt", "tls/front-envoy-edge/tls.key"]);
    assert.deepEqual(filesUnder(join(out, "tls")), ["edge-ca.crt", "edge-ca.key", "front-envoy-edge/tls.crt", "front-envoy-edge/tls.key"]);
    assert.match(r.stdout, /certs: warning: topology.security.mtls is off/);
  });

  it("a tls that is not a folder fails with exit 1 naming it, before anything is written", async () => {
    await renderInto(out);
    rmSync(join(out, "tls"), { recursive: true });
    writeFileSync(join(out, "tls"), "");
    const r = await certs("--out", out);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, "certs: tls is not a folder");
    assert.equal(readFileSync(join(out, "tls"), "utf8"), "");
  });
});
