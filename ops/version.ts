/** A release version `major.minor.patch`; pre-release and build suffixes are ignored. */
export interface Version {
    readonly major: number;
    readonly minor: number;
    readonly patch: number;
}

/** Finds the first `vX.Y.Z` or `X.Y.Z` in `text`, e.g. in `pulumi version` or `kind version` output. */
export function findVersion(text: string): Version | undefined {
    const m = /\bv?(\d+)\.(\d+)\.(\d+)/.exec(text);
    return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** Parses `X.Y.Z` (optionally `v`-prefixed); throws on anything else. */
export function parseVersion(text: string): Version {
    const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(text.trim());
    if (!m) {
        throw new Error(`not a version of the form X.Y.Z: ${JSON.stringify(text)}`);
    }
    return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) };
}

/** Negative when a < b, zero when equal, positive when a > b. */
export function compareVersions(a: Version, b: Version): number {
    return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function formatVersion(v: Version): string {
    return `${v.major}.${v.minor}.${v.patch}`;
}
