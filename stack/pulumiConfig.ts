import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../topology/reader";
import { PROJECT } from "./defaults";
import { parseStackSettings, type StackSettings } from "./settings";

/** This project's config values of the running stack, keyed without the `envoy-mesh:` prefix. */
export function readPulumiConfigValues(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of Object.entries(pulumi.runtime.allConfig())) {
    const [namespace, name] = key.split(/:(.*)/s);
    if (namespace === PROJECT) values[name] = value;
  }
  return values;
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
  return settings.registry.hasPassword ? new pulumi.Config(PROJECT).requireSecret("registryPassword") : undefined;
}
