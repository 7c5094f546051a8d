/**
 * Checks an output file's path before a command does its work, so a path that cannot be
 * written is one clear problem up front (not a stack trace after an hour of simulation).
 */
import { dirname } from "node:path";
import { InputError } from "../diagnostics/problem.js";
import { fileProblem, type InputReader } from "../util/input.js";

/** `cannot write: <why>`: the one wording for an output that cannot be written. */
export function cannotWrite(file: string, why: string): InputError {
  return new InputError([fileProblem(file, `cannot write: ${why}`)]);
}

/**
 * Throws an InputError unless `file` can be written: it must not be a directory or a
 * device, and its folder must exist. (Permissions are found out when writing.)
 */
export async function checkOutputFile(reader: InputReader, file: string): Promise<void> {
  if (file === "-" || file === "") throw cannotWrite(file || "''", "expected a file name");
  const kind = await reader.kind(file);
  if (kind === "directory") throw cannotWrite(file, "is a directory, not a file");
  if (kind === "other") throw cannotWrite(file, "is not a regular file");
  const parent = dirname(file);
  const parentKind = await reader.kind(parent);
  if (parentKind === "missing") throw cannotWrite(file, `the folder ${parent} does not exist`);
  if (parentKind !== "directory") throw cannotWrite(file, `${parent} is not a directory`);
}
