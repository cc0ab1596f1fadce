export * from "./schema";
export * from "./mesh";
export * from "./consistency";

import { composeConsistencyIssues } from "./consistency";
import { composeMeshIssues } from "./mesh";
import { composeSchemaIssues, sortIssues, type ComposeIssue } from "./schema";

/**
 * What compose itself would refuse (schema, then references), plus the mesh's rules: the full
 * check of a compose file the render writes. Mesh rules run only on a schema-valid document.
 */
export function composeFileIssues(doc: unknown): ComposeIssue[] {
  const schema = composeSchemaIssues(doc);
  if (schema.length > 0) return schema;
  return sortIssues([...composeConsistencyIssues(doc), ...composeMeshIssues(doc)]);
}
