import { readdirSync, readFileSync, statSync } from "node:fs";
import { InputError } from "../diagnostics/problem.js";
import type { FileKind, FileReader } from "../repository/file-reader.js";
import { cannotRead, readErrorReasonOrThrow } from "../util/input.js";

/** {@link FileReader} over node:fs: the one place the repository generator's reads happen. */
export const nodeFileReader: FileReader = {
  kind(path: string): FileKind | undefined {
    try {
      const st = statSync(path, { throwIfNoEntry: false });
      if (!st) return undefined;
      return st.isFile() ? "file" : st.isDirectory() ? "directory" : "other";
    } catch {
      return undefined;
    }
  },
  readText(path: string): string {
    try {
      return readFileSync(path, "utf8");
    } catch (e) {
      throw new InputError([cannotRead(path, readErrorReasonOrThrow(e))]);
    }
  },
  list(dir: string): string[] {
    try {
      return readdirSync(dir).sort();
    } catch {
      return [];
    }
  },
};
