import { dirname } from "node:path";
import type { FileKind, FileReader } from "../../controller/repository/file-reader.js";

/** A {@link FileReader} over files held in memory, counting the reads of each path. */
export function createMemoryReader(files: Readonly<Record<string, string>>): FileReader & {
  readonly reads: Map<string, number>;
} {
  const dirs = new Set<string>();
  for (const f of Object.keys(files)) {
    for (let d = dirname(f); !dirs.has(d); d = dirname(d)) {
      dirs.add(d);
      if (dirname(d) === d) break;
    }
  }
  const reads = new Map<string, number>();
  return {
    reads,
    kind(path: string): FileKind | undefined {
      if (path in files) return "file";
      return dirs.has(path) ? "directory" : undefined;
    },
    readText(path: string): string {
      reads.set(path, (reads.get(path) ?? 0) + 1);
      const text = files[path];
      if (text === undefined) throw new Error(`no file ${path} in memory`);
      return text;
    },
    list(dir: string): string[] {
      const names = new Set<string>();
      for (const p of [...Object.keys(files), ...dirs]) {
        if (p !== dir && dirname(p) === dir) names.add(p.slice(dir.length + 1));
      }
      return [...names].sort();
    },
  };
}
