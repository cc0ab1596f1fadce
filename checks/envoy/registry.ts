import {
  createFileRegistry,
  fromBinary,
  type DescExtension,
  type DescMessage,
  type FileRegistry,
} from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { loadDescriptorSet, type LoadDescriptorOptions } from "./descriptorCache";

/** Fully qualified name of the Envoy v3 bootstrap message. */
export const BOOTSTRAP_TYPE = "envoy.config.bootstrap.v3.Bootstrap";

/** Custom options read from the descriptors. */
export interface EnvoyOptionExtensions {
  /** `(validate.rules)` on fields. */
  readonly rules: DescExtension;
  /** `(validate.required)` on oneofs. */
  readonly oneofRequired: DescExtension;
  /** `(validate.disabled)` on messages (the shipped validate.proto has no `ignored`). */
  readonly messageDisabled: DescExtension;
  /** Envoy's deprecation annotations on fields and enum values. */
  readonly deprecatedAtMinorVersion: DescExtension;
  readonly deprecatedAtMinorVersionEnum: DescExtension;
  readonly disallowedByDefault: DescExtension;
  readonly disallowedByDefaultEnum: DescExtension;
}

export interface EnvoyRegistry {
  readonly registry: FileRegistry;
  readonly bootstrap: DescMessage;
  readonly options: EnvoyOptionExtensions;
  /** Envoy message types whose protos are shipped but could not be compiled -> proto file. */
  readonly uncheckedTypes: ReadonlyMap<string, string>;
  /** Version of the package the protos came from. */
  readonly packageVersion: string;
  /** Number of proto files in the registry. */
  readonly fileCount: number;
}

function extension(registry: FileRegistry, name: string): DescExtension {
  const ext = registry.getExtension(name);
  if (!ext) throw new Error(`Envoy API descriptors lack the option ${name}`);
  return ext;
}

/** Builds the registry from a descriptor set (no caching; see {@link loadEnvoyRegistry}). */
export function buildEnvoyRegistry(options: LoadDescriptorOptions = {}): EnvoyRegistry {
  const info = loadDescriptorSet(options);
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, info.bytes));
  const bootstrap = registry.getMessage(BOOTSTRAP_TYPE);
  if (!bootstrap) throw new Error(`Envoy API descriptors lack ${BOOTSTRAP_TYPE}`);
  const uncheckedTypes = new Map<string, string>();
  for (const ex of info.excluded) for (const t of ex.messageTypes) uncheckedTypes.set(t, ex.path);
  const fileCount = [...registry.files].length;
  return {
    registry,
    bootstrap,
    uncheckedTypes,
    packageVersion: info.packageVersion,
    fileCount,
    options: {
      rules: extension(registry, "validate.rules"),
      oneofRequired: extension(registry, "validate.required"),
      messageDisabled: extension(registry, "validate.disabled"),
      deprecatedAtMinorVersion: extension(registry, "envoy.annotations.deprecated_at_minor_version"),
      deprecatedAtMinorVersionEnum: extension(registry, "envoy.annotations.deprecated_at_minor_version_enum"),
      disallowedByDefault: extension(registry, "envoy.annotations.disallowed_by_default"),
      disallowedByDefaultEnum: extension(registry, "envoy.annotations.disallowed_by_default_enum"),
    },
  };
}

let cached: EnvoyRegistry | undefined;

/**
 * The Envoy API registry, built once per process (synchronously) and then reused.
 * Call it ahead of time to move the one-off cost out of the first validation.
 */
export function loadEnvoyRegistry(): EnvoyRegistry {
  cached ??= buildEnvoyRegistry();
  return cached;
}
