import { spawn } from "child_process";

/**
 * Runs a command in `cwd`, echoing its output as it comes (so a long end-to-end run shows
 * progress), and returns its exit code and everything it printed.
 */
export function runEchoed(cwd: string, cmd: string, args: readonly string[]): Promise<{ code: number; output: string }> {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, [...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
        let output = "";
        const tee = (chunk: Buffer, to: NodeJS.WriteStream) => {
            output += chunk.toString("utf8");
            to.write(chunk);
        };
        child.stdout.on("data", (c: Buffer) => tee(c, process.stdout));
        child.stderr.on("data", (c: Buffer) => tee(c, process.stderr));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, output }));
    });
}
