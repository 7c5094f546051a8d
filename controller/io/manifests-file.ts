import { existsSync, readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import type { Problem } from "../diagnostics/problem.js";
import { cannotWrite, checkOutputPath } from "../util/output-path.js";
import { sameContent } from "./write-tree.js";

/**
 * Why the manifests folder `dir` or its file `file` cannot be written (the file is checked
 * only when the folder exists: generate creates a missing one), or undefined.
 */
export function checkManifestsPath(dir: string, file: string): Problem | undefined {
  return (
    checkOutputPath(dir, "directory") ??
    (existsSync(dir) ? checkOutputPath(file, "file") : undefined)
  );
}

/** Whether writing `content` to the manifests file `file` adds it, changes it, or neither. */
export function manifestsFileState(
  file: string,
  content: Uint8Array,
): "added" | "changed" | "unchanged" {
  if (!existsSync(file)) return "added";
  return sameContent(file, content) ? "unchanged" : "changed";
}

/**
 * The pool (`<namespace>/<name>`) whose objects a manifests file written by `generate`
 * holds, read from its first object (`metadata.namespace` and the
 * `app.kubernetes.io/instance` label, with `app.kubernetes.io/managed-by: tritonscale`);
 * undefined when the file was not written by tritonscale.
 */
function manifestsOwner(file: string): string | undefined {
  try {
    const first = parseAllDocuments(readFileSync(file, "utf8"))[0]?.toJS() as
      | { metadata?: { namespace?: unknown; labels?: Record<string, unknown> } }
      | undefined;
    const labels = first?.metadata?.labels ?? {};
    const namespace = first?.metadata?.namespace;
    const instance = labels["app.kubernetes.io/instance"];
    if (labels["app.kubernetes.io/managed-by"] !== "tritonscale") return undefined;
    if (typeof namespace !== "string" || typeof instance !== "string") return undefined;
    return `${namespace}/${instance}`;
  } catch {
    return undefined;
  }
}

/**
 * Why pool `pool` may not replace the existing manifests file `file` (named
 * `<namespace>-<name>.yaml`, which two pools can share: `a-b/c` and `a/b-c`), or
 * undefined when it holds this pool's objects.
 */
export function checkManifestsOwner(file: string, pool: string): Problem | undefined {
  const owner = manifestsOwner(file);
  if (owner === pool) return undefined;
  if (owner === undefined) {
    return cannotWrite(
      file,
      `was not written by tritonscale for pool ${pool}; move it away to generate the pool's objects there`,
    );
  }
  return cannotWrite(
    file,
    `holds the objects of pool ${owner}, and pool ${pool} writes to the same file name; rename one of the pools`,
  );
}
