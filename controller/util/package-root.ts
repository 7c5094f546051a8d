import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The installed package's root folder (the one with package.json), found by walking up
 * from this module, so `protos/` and `repo-templates/` resolve the same from `dist/` and
 * from an installed copy.
 */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "protos"))) return dir;
    const up = dirname(dir);
    if (up === dir)
      throw new Error(
        `cannot find the tritonscale package root above ${fileURLToPath(import.meta.url)}`,
      );
    dir = up;
  }
})();

/** `protos/` inside the package. */
export const protosDir: string = join(packageRoot, "protos");

/** `repo-templates/` inside the package. */
export const templatesDir: string = join(packageRoot, "repo-templates");
