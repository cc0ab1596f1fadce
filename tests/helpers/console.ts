import { format } from "node:util";

/** What a command's main returned and printed. */
export interface CommandRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command's main in this process, capturing what it prints to the console until it has
 * returned (or, for an async main, resolved).
 */
export function captureConsole(command: () => number): CommandRun;
export function captureConsole(command: () => Promise<number>): Promise<CommandRun>;
export function captureConsole(command: () => number | Promise<number>): CommandRun | Promise<CommandRun> {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  const restore = () => {
    console.log = log;
    console.error = error;
  };
  const result = (code: number) => ({ code, stdout: out.join("\n"), stderr: err.join("\n") });
  console.log = (...args: unknown[]) => void out.push(format(...args));
  console.error = (...args: unknown[]) => void err.push(format(...args));
  let code: number | Promise<number>;
  try {
    code = command();
  } catch (e) {
    restore();
    throw e;
  }
  if (typeof code === "number") {
    restore();
    return result(code);
  }
  return code.then(result).finally(restore);
}
