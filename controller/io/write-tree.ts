import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import type { TreeFile } from "../repository/tree.js";

/**
 * File-level helpers of the writers (`write-repository.ts`): listing, comparing and writing
 * tree files. Model files are copied (and compared) streamed, never held in memory whole.
 */

/** Whether the target changed, and which paths differ. */
export interface TreeDiff {
  readonly changed: boolean;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly modified: readonly string[];
}

/** Paths of the files under `root`, relative and `/`-separated (empty when `root` does not exist). */
export function listTreeFiles(root: string): string[] {
  const out: string[] = [];
  if (!existsSync(root)) return out;
  const walk = (dir: string, prefix: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(dir, e.name), rel);
      else out.push(rel);
    }
  };
  walk(root, "");
  return out;
}

/** Reads every file under `root` into memory (for tests and small trees). */
export function readTree(root: string): Map<string, Uint8Array> {
  return new Map(listTreeFiles(root).map((p) => [p, readFileSync(join(root, ...p.split("/")))]));
}

const CHUNK = 1 << 16;

/** Whether two files hold the same bytes, read in chunks. */
function sameFiles(a: string, b: string): boolean {
  if (statSync(a).size !== statSync(b).size) return false;
  const fa = openSync(a, "r");
  const fb = openSync(b, "r");
  try {
    const ba = Buffer.alloc(CHUNK);
    const bb = Buffer.alloc(CHUNK);
    for (;;) {
      const na = readSync(fa, ba, 0, CHUNK, null);
      const nb = readSync(fb, bb, 0, CHUNK, null);
      if (na !== nb || ba.compare(bb, 0, nb, 0, na) !== 0) return false;
      if (na === 0) return true;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/** Whether the file at `path` already holds `want`. */
export function sameContent(path: string, want: TreeFile): boolean {
  if ("copyFrom" in want) return sameFiles(want.copyFrom, path);
  if (statSync(path).size !== want.byteLength) return false;
  return Buffer.compare(readFileSync(path), want) === 0;
}

/** Writes `want` to `path` (a new file): bytes as they are, a model file by a streamed copy. */
export function writeTreeFile(path: string, want: TreeFile): void {
  mkdirSync(dirname(path), { recursive: true });
  if ("copyFrom" in want) copyFileSync(want.copyFrom, path);
  else writeFileSync(path, want);
}
