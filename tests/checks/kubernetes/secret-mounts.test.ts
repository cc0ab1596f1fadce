import * as assert from "node:assert/strict";
import { checkSecretMounts, keyMaterialFindings, secretMountRules } from "../../../checks/kubernetes/secret-mounts";
import { checkPodPolicy } from "../../../checks/kubernetes/policy";
import { hardenedDeployment, type Mutation, mutated } from "./fixtures";

/*
 * Hand-written objects as a cluster would hold them: service-a's identity Secret, and its
 * Deployment (app + Envoy sidecar) mounting it in Envoy, read-only.
 */
const POD = "spec.template.spec";
const APP = `${POD}.containers.0`;
const ENVOY = `${POD}.initContainers.0`;
const ENVOY_MOUNTS = [
  { name: "envoy-config", mountPath: "/etc/envoy", readOnly: true },
  { name: "identity", mountPath: "/etc/mesh/identity", readOnly: true },
];

function identitySecret(name = "service-a-identity") {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name, namespace: "envoy-mesh" },
    type: "kubernetes.io/tls",
    data: { "tls.crt": "Y2VydA==", "tls.key": "a2V5", "ca.crt": "Y2E=" },
  };
}

/** service-a's Deployment with its identity mounted as the mesh mounts it, then `mutations`. */
function deployment(...mutations: Mutation[]) {
  const base: Mutation[] = [
    { set: `${POD}.volumes`, value: [{ name: "envoy-config", configMap: { name: "service-a-envoy-3f2a9c" } }, { name: "identity", secret: { secretName: "service-a-identity", defaultMode: 0o440 } }, { name: "tmp", emptyDir: {} }] },
    { set: `${ENVOY}.volumeMounts`, value: ENVOY_MOUNTS },
    { set: `${POD}.securityContext.fsGroup`, value: 101 },
  ];
  return [...base, ...mutations].reduce(mutated, hardenedDeployment());
}

const rules = (objects: unknown[]) => checkSecretMounts(objects).map((f) => f.rule);

describe("checkSecretMounts", () => {
  it("finds nothing when an identity Secret is mounted read-only by its own identity's Envoy only", () => {
    assert.deepEqual(checkSecretMounts([identitySecret(), deployment()]), []);
  });

  it("keeps the restricted pod policy satisfied by the mounted Secret and the fsGroup", () => {
    assert.deepEqual(checkPodPolicy(deployment()), []);
  });

  it("lists each rule with a summary", () => {
    assert.deepEqual(secretMountRules.map((r) => r.id), ["secrets/identity-owner", "secrets/key-reader", "secrets/read-only", "secrets/no-key-material"]);
  });

  it("refuses an app container that mounts a Secret holding a key [secrets/key-reader]", () => {
    const findings = checkSecretMounts([identitySecret(), deployment({ set: `${APP}.volumeMounts`, value: [{ name: "identity", mountPath: "/keys", readOnly: true }] })]);
    assert.deepEqual(findings.map((f) => [f.rule, f.object, f.path]), [["secrets/key-reader", "Deployment/envoy-mesh/service-a", "spec.template.spec.containers[0].volumeMounts[0]"]]);
    assert.match(findings[0].message, /^container "app" mounts Secret "service-a-identity", which holds key material: only the envoy container may read/);
  });

  it("refuses an app mounting a Secret it cannot see, such as an existing edge Secret, as holding a key [secrets/key-reader]", () => {
    const findings = checkSecretMounts([
      deployment(
        { set: `${POD}.volumes.3`, value: { name: "edge", projected: { sources: [{ secret: { name: "shop-tls" } }] } } },
        { set: `${APP}.volumeMounts`, value: [{ name: "edge", mountPath: "/edge", readOnly: true }] },
      ),
    ]);
    assert.deepEqual(findings.map((f) => [f.rule, f.path]), [["secrets/key-reader", "spec.template.spec.containers[0].volumeMounts[0]"]]);
    assert.match(findings[0].message, /Secret "shop-tls" \(not among these objects, so taken to hold a key\)/);
  });

  it("lets an app mount a Secret that holds no key", () => {
    const config = { apiVersion: "v1", kind: "Secret", metadata: { name: "app-settings", namespace: "envoy-mesh" }, type: "Opaque", data: { "settings.json": "e30=" } };
    const findings = checkSecretMounts([
      config,
      identitySecret(),
      deployment(
        { set: `${POD}.volumes.3`, value: { name: "settings", secret: { secretName: "app-settings" } } },
        { set: `${APP}.volumeMounts`, value: [{ name: "settings", mountPath: "/settings", readOnly: true }] },
      ),
    ]);
    assert.deepEqual(findings, []);
  });

  it("refuses a writable mount of a key [secrets/read-only]", () => {
    const findings = checkSecretMounts([identitySecret(), deployment({ set: `${ENVOY}.volumeMounts.1.readOnly`, value: false })]);
    assert.deepEqual(findings.map((f) => [f.rule, f.path]), [["secrets/read-only", "spec.template.spec.initContainers[0].volumeMounts[1].readOnly"]]);
    assert.match(findings[0].message, /without readOnly: true/);
  });

  it("refuses a pod mounting another identity's Secret [secrets/identity-owner]", () => {
    const findings = checkSecretMounts([identitySecret("service-b-identity"), identitySecret(), deployment({ set: `${POD}.volumes.1.secret.secretName`, value: "service-b-identity" })]);
    assert.deepEqual(rules([identitySecret("service-b-identity"), deployment({ set: `${POD}.volumes.1.secret.secretName`, value: "service-b-identity" })]), ["secrets/identity-owner"]);
    assert.deepEqual(findings.map((f) => [f.rule, f.object]), [
      ["secrets/identity-owner", "Deployment/envoy-mesh/service-a"],
      ["secrets/identity-owner", "Secret/envoy-mesh/service-a-identity"],
    ]);
    assert.match(findings[0].message, /running as ServiceAccount "service-a" mounts the identity Secret of "service-b"/);
    assert.match(findings[1].message, /no envoy container of a pod running as "service-a" mounts this identity Secret/);
  });

  it("refuses an identity Secret no Envoy mounts [secrets/identity-owner]", () => {
    assert.deepEqual(rules([identitySecret(), deployment({ set: `${ENVOY}.volumeMounts`, value: [ENVOY_MOUNTS[0]] })]), ["secrets/identity-owner"]);
  });

  it("refuses a pod that runs as the default ServiceAccount and mounts an identity [secrets/identity-owner]", () => {
    const findings = checkSecretMounts([identitySecret(), deployment({ set: `${POD}.serviceAccountName`, value: "" })]);
    assert.ok(findings.some((f) => f.rule === "secrets/identity-owner" && /ServiceAccount "default"/.test(f.message)));
  });
});

describe("keyMaterialFindings", () => {
  const pem = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";

  it("finds a PEM private key in base64 data, and in stringData, of any key type", () => {
    const secret = {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "leak", namespace: "envoy-mesh" },
      data: { "tls.key": Buffer.from(pem).toString("base64"), "tls.crt": Buffer.from("-----BEGIN CERTIFICATE-----\n").toString("base64") },
      stringData: { "other.key": pem.replace(/PRIVATE KEY/g, "EC PRIVATE KEY") },
    };
    assert.deepEqual(keyMaterialFindings(secret).map((f) => [f.rule, f.path]), [
      ["secrets/no-key-material", 'data["tls.key"]'],
      ["secrets/no-key-material", 'stringData["other.key"]'],
    ]);
  });

  it("finds nothing in a placeholder, or in objects that are not Secrets", () => {
    assert.deepEqual(keyMaterialFindings(identitySecret()), []);
    const placeholder = { ...identitySecret(), data: { "tls.key": Buffer.from("-----BEGIN PLACEHOLDER-----\nnot a private key\n-----END PLACEHOLDER-----\n").toString("base64") } };
    assert.deepEqual(keyMaterialFindings(placeholder), []);
    assert.deepEqual(keyMaterialFindings({ kind: "ConfigMap", metadata: { name: "x" }, data: { k: pem } }), []);
  });
});
