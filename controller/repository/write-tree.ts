import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";

/**
 * Atomic replacement of a generated folder: the new tree is written beside the target in
 * a temporary folder and swapped in with renames, so a reader (or a crash) sees the old
 * tree or the new one, never half of each. A tree equal to what is on disk is left alone.
 */

/** Files of a tree by path relative to its root (always `/`-separated). */
export type Tree = ReadonlyMap<string, Uint8Array>;

/** Whether the target changed, and which paths differ. */
export interface TreeDiff {
  readonly changed: boolean;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly modified: readonly string[];
}

/** Reads every file under `root` into a Tree (empty when `root` does not exist). */
export function readTree(root: string): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  if (!existsSync(root)) return out;
  const walk = (dir: string, prefix: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(dir, e.name), rel);
      else out.set(rel, readFileSync(join(dir, e.name)));
    }
  };
  walk(root, "");
  return out;
}

/** Compares a wanted tree with what is on disk at `root`. */
export function diffTree(root: string, want: Tree): TreeDiff {
  const have = readTree(root);
  const added: string[] = [];
  const modified: string[] = [];
  for (const [p, bytes] of want) {
    const old = have.get(p);
    if (!old) added.push(p);
    else if (Buffer.compare(Buffer.from(old), Buffer.from(bytes)) !== 0) modified.push(p);
  }
  const removed = [...have.keys()].filter((p) => !want.has(p));
  return {
    changed: added.length + removed.length + modified.length > 0,
    added: added.sort(),
    removed: removed.sort(),
    modified: modified.sort(),
  };
}

/**
 * Makes `root` hold exactly `tree`, atomically: writes `<root>.tmp-<pid>`, moves the old
 * folder aside, renames the new one in, then deletes the old one. Returns the diff
 * against what was there; when nothing changed, nothing is written.
 */
export function replaceTree(root: string, tree: Tree): TreeDiff {
  const diff = diffTree(root, tree);
  if (!diff.changed) return diff;
  const parent = dirname(root);
  mkdirSync(parent, { recursive: true });
  const tmp = `${root}.tmp-${process.pid}`;
  const old = `${root}.old-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp, { recursive: true });
    for (const [p, bytes] of tree) {
      const file = join(tmp, ...p.split("/"));
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, bytes);
    }
    if (existsSync(root)) renameSync(root, old);
    renameSync(tmp, root);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (!existsSync(root) && existsSync(old)) renameSync(old, root);
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
  return diff;
}
