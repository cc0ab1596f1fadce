const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** The tag of `[host[:port]/]path[:tag]`, if any; a registry port is not a tag. */
function tagOf(name: string): string | undefined {
  const last = name.slice(name.lastIndexOf("/") + 1);
  const colon = last.indexOf(":");
  return colon === -1 ? undefined : last.slice(colon + 1);
}

/**
 * Whether an image reference names one fixed image: a well-formed sha256 digest, or a
 * well-formed tag other than `latest` (which moves).
 */
export function isPinnedImageRef(ref: string): boolean {
  if (/\s/.test(ref)) return false;
  const [name, digest, ...rest] = ref.split("@");
  const last = name.slice(name.lastIndexOf("/") + 1);
  if (rest.length > 0 || last === "" || last.startsWith(":")) return false;
  const tag = tagOf(name);
  if (tag !== undefined && !TAG.test(tag)) return false;
  if (digest !== undefined) return DIGEST.test(digest);
  return tag !== undefined && tag !== "latest";
}
