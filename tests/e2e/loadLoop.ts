// A client load through the front proxy for the end-to-end tests: what must not fail while the
// mesh changes under it (a rollout, a certificate renewal).
import * as fs from "fs";
import { freshConnectionGetter } from "../../ops/http";

export interface LoadResult {
    readonly requests: number;
    readonly failures: string[];
}

/**
 * Requests through the front, over plain HTTP (`plain`) and HTTPS (`tls`, trusting only the edge
 * CA in `edgeCaFile`) in turn, 50 ms apart, each on a fresh connection, until stopped; collects
 * every failure.
 */
export function loadLoop(plain: string, tls: string, edgeCaFile: string): { stop(): Promise<LoadResult> } {
    const ca = fs.readFileSync(edgeCaFile, "utf8");
    const failures: string[] = [];
    let requests = 0;
    let running = true;
    const loop = (async () => {
        while (running) {
            const url = requests % 2 === 0 ? plain : tls;
            requests += 1;
            try {
                const r = await freshConnectionGetter(url, 5000, { ca });
                if (r.status !== 200) failures.push(`${url}: HTTP ${r.status}: ${r.body.trim().slice(0, 120)}`);
            } catch (e) {
                failures.push(`${url}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
            }
            await new Promise((r) => setTimeout(r, 50));
        }
    })();
    return {
        stop: async () => {
            running = false;
            await loop;
            return { requests, failures };
        },
    };
}
