import * as fs from "fs";
import { load } from "js-yaml";
import { OpsError } from "./errors";

/** Parses YAML text; a syntax error becomes an OpsError naming `label` (a file name). */
export function parseYaml(text: string, label: string): unknown {
    try {
        return load(text);
    } catch (e) {
        throw new OpsError(`${label}: not valid YAML: ${(e as Error).message.split("\n")[0]}`);
    }
}

/** Reads and parses a YAML file; a missing file or bad YAML becomes an OpsError naming it. */
export function readYamlFile(path: string, label: string = path): unknown {
    let text: string;
    try {
        text = fs.readFileSync(path, "utf8");
    } catch (e) {
        throw new OpsError(`${label}: cannot read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    return parseYaml(text, label);
}
