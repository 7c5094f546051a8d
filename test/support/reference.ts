import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The project root (tests run from dist/test/..., so walk up to package.json). */
export const projectRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const up = dirname(dir);
    if (up === dir)
      throw new Error("cannot find the project root (no package.json above the tests)");
    dir = up;
  }
  return dir;
})();

/** `../shared/reference` beside the project root; a user's clone has none. */
export const referenceDir: string = resolve(projectRoot, "..", "shared", "reference");

/** Whether CI is running: there every conformance test must run, never skip. */
export const onCI: boolean = process.env.CI === "true";

/**
 * Skips the calling test (or suite, from a `before` hook) when `../shared/reference` is
 * absent, with a message saying so. On CI the absence is a failure, not a skip.
 */
export function requireReference(ctx: Mocha.Context, sub = ""): string {
  const dir = join(referenceDir, sub);
  if (!existsSync(dir)) {
    const msg = `${dir} is absent: these tests check against upstream reference data that only a tritonscale developer checkout has`;
    if (onCI) throw new Error(msg);
    console.warn(`    skipped: ${msg}`);
    ctx.skip();
  }
  return dir;
}
