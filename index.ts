/**
 * The Pulumi program: reads and validates the stack config (topology included), then deploys
 * the mesh. Nothing is registered when the config is invalid.
 */
import * as pulumi from "@pulumi/pulumi";
import { ServiceMesh } from "./components";
import { skipSdkPromiseTraces } from "./components/sdkPromiseTraces";
import { serverVersionGate } from "./components/serverVersionGate";
import { isKubernetesStack } from "./stack";
import { certificateMaterial, loadStackSettings, registryPassword } from "./stack/pulumiConfig";

// Before the first SDK promise: unless PULUMI_DEBUG_PROMISE_LEAKS is set, the SDK's per-promise
// stack traces (read only for that variable's report) are taken empty; see the module.
skipSdkPromiseTraces();

const settings = loadStackSettings(__dirname);

const mesh = new ServiceMesh("envoy-mesh", {
  settings,
  projectDir: __dirname,
  imageTag: pulumi.getStack(),
  registryPassword: registryPassword(settings),
  // The stack's own CA and edge certificate (cloud), for the mesh's MeshCertificates; keys as secrets.
  ...certificateMaterial(settings),
}, { dependsOn: isKubernetesStack(settings) ? serverVersionGate(settings) : undefined });

/** Where the Front Envoy answers: http://localhost:8080 on kind and docker, the load balancer's address in a cloud. */
export const frontUrl = mesh.frontUrl;
/** The Kubernetes namespace, or the Docker network on docker. */
export const namespace = mesh.namespace;
/** Per service: the name callers resolve (headless Service FQDN, or the network alias on docker) and the egress port of each upstream it calls. */
export const services = mesh.services;

/** When each certificate Pulumi issued expires (RFC 3339): per proxy identity, and `edge` for the local edge certificate. */
export const certificateExpiries = mesh.certificateExpiries;
/** The local edge CA's certificate (kind, docker), which `curl --cacert` trusts. */
export const edgeCaCertificate = mesh.edgeCaCertificate;
/**
 * Per proxy, `{ bootstrap, live }`: the bootstrap's version (a change rolls its pods) and the version each
 * xDS subscription must report (`listener_manager.lds`, `cluster_manager.cds`, `http.<prefix>.rds.<route>`;
 * a change only replaces files every Envoy reloads). `npm run status` compares it with each Envoy's stats.
 */
export const envoyConfig = mesh.envoyConfig;
