import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { createInputReader } from "../../controller/cli/read-input.js";
import { FileHistoryStore, historyFileName } from "../../controller/kube/history-files.js";
import { HISTORY_MAX_BYTES } from "../../controller/loop/history.js";

/** The scaler history's file store (`controller --pools DIR --history-dir DIR2`). */
describe("kube history files: a pool's learned history in --history-dir", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-history-"));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  const yolo = { namespace: "vision", name: "yolo" };

  it("loads nothing before a save; saves atomically (no temporary file left) and loads back", async () => {
    const store = new FileHistoryStore(join(dir, "histories"), createInputReader());
    expect(await store.load(yolo)).to.equal(undefined);
    await store.save(yolo, "v1\n1 2 3\n");
    await store.save(yolo, "v1\n4 5 6 é\n");
    expect(await store.load(yolo)).to.equal("v1\n4 5 6 é\n");
    expect(readdirSync(join(dir, "histories"))).to.deep.equal(["vision_yolo.history"]);
  });

  const names = [
    {
      name: "namespace and name",
      a: { namespace: "a-b", name: "c" },
      b: { namespace: "a", name: "b-c" },
    },
    {
      name: "same name, other namespace",
      a: { namespace: "x", name: "p" },
      b: { namespace: "y", name: "p" },
    },
  ];
  for (const row of names) {
    it(`pools that differ in ${row.name} get files of their own`, async () => {
      const store = new FileHistoryStore(dir, createInputReader());
      await store.save(row.a, "A");
      await store.save(row.b, "B");
      expect(historyFileName(dir, row.a)).not.to.equal(historyFileName(dir, row.b));
      expect([await store.load(row.a), await store.load(row.b)]).to.deep.equal(["A", "B"]);
    });
  }

  it(`refuses a history over ${HISTORY_MAX_BYTES} bytes and writes nothing`, async () => {
    const store = new FileHistoryStore(dir, createInputReader());
    const err = await store
      .save(yolo, "é".repeat(HISTORY_MAX_BYTES / 2 + 1))
      .catch((e: Error) => e);
    expect((err as Error).message).to.match(
      new RegExp(
        `: ${HISTORY_MAX_BYTES + 2} bytes is more than the ${HISTORY_MAX_BYTES} a history may take$`,
      ),
    );
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  it("a folder that cannot be written (a file in its place) rejects, naming the pool", async () => {
    writeFileSync(join(dir, "taken"), "");
    const store = new FileHistoryStore(join(dir, "taken"), createInputReader());
    const err = await store.save(yolo, "h").catch((e: Error) => e);
    expect((err as Error).message).to.match(/^saving the history of vision\/yolo: /);
  });

  const unreadable = [
    {
      name: "a folder where the file should be",
      make: (file: string) => mkdirSync(file),
      says: /cannot read/,
    },
    {
      name: `a file over ${HISTORY_MAX_BYTES} bytes`,
      make: (file: string) => writeFileSync(file, "x".repeat(HISTORY_MAX_BYTES + 1)),
      says: /larger than the .* limit/,
    },
  ];
  for (const row of unreadable) {
    it(`a history that cannot be read (${row.name}) rejects, naming the pool and the file`, async () => {
      row.make(historyFileName(dir, yolo));
      const err = await new FileHistoryStore(dir, createInputReader())
        .load(yolo)
        .catch((e: Error) => e);
      expect((err as Error).message).to.match(
        /^loading the history of vision\/yolo: .*vision_yolo\.history: /,
      );
      expect((err as Error).message).to.match(row.says);
    });
  }
});
