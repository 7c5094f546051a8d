/**
 * A generated folder as data: what `buildRepository` produces and the writer
 * (`controller/io/write-tree.ts`) puts on disk.
 */

/**
 * One file of a tree: its bytes, or the path of a file to copy. Model files are copied by
 * the writer, streamed, so a multi-gigabyte engine is never held in memory.
 */
export type TreeFile = Uint8Array | { readonly copyFrom: string };

/** Files of a tree by path relative to its root (always `/`-separated). */
export type Tree = ReadonlyMap<string, TreeFile>;
