import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { buildRegistryPullSecret, encodeDockerConfigJson } from "../k8s";
import type { RegistrySettings } from "../stack";
import type { ConfigIssue } from "../topology/reader";

/**
 * Pods pull with the credentials that push: a username and a password come as a pair. Returns
 * what is missing (empty when both or neither are set; neither means a public registry).
 */
export function pullCredentialProblems(registry: RegistrySettings, password: pulumi.Input<string> | undefined): ConfigIssue[] {
  const hasUsername = registry.username !== undefined;
  if (hasUsername === (password !== undefined)) return [];
  const why = `pods pull from ${registry.server} with the credentials that push, so username and password are needed together`;
  return hasUsername
    ? [{ path: "envoy-mesh:registryPassword", message: `not set (pulumi config set --secret envoy-mesh:registryPassword <token>): ${why}` }]
    : [{ path: "envoy-mesh:registryUsername", message: `not set (pulumi config set envoy-mesh:registryUsername <user>): ${why}` }];
}

/**
 * The pull Secret of the mesh, when the stack sets registry credentials. The config JSON holds
 * the password, so it stays a Pulumi secret: encrypted in the state and hidden in diffs (the
 * Secret resource of @pulumi/kubernetes also marks `data` and `stringData` as secret outputs).
 * `data` rather than `stringData`: the API server returns only `data`, and `stringData` inputs
 * have shown up as a diff on every update (pulumi/pulumi-kubernetes issues 653 and 2507).
 */
export function createPullSecret(
  name: string,
  namespace: string,
  registry: RegistrySettings,
  password: pulumi.Input<string> | undefined,
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.Secret | undefined {
  const { username } = registry;
  if (username === undefined || password === undefined) return undefined;
  const dockerConfigJson = pulumi.secret(
    pulumi.output(password).apply((value) => encodeDockerConfigJson({ server: registry.server, username, password: value })),
  );
  return new k8s.core.v1.Secret(name, buildRegistryPullSecret(namespace, dockerConfigJson), opts);
}
