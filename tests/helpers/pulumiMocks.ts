import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";

/** One resource as the mock engine saw it register. */
export interface Registered {
  readonly type: string;
  readonly name: string;
  /** `<parent type>$<type>`, from the URN the engine assigned. */
  readonly qualifiedType: string;
  readonly inputs: Record<string, any>;
  /** Provider reference `urn::id`, when one was passed. */
  readonly provider?: string;
}

let imageContent = "v1";

/** Stands for the content of the build context: a new value is new code, hence a new digest. */
export function setImageContent(content: string): void {
  imageContent = content;
}

function fakeDigest(inputs: Record<string, any>): string {
  return createHash("sha256").update(JSON.stringify(inputs.build ?? {}) + imageContent).digest("hex");
}

/**
 * Mock engine that keeps every registration. Outputs the program reads (image digests,
 * metadata names) are returned, or their `apply` callbacks would never run.
 */
export async function installMocks(stack: string, config: Record<string, string> = {}, secretKeys: readonly string[] = []): Promise<() => Promise<Registered[]>> {
  const seen: { type: string; name: string; inputs: any; provider?: string }[] = [];
  // As the CLI passes them: every value as text, and the names of the secret keys.
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([k, v]) => [`envoy-mesh:${k}`, v])),
    secretKeys.map((k) => `envoy-mesh:${k}`),
  );
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        seen.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
        const state = { ...args.inputs };
        if (args.type === "docker:index/image:Image") {
          state.repoDigest = `${String(args.inputs.imageName).replace(/:[^:/]+$/, "")}@sha256:${fakeDigest(args.inputs)}`;
        }
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        return args.inputs;
      },
    },
    "envoy-mesh",
    stack,
    false,
  );
  return async () => {
    await allRegistrationsDone();
    const monitor = pulumi.runtime.getMonitor() as unknown as { resources: Map<string, unknown> };
    const urns = [...monitor.resources.keys()];
    return seen.map((r) => {
      const urn = urns.find((u) => u.endsWith(`::${r.name}`) && u.split("::")[2].split("$").pop() === r.type) ?? "";
      return { ...r, qualifiedType: urn.split("::")[2] ?? r.type };
    });
  };
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
