import { randomBytes } from "node:crypto";
import { chmod, mkdir, realpath, rename, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { assertOutputPath, rethrowWriteError } from "./output-path.js";

/**
 * Replaces (or creates) `file` with `content` through a temporary file in the same folder
 * and a rename, so it is never half-written; an existing file keeps its mode. A path that
 * cannot be written (a directory, a device, a missing folder, no permission) is an
 * InputError `<file>: cannot write: <reason>`, checked before writing. With
 * `createFolder`, a missing folder is created first. Through a symbolic link, the file it
 * names is replaced and the link kept.
 */
export async function writeFileAtomic(
  file: string,
  content: string | Uint8Array,
  options: { readonly createFolder?: boolean } = {},
): Promise<void> {
  if (options.createFolder) {
    assertOutputPath(dirname(file), "directory");
    await mkdir(dirname(file), { recursive: true }).catch((e) => rethrowWriteError(file, e));
  }
  assertOutputPath(file, "file");
  // Through a symbolic link, replace the file it names, not the link.
  const target = await realpath(file).catch(() => file);
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(tmp, content, { flag: "wx" });
    const mode = await stat(target).then(
      (s) => s.mode & 0o7777,
      () => undefined,
    );
    if (mode !== undefined) await chmod(tmp, mode);
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    rethrowWriteError(file, e);
  }
}
