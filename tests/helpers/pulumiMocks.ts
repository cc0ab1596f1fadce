import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { takeSdkPromiseTracesEmpty } from "./sdkStackTraces";

// As the program does (index.ts): the SDK's per-promise stack traces, which cost most of a mock deployment's time, taken empty.
takeSdkPromiseTracesEmpty();

/** One resource as the mock engine saw it register. */
export interface Registered {
  readonly type: string;
  readonly name: string;
  /** `urn:pulumi:<stack>::<project>::<qualifiedType>::<name>`, as the engine derives it. */
  readonly urn: string;
  /** `<parent's qualified type>$<type>`, from the URN the engine assigned. */
  readonly qualifiedType: string;
  /** URN of the parent resource; undefined for a resource registered at the top. */
  readonly parent?: string;
  /**
   * URNs this resource waits for: its `dependsOn` (a component expands to its children) and the
   * resources whose outputs its inputs use, as the SDK sends them in the request.
   */
  readonly dependencies: readonly string[];
  /** False for a ComponentResource. */
  readonly custom: boolean;
  readonly inputs: Record<string, any>;
  /** Provider reference `urn::id`, when one was passed. */
  readonly provider?: string;
}

/** The fields of a RegisterResourceRequest the harness reads (see @pulumi/pulumi proto/resource_pb.js). */
interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getDependenciesList(): string[];
}

/** The parts of the SDK's MockMonitor (runtime/mocks.js) the harness wraps. */
interface MockMonitor {
  newUrn(parent: string, type: string, name: string): string;
  registerResource(request: RegisterRequest, callback: (error: Error | null, response?: unknown) => void): Promise<void>;
}

/** Extra output properties a resource reports after creation (a Service's status, say); a promise when they take work (a certificate). */
export type OutputsOf = (resource: { type: string; name: string; inputs: Record<string, any> }) =>
  | Record<string, unknown>
  | undefined
  | Promise<Record<string, unknown> | undefined>;

export interface MockOptions {
  /** Stack config, without the `envoy-mesh:` prefix. */
  readonly config?: Record<string, string>;
  /** Outputs the cloud would fill in, merged over the inputs. */
  readonly outputs?: OutputsOf;
  /** Config keys (without the prefix) the CLI marks as secret. */
  readonly secretKeys?: readonly string[];
}

let imageContent = "v1";

/** The emulated tls provider, loaded on first use: it imports this module's helpers. */
const tlsOutputs: OutputsOf = (resource) =>
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require("./tlsProvider") as typeof import("./tlsProvider")).tlsProviderOutputs(resource);

/** Stands for the content of the build context: a new value is new code, hence a new digest. */
export function setImageContent(content: string): void {
  imageContent = content;
}

function fakeDigest(inputs: Record<string, any>): string {
  return createHash("sha256").update(JSON.stringify(inputs.build ?? {}) + imageContent).digest("hex");
}

/**
 * The engine's refusal of a second resource with the same URN, worded as the engine words it
 * (pulumi/pulumi pkg/diag/errors.go, GetDuplicateResourceURNError). The SDK's mock monitor
 * accepts both, so the harness refuses them itself.
 */
export function duplicateUrnMessage(urn: string): string {
  return `Duplicate resource URN '${urn}'; try giving it a unique name`;
}

/**
 * Mock engine that keeps every registration with its parent and dependencies, and refuses a
 * duplicate URN as the real engine does. Outputs the program reads (image digests, metadata
 * names) are returned, or their `apply` callbacks would never run.
 *
 * Returns `collect`: waits for every registration, then lists them in registration order, or
 * throws when the engine refused any.
 */
export async function installMocks(stack: string, options: MockOptions = {}): Promise<() => Promise<Registered[]>> {
  const { config = {}, outputs, secretKeys = [] } = options;
  const seen = new Map<string, Registered>();
  const refused: string[] = [];
  /** URN of the registration whose `newResource` call is under way (it is made synchronously). */
  let registering: string | undefined;
  // As the CLI passes them: every value as text, and the names of the secret keys.
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`envoy-mesh:${k}`, v])),
    secretKeys.map((k) => `envoy-mesh:${k}`),
  );
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const record = registering === undefined ? undefined : seen.get(registering);
        if (record) seen.set(record.urn, { ...record, inputs: args.inputs, provider: args.provider });
        const finish = (extra: Record<string, unknown> | undefined) => {
          const state: Record<string, unknown> = { ...args.inputs, ...extra };
          if (args.type === "docker:index/image:Image") {
            // Without a push the provider reports the local image ID instead of a registry digest.
            state.repoDigest = args.inputs.skipPush
              ? `sha256:${fakeDigest(args.inputs)}`
              : `${String(args.inputs.imageName).replace(/:[^:/]+$/, "")}@sha256:${fakeDigest(args.inputs)}`;
          }
          if (args.type === "docker:index/remoteImage:RemoteImage") {
            state.imageId = `sha256:${createHash("sha256").update(String(args.inputs.name)).digest("hex")}`;
          }
          return { id: `${args.name}-id`, state };
        };
        const resource = { type: args.type, name: args.name, inputs: args.inputs };
        // The tls provider's resources always report their keys and certificates, as the real one does.
        const extra = args.type.startsWith("tls:") ? tlsOutputs(resource) : outputs?.(resource);
        return extra instanceof Promise ? extra.then(finish) : finish(extra);
      },
      call(args) {
        return args.inputs;
      },
    },
    "envoy-mesh",
    stack,
    false,
  );

  // The monitor setMocks just installed sees each request whole, while `newResource` is not
  // told the parent or the dependencies: wrap the monitor's own entry point.
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  // The engine qualifies a child's type with its parent's whole qualified type (as the SDK's own
  // createUrn in @pulumi/pulumi resource.ts does); the mock monitor keeps only the parent's last
  // type, which would merge URNs the engine keeps apart.
  monitor.newUrn = (parent, type, name) =>
    `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${parent ? `${parent.split("::")[2]}$` : ""}${type}::${name}`;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    const urn = monitor.newUrn(request.getParent(), request.getType(), request.getName());
    // Checked before anything is awaited, so two registrations in flight cannot both pass.
    if (seen.has(urn)) {
      refused.push(duplicateUrnMessage(urn));
      callback(new Error(duplicateUrnMessage(urn)));
      return Promise.resolve();
    }
    seen.set(urn, {
      type: request.getType(),
      name: request.getName(),
      urn,
      qualifiedType: urn.split("::")[2],
      parent: request.getParent() || undefined,
      dependencies: [...request.getDependenciesList()].sort(),
      custom: request.getCustom(),
      inputs: {},
    });
    // MockMonitor.registerResource calls `newResource` before its first await.
    registering = urn;
    try {
      return register(request, callback);
    } finally {
      registering = undefined;
    }
  };

  return async () => {
    await allRegistrationsDone();
    if (refused.length > 0) throw new Error(`the engine refused the program:\n${refused.join("\n")}`);
    return [...seen.values()];
  };
}

/** The registration of `type` named `name`, or a failure listing what was registered. */
export function registered(resources: readonly Registered[], type: string, name: string): Registered {
  const found = resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} named ${name}; have ${resources.map((r) => `${r.type}/${r.name}`).join(", ")}`);
  return found;
}

/**
 * Waits until every registration has reached the mock engine: the SDK chains each outstanding
 * RPC onto `rpcDone`, and a registration may start more, so wait until the chain stops growing.
 */
async function allRegistrationsDone(): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { getStore } = require("@pulumi/pulumi/runtime/state") as { getStore(): { settings: { rpcDone: Promise<unknown> } } };
  const { settings } = getStore();
  let pending: Promise<unknown>;
  do {
    pending = settings.rpcDone;
    await pending;
  } while (pending !== settings.rpcDone);
}

/** Pulumi's wire marker for a secret value: `{ [SECRET_SIG]: SECRET_VALUE, value }`. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

export function isSecret(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270";
}

export function promiseOf<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => output.apply(resolve));
}

/** What `run` returned, and the `pulumi.log.warn` messages said while it ran. */
export async function captureWarnings<T>(run: () => Promise<T>): Promise<{ result: T; warnings: string[] }> {
  const warnings: string[] = [];
  const log = pulumi.log as { warn: (message: string) => Promise<void> };
  const original = log.warn;
  log.warn = (message: string) => {
    warnings.push(message);
    return Promise.resolve();
  };
  try {
    return { result: await run(), warnings };
  } finally {
    log.warn = original;
  }
}
