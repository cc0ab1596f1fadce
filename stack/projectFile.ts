import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadProjectFile, type PulumiProject } from "../checks/pulumi";
import { ConfigError } from "../topology/reader";

/** The project file of a project folder. */
export function projectFilePath(projectDir: string): string {
  return join(projectDir, "Pulumi.yaml");
}

/**
 * The project file, checked with the Pulumi CLI's own rules (its JSON schema and its config
 * declaration checks), so that a file Pulumi would refuse is refused here too, with its message.
 */
export function readProject(projectDir: string): PulumiProject {
  const path = projectFilePath(projectDir);
  if (!existsSync(path)) throw new ConfigError([{ path, message: "not found" }], "invalid project file");
  const { project, problems } = loadProjectFile(path);
  if (project === undefined) throw new ConfigError(problems.map((message) => ({ path, message })), "invalid project file");
  return project;
}
