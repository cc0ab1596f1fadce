import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { ConfigError } from "../topology/reader";
import { projectDefaults } from "./defaults";
import { isKubernetesStack, parseStackSettings, type StackSettings } from "./settings";
import { SECRET_KEYS, type ConfigKey } from "./targets";

/**
 * Whether the CLI passed a config key as a secret. The SDK knows (it reads the secret keys the CLI
 * sends) but does not declare the function in its types; without it, trust the value.
 */
function isSecret(key: string): boolean {
  const probe = (runtimeConfig as unknown as { isConfigSecret?: (key: string) => boolean }).isConfigSecret;
  return probe === undefined ? true : probe(key);
}

/**
 * This project's config values of the running stack, keyed without the `envoy-mesh:` prefix, in
 * the form a stack file holds them: a secret as a `{ secure }` placeholder (its value is read
 * with requireSecret only), the topology as an object when it is structured config.
 */
export function readPulumiConfigValues(): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    const [namespace, name] = key.split(/:(.*)/s);
    if (namespace !== projectDefaults().project) continue;
    values[name] = name in SECRET_KEYS && isSecret(key) ? { secure: "[secret]" } : value;
  }
  for (const key of ["topology", "observability"] as const) {
    if (values[key] !== undefined) values[key] = structuredValue(key, values[key] as string);
  }
  return values;
}

/** Structured config arrives as JSON text (config.getObject); anything else is the YAML text form. */
function structuredValue(key: string, text: string): unknown {
  try {
    const object = new pulumi.Config(projectDefaults().project).getObject<unknown>(key);
    return typeof object === "object" && object !== null && !Array.isArray(object) ? object : text;
  } catch {
    return text;
  }
}

/**
 * Validates the stack's config before any resource is registered. A user mistake becomes a
 * RunError: Pulumi prints its message (every problem, each with its config path) and no stack trace.
 */
export function loadStackSettings(projectDir: string): StackSettings {
  try {
    return parseStackSettings(readPulumiConfigValues(), { projectDir });
  } catch (error) {
    if (error instanceof ConfigError) throw new pulumi.RunError(error.message);
    throw error;
  }
}

/** The registry password as a secret, when one is set. */
export function registryPassword(settings: StackSettings): pulumi.Output<string> | undefined {
  return isKubernetesStack(settings) && settings.registry.hasPassword ? new pulumi.Config(projectDefaults().project).requireSecret("registryPassword") : undefined;
}

/** The certificates and keys a cloud stack provides, as MeshCertificates takes them (keys as secrets). */
export interface CertificateMaterial {
  readonly caCertificatePem?: pulumi.Output<string>;
  readonly caPrivateKeyPem?: pulumi.Output<string>;
  readonly edgeCertificatePem?: pulumi.Output<string>;
  readonly edgePrivateKeyPem?: pulumi.Output<string>;
}

/**
 * The stack's own CA and edge certificate, when its certificate sources say `provided`. Private
 * keys are read as secrets only; a certificate is public, but stays a secret if it was set as one.
 */
export function certificateMaterial(settings: StackSettings): CertificateMaterial {
  const config = new pulumi.Config(projectDefaults().project);
  const certificate = (key: ConfigKey) => (isSecret(`${projectDefaults().project}:${key}`) ? config.requireSecret(key) : pulumi.output(config.require(key)));
  const { ca, edge } = settings.certificates;
  return {
    ...(ca.kind === "provided" ? { caCertificatePem: certificate("caCertificate"), caPrivateKeyPem: config.requireSecret("caPrivateKey") } : {}),
    ...(edge.kind === "provided" ? { edgeCertificatePem: certificate("edgeCertificate"), edgePrivateKeyPem: config.requireSecret("edgePrivateKey") } : {}),
  };
}
