import * as path from "path";
import { pathToFileURL } from "url";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";

/** Local state directory, relative to the repository root (git-ignored). */
export const STATE_DIR = ".pulumi-state";

/**
 * Passphrase for the local kind stack's secrets when PULUMI_CONFIG_PASSPHRASE is not set.
 * It protects nothing secret: the kind stack holds no secrets, and the state stays on this machine.
 */
export const DEFAULT_PASSPHRASE = "envoy-mesh-local";

export type StackOutputs = Readonly<Record<string, { readonly value: unknown; readonly secret: boolean }>>;

export interface RunOptions {
    /** Receives the CLI's progress output (stdout) as it is printed. */
    readonly onOutput: (chunk: string) => void;
    /** Receives the CLI's stderr as it is printed. */
    readonly onError: (chunk: string) => void;
    /** Colour codes in that output. */
    readonly color: "always" | "never";
    /** Read stack config from this file instead of Pulumi.<stack>.yaml. */
    readonly configFile?: string;
    /** `pulumi up --replace <urn>`: replace these resources even if nothing changed (forcing a certificate renewal). */
    readonly replace?: readonly string[];
}

/** The few operations on a stack that this repository uses. */
export interface MeshStack {
    readonly name: string;
    up(options: RunOptions): Promise<{ readonly outputs: StackOutputs }>;
    destroy(options: RunOptions): Promise<void>;
    /** The outputs of the last update, read from the state: no update, no preview. */
    outputs(): Promise<StackOutputs>;
}

export interface StackArgs {
    readonly stackName: string;
    readonly workDir: string;
}

export interface WorkspaceOptions {
    readonly envVars: Readonly<Record<string, string>>;
    readonly secretsProvider: "passphrase";
}

/** Opens stacks of the Pulumi program in `workDir`: the Automation API, or a fake in tests. */
export interface StackBackend {
    createOrSelectStack(args: StackArgs, options: WorkspaceOptions): Promise<MeshStack>;
    /** Stacks of the project, by short name (`kind`). */
    listStacks(workDir: string, options: WorkspaceOptions): Promise<string[]>;
    selectStack(args: StackArgs, options: WorkspaceOptions): Promise<MeshStack>;
}

/** `pulumi stack export` of a stack: its resources' URNs and types, for tests that pick one to replace. */
export async function exportedResources(args: StackArgs, o: WorkspaceOptions): Promise<{ urn: string; type: string }[]> {
    const stack = await LocalWorkspace.selectStack({ ...args }, workspaceOptions(args.workDir, o));
    const deployment = (await stack.exportStack()).deployment as { resources?: { urn?: unknown; type?: unknown }[] };
    return (deployment.resources ?? []).flatMap((r) => (typeof r.urn === "string" && typeof r.type === "string" ? [{ urn: r.urn, type: r.type }] : []));
}

export interface LocalBackend {
    /** Absolute path of the state directory. */
    readonly stateDir: string;
    /** `file://` URL of the state directory. */
    readonly backendUrl: string;
    /** Where the passphrase comes from: the documented default or the caller's environment. */
    readonly passphraseFrom: "default" | "PULUMI_CONFIG_PASSPHRASE" | "PULUMI_CONFIG_PASSPHRASE_FILE";
    readonly options: WorkspaceOptions;
}

/**
 * The repo-local file backend: no `pulumi login`, no account. The passphrase defaults to
 * DEFAULT_PASSPHRASE; PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE in `env` win.
 */
export function localBackend(repoRoot: string, env: Readonly<Record<string, string | undefined>>, extra: Readonly<Record<string, string>> = {}): LocalBackend {
    const stateDir = path.join(repoRoot, STATE_DIR);
    const backendUrl = pathToFileURL(stateDir).href;
    const envVars: Record<string, string> = {
        PULUMI_BACKEND_URL: backendUrl,
        // No network call to ask whether a newer CLI exists.
        PULUMI_SKIP_UPDATE_CHECK: "true",
        ...extra,
    };
    let passphraseFrom: LocalBackend["passphraseFrom"];
    if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) {
        passphraseFrom = "PULUMI_CONFIG_PASSPHRASE";
        envVars.PULUMI_CONFIG_PASSPHRASE = env.PULUMI_CONFIG_PASSPHRASE;
    } else if (env.PULUMI_CONFIG_PASSPHRASE_FILE !== undefined) {
        passphraseFrom = "PULUMI_CONFIG_PASSPHRASE_FILE";
    } else {
        passphraseFrom = "default";
        envVars.PULUMI_CONFIG_PASSPHRASE = DEFAULT_PASSPHRASE;
    }
    return { stateDir, backendUrl, passphraseFrom, options: { envVars, secretsProvider: "passphrase" } };
}

function wrap(stack: Stack): MeshStack {
    return {
        name: stack.name,
        async up(o) {
            const result = await stack.up({
                onOutput: o.onOutput,
                onError: o.onError,
                color: o.color,
                ...(o.configFile ? { configFile: o.configFile } : {}),
                ...(o.replace && o.replace.length > 0 ? { replace: [...o.replace] } : {}),
            });
            return { outputs: result.outputs };
        },
        async outputs() {
            return stack.outputs();
        },
        async destroy(o) {
            await stack.destroy({ onOutput: o.onOutput, onError: o.onError, color: o.color, ...(o.configFile ? { configFile: o.configFile } : {}) });
        },
    };
}

function workspaceOptions(workDir: string, o: WorkspaceOptions) {
    return { workDir, envVars: { ...o.envVars }, secretsProvider: o.secretsProvider };
}

/** The real backend: `@pulumi/pulumi/automation` LocalWorkspace over the Pulumi CLI. */
export const automationBackend: StackBackend = {
    async createOrSelectStack(args, o) {
        return wrap(await LocalWorkspace.createOrSelectStack({ ...args }, workspaceOptions(args.workDir, o)));
    },
    async selectStack(args, o) {
        return wrap(await LocalWorkspace.selectStack({ ...args }, workspaceOptions(args.workDir, o)));
    },
    async listStacks(workDir, o) {
        const ws = await LocalWorkspace.create(workspaceOptions(workDir, o));
        // A DIY backend may qualify names as organization/<project>/<stack>.
        return (await ws.listStacks()).map((s) => s.name.split("/").pop() ?? s.name);
    },
};

/** A stack output that is a string, else undefined. */
export function stringOutput(outputs: StackOutputs, name: string): string | undefined {
    const v = outputs[name]?.value;
    return typeof v === "string" ? v : undefined;
}

/**
 * A short message for a failed Pulumi operation. Its output was already streamed, so the
 * Automation API's error (which repeats all of it) is cut down to the exit code.
 */
export function pulumiFailure(operation: string, stackName: string, error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    const code = /^code: (-?\d+)/.exec(text);
    if (code) {
        return `pulumi ${operation} on stack ${stackName} failed (exit code ${code[1]}); the output above says why`;
    }
    return `pulumi ${operation} on stack ${stackName} failed: ${text.split("\n")[0]}`;
}
