import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runGenerate } from "../../controller/cli/generate.js";
import {
  OWNER_FILE,
  planRepository,
  type RepositoryStep,
  writeRepository,
} from "../../controller/io/write-repository.js";
import { readTree } from "../../controller/io/write-tree.js";
import type { Tree } from "../../controller/repository/tree.js";
import { capture } from "../support/io.js";

const enc = (s: string) => new TextEncoder().encode(s);

/** A pool file with the given models (name → template), in `dir`. */
function writePool(
  dir: string,
  file: string,
  name: string,
  models: readonly string[],
  namespace = "vision",
): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    [
      "apiVersion: tritonscale.dev/v1alpha1",
      "kind: ModelPool",
      `metadata: { name: ${name}, namespace: ${namespace} }`,
      "spec:",
      "  models:",
      ...models.flatMap((m) => [
        `    - name: ${m}`,
        "      template: yolov8-onnx",
        "      imageSize: 640",
        "      classes: 80",
      ]),
      "  slo: { latencyP99Ms: 85 }",
      "",
    ].join("\n"),
  );
  return path;
}

/** A file map as JSON with sorted keys, for comparing. */
function norm(files: Record<string, string> | undefined): string | undefined {
  return files && JSON.stringify(Object.fromEntries(Object.entries(files).sort()));
}

/** The files under `dir` with their text, following the repository link. */
function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(
    [...readTree(dir)].map(([p, b]) => [p, new TextDecoder().decode(b)] as const),
  );
}

describe("generate: several pools share one --out, each replaces only what it owns", () => {
  let work = "";
  let out = "";
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "tritonscale-own-"));
    out = join(work, "out");
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  async function generate(pool: string, ...extra: string[]) {
    const io = capture();
    const code = await runGenerate([pool, "--out", out, ...extra], io.io);
    return { code, out: io.out(), err: io.err() };
  }

  it("a second pool keeps the first pool's manifests file and model folders (it deleted them: '1 removed files')", async () => {
    const a = writePool(work, "a.yaml", "alpha", ["det-a"]);
    const b = writePool(work, "b.yaml", "beta", ["det-b"]);
    expect((await generate(a)).code).to.equal(0);
    const second = await generate(b);
    expect(second.code).to.equal(0);
    expect(second.out).to.contain("0 removed files");
    expect(readdirSync(join(out, "manifests")).sort()).to.deep.equal([
      "vision-alpha.yaml",
      "vision-beta.yaml",
    ]);
    expect(readdirSync(join(out, "model-repository")).sort()).to.deep.equal(["det-a", "det-b"]);
    expect(readFileSync(join(out, "model-repository", "det-a", OWNER_FILE), "utf8")).to.equal(
      '{"pool":"vision/alpha","files":["config.pbtxt"]}\n',
    );
    expect((await generate(a)).out).to.match(/model-repository: unchanged/);
    expect((await generate(b, "--check")).code).to.equal(0);
  });

  it("a model folder written for another pool is an error naming both pools; nothing is written", async () => {
    const a = writePool(work, "a.yaml", "alpha", ["shared"]);
    const b = writePool(work, "b.yaml", "beta", ["shared", "other"]);
    expect((await generate(a)).code).to.equal(0);
    const before = snapshot(join(out, "model-repository"));
    const link = readlinkSync(join(out, "model-repository"));
    for (const extra of [[], ["--check"]]) {
      const r = await generate(b, ...extra);
      expect(r.code).to.equal(1);
      expect(r.err).to.contain(
        `${out}/model-repository/shared: cannot write: model folder belongs to pool vision/alpha, and pool vision/beta also generates model "shared"`,
      );
    }
    expect(snapshot(join(out, "model-repository"))).to.deep.equal(before);
    expect(readlinkSync(join(out, "model-repository"))).to.equal(link);
    expect(existsSync(join(out, "manifests", "vision-beta.yaml"))).to.equal(false);
  });

  it("the manifests file of another pool with the same file name is an error naming both pools", async () => {
    const a = writePool(work, "a.yaml", "c", ["one"], "a-b");
    const b = writePool(work, "b.yaml", "b-c", ["two"], "a");
    expect((await generate(a)).code).to.equal(0);
    const before = readFileSync(join(out, "manifests", "a-b-c.yaml"), "utf8");
    const r = await generate(b);
    expect(r.code).to.equal(1);
    expect(r.err).to.contain(
      `${out}/manifests/a-b-c.yaml: cannot write: holds the objects of pool a-b/c, and pool a/b-c writes to the same file name`,
    );
    expect(readFileSync(join(out, "manifests", "a-b-c.yaml"), "utf8")).to.equal(before);
    expect(readdirSync(join(out, "model-repository"))).to.deep.equal(["one"]);
  });

  it("a manifests file not written by tritonscale is not replaced", async () => {
    mkdirSync(join(out, "manifests"), { recursive: true });
    writeFileSync(join(out, "manifests", "vision-alpha.yaml"), "kind: ConfigMap\n");
    const r = await generate(writePool(work, "a.yaml", "alpha", ["det"]));
    expect(r.code).to.equal(1);
    expect(r.err).to.contain(
      `${out}/manifests/vision-alpha.yaml: cannot write: was not written by tritonscale for pool vision/alpha`,
    );
    expect(existsSync(join(out, "model-repository"))).to.equal(false);
  });

  it("a symbolic link tritonscale did not make is not replaced", async () => {
    mkdirSync(join(work, "elsewhere"));
    mkdirSync(out);
    symlinkSync(join(work, "elsewhere"), join(out, "model-repository"));
    const r = await generate(writePool(work, "a.yaml", "alpha", ["det"]));
    expect(r.code).to.equal(1);
    expect(r.err).to.contain(
      `${out}/model-repository: cannot write: is a symbolic link tritonscale did not make (to ${work}/elsewhere)`,
    );
    expect(readdirSync(join(work, "elsewhere"))).to.deep.equal([]);
  });

  it("a link whose tree was deleted is written anew", async () => {
    const a = writePool(work, "a.yaml", "alpha", ["det"]);
    expect((await generate(a)).code).to.equal(0);
    rmSync(join(out, ".model-repository.trees"), { recursive: true });
    expect((await generate(a)).code).to.equal(0);
    expect(readdirSync(join(out, "model-repository"))).to.deep.equal(["det"]);
  });

  it("a folder not written by tritonscale is kept, and refused as a model folder", async () => {
    const repo = join(out, "model-repository");
    mkdirSync(join(repo, "by-hand"), { recursive: true });
    writeFileSync(join(repo, "by-hand", "config.pbtxt"), 'name: "by-hand"\n');
    writeFileSync(join(repo, "NOTES.txt"), "mine\n");
    const a = writePool(work, "a.yaml", "alpha", ["det"]);
    expect((await generate(a, "--convert-folder")).code).to.equal(0);
    expect(lstatSync(repo).isSymbolicLink()).to.equal(true);
    expect(snapshot(repo)).to.include({
      "by-hand/config.pbtxt": 'name: "by-hand"\n',
      "NOTES.txt": "mine\n",
    });
    const clash = writePool(work, "c.yaml", "alpha", ["det", "by-hand"]);
    const r = await generate(clash);
    expect(r.code).to.equal(1);
    expect(r.err).to.contain(
      `${repo}/by-hand: cannot write: model folder was not written by tritonscale (no ${OWNER_FILE}); move it away or rename model "by-hand" of pool vision/alpha`,
    );
  });

  it("a file put into the pool's model folder by hand is kept, and never overwritten", async () => {
    const a = writePool(work, "a.yaml", "alpha", ["det", "two"]);
    expect((await generate(a)).code).to.equal(0);
    const repo = join(out, "model-repository");
    mkdirSync(join(repo, "det", "1"));
    writeFileSync(join(repo, "det", "1", "model.onnx"), "by hand");
    mkdirSync(join(repo, "two", "1"));
    writeFileSync(join(repo, "two", "1", "model.onnx"), "by hand too");
    writeFileSync(a, readFileSync(a, "utf8").replace("imageSize: 640", "imageSize: 320"));
    expect((await generate(a)).code).to.equal(0);
    expect(readFileSync(join(repo, "det", "1", "model.onnx"), "utf8")).to.equal("by hand");

    // Dropping the model removes what the pool wrote there, not the hand-made file.
    writePool(work, "a.yaml", "alpha", ["det"]);
    expect((await generate(a)).code).to.equal(0);
    expect(snapshot(join(repo, "two"))).to.deep.equal({ "1/model.onnx": "by hand too" });

    writeFileSync(join(work, "det.onnx"), "from the pool");
    writeFileSync(
      a,
      readFileSync(a, "utf8").replace("classes: 80", "classes: 80\n      modelFile: det.onnx"),
    );
    const r = await generate(a);
    expect(r.code).to.equal(1);
    expect(r.err).to.contain(
      `${repo}/det/1/model.onnx: cannot write: was not written by tritonscale; move it away, or pool vision/alpha cannot write its model "det"`,
    );
    expect(readFileSync(join(repo, "det", "1", "model.onnx"), "utf8")).to.equal("by hand");
  });

  it("a model the pool no longer has is removed; other pools' folders stay", async () => {
    const a = writePool(work, "a.yaml", "alpha", ["one", "two"]);
    const b = writePool(work, "b.yaml", "beta", ["three"]);
    expect((await generate(a)).code).to.equal(0);
    expect((await generate(b)).code).to.equal(0);
    writePool(work, "a.yaml", "alpha", ["one"]);
    const r = await generate(a);
    expect(r.out).to.match(/wrote 1 model \(0 added, 0 changed, 2 removed files\)/);
    expect(readdirSync(join(out, "model-repository")).sort()).to.deep.equal(["one", "three"]);
  });

  it("converts a plain folder from an older tritonscale only with --convert-folder: adopts its pool's folders by their header, keeps the rest", async () => {
    const repo = join(out, "model-repository");
    mkdirSync(join(repo, "det"), { recursive: true });
    writeFileSync(
      join(repo, "det", "config.pbtxt"),
      "# Generated by tritonscale from a.yaml (pool alpha, model det, role detector).\nold\n",
    );
    mkdirSync(join(repo, "gone"), { recursive: true });
    writeFileSync(
      join(repo, "gone", "config.pbtxt"),
      "# Generated by tritonscale from a.yaml (pool alpha, model gone, role detector).\nold\n",
    );
    mkdirSync(join(repo, "theirs"), { recursive: true });
    writeFileSync(
      join(repo, "theirs", "config.pbtxt"),
      "# Generated by tritonscale from b.yaml (pool beta, model theirs, role detector).\n",
    );
    const a = writePool(work, "a.yaml", "alpha", ["det"]);
    // Without --convert-folder: refused, nothing touched (the conversion has a moment where
    // the path is missing, which a Triton polling it would see).
    const refused = await generate(a);
    expect(refused.code).to.equal(1);
    expect(refused.err).to.contain(`${repo}: cannot write: is a plain folder;`);
    expect(refused.err).to.contain("pass --convert-folder");
    expect(lstatSync(repo).isDirectory()).to.equal(true);
    expect(readFileSync(join(repo, "det", "config.pbtxt"), "utf8")).to.contain("\nold\n");
    const checked = await generate(a, "--check");
    expect(checked.code).to.equal(1);
    expect(checked.err).not.to.contain("--convert-folder");

    const r = await generate(a, "--convert-folder");
    expect(r.code).to.equal(0);
    expect(r.out).to.contain("was a plain folder: it is now a link");
    expect(lstatSync(repo).isSymbolicLink()).to.equal(true);
    expect(readdirSync(repo).sort()).to.deep.equal(["det", "theirs"]);
    expect(readFileSync(join(repo, "det", "config.pbtxt"), "utf8")).to.contain('name: "det"');

    const clash = writePool(work, "b.yaml", "alpha", ["theirs"]);
    const c = await generate(clash);
    expect(c.code).to.equal(1);
    expect(c.err).to.contain("model folder belongs to pool beta, and pool vision/alpha");
  });

  it("unchanged model folders keep their times across a flip (Triton's poll mode would reload them)", async () => {
    const a = writePool(work, "a.yaml", "alpha", ["det", "same"]);
    const b = writePool(work, "b.yaml", "beta", ["theirs"]);
    expect((await generate(a)).code).to.equal(0);
    expect((await generate(b)).code).to.equal(0);
    const repo = join(out, "model-repository");
    const past = new Date("2024-01-01T00:00:00Z");
    for (const m of ["det", "same", "theirs"]) utimesSync(join(repo, m), past, past);
    writeFileSync(a, readFileSync(a, "utf8").replace("imageSize: 640", "imageSize: 320"));
    expect((await generate(a)).out).to.match(/1 changed/);
    expect(statSync(join(repo, "theirs")).mtime).to.deep.equal(past);
    expect(statSync(join(repo, "same")).mtime).to.deep.equal(past);
    expect(statSync(join(repo, "det")).mtime).not.to.deep.equal(past);
  });

  it("keeps the current and the previous tree, deleting older ones", async () => {
    const a = writePool(work, "a.yaml", "alpha", ["det"]);
    for (const size of [320, 640, 1280]) {
      writeFileSync(a, readFileSync(a, "utf8").replace(/imageSize: \d+/, `imageSize: ${size}`));
      expect((await generate(a)).code).to.equal(0);
    }
    const trees = readdirSync(join(out, ".model-repository.trees"));
    expect(trees).to.have.lengthOf(2);
    expect(trees).to.include(readlinkSync(join(out, "model-repository")).split("/")[1]);
  });

  it("a running generate's lock is respected; a dead one's is taken over", async () => {
    const a = writePool(work, "a.yaml", "alpha", ["det"]);
    mkdirSync(out);
    writeFileSync(join(out, ".model-repository.lock"), `${process.pid}\n`);
    const held = await generate(a);
    expect(held.code).to.equal(1);
    expect(held.err).to.contain(`another tritonscale generate (pid ${process.pid}) is writing it`);
    writeFileSync(join(out, ".model-repository.lock"), "999999999\n");
    expect((await generate(a)).code).to.equal(0);
    expect(existsSync(join(out, ".model-repository.lock"))).to.equal(false);
  });

  it("copies the model file and sees it unchanged (compared streamed) until it changes", async () => {
    writeFileSync(join(work, "det.onnx"), Buffer.alloc(300_000, 7));
    const a = writePool(work, "a.yaml", "alpha", ["det"]);
    writeFileSync(
      a,
      readFileSync(a, "utf8").replace("classes: 80", "classes: 80\n      modelFile: det.onnx"),
    );
    expect((await generate(a)).code).to.equal(0);
    expect(readFileSync(join(out, "model-repository", "det", "1", "model.onnx"))).to.deep.equal(
      Buffer.alloc(300_000, 7),
    );
    expect((await generate(a, "--check")).code).to.equal(0);
    const changed = Buffer.alloc(300_000, 7);
    changed[299_999] = 8;
    writeFileSync(join(work, "det.onnx"), changed);
    const check = await generate(a, "--check");
    expect(check.code).to.equal(1);
    expect(check.out).to.contain(`would change ${out}/model-repository/det/1/model.onnx`);
  });
});

describe("writeRepository: the repository path always resolves to a complete tree", () => {
  let work = "";
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "tritonscale-flip-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const treeA: Tree = new Map([
    ["m/config.pbtxt", enc("a\n")],
    ["n/config.pbtxt", enc("n\n")],
  ]);
  const treeB: Tree = new Map([
    ["m/config.pbtxt", enc("b\n")],
    ["m/1/model.py", enc("py\n")],
  ]);

  /** Writes `tree`, snapshotting the repository after every step. */
  function writeObserved(root: string, tree: Tree) {
    const plan = planRepository(root, "vision/p", tree);
    expect(plan.problems).to.deep.equal([]);
    const seen: { step: RepositoryStep; files: Record<string, string> | undefined }[] = [];
    writeRepository(plan, (step) => {
      seen.push({ step, files: existsSync(root) ? snapshot(root) : undefined });
    });
    return seen;
  }

  const marker = (files: string) => `{"pool":"vision/p","files":[${files}]}\n`;
  const filesA = {
    [`m/${OWNER_FILE}`]: marker('"config.pbtxt"'),
    "m/config.pbtxt": "a\n",
    "n/config.pbtxt": "n\n",
    [`n/${OWNER_FILE}`]: marker('"config.pbtxt"'),
  };
  const filesB = {
    [`m/${OWNER_FILE}`]: marker('"1/model.py","config.pbtxt"'),
    "m/config.pbtxt": "b\n",
    "m/1/model.py": "py\n",
  };

  it("over an existing link: the old tree until one rename, then the new one", () => {
    const root = join(work, "model-repository");
    writeObserved(root, treeA);
    const seen = writeObserved(root, treeB);
    expect(seen.map((s) => s.step)).to.deep.equal([
      "locked",
      "tree-written",
      "link-created",
      "link-flipped",
      "cleaned",
      "unlocked",
    ]);
    for (const s of seen) {
      expect([norm(filesA), norm(filesB)], s.step).to.include(norm(s.files));
    }
    expect(seen.findIndex((s) => s.files?.["m/config.pbtxt"] === "b\n")).to.equal(3);
  });

  it("a plan made before another write flipped the link is refused, not applied over it", () => {
    const root = join(work, "model-repository");
    writeObserved(root, treeA);
    const stale = planRepository(root, "vision/p", treeB);
    writeObserved(root, new Map([["m/config.pbtxt", enc("c\n")]]));
    expect(() => writeRepository(stale)).to.throw(/changed it meanwhile/);
    expect(snapshot(root)["m/config.pbtxt"]).to.equal("c\n");
  });

  it("the first write: nothing, then the whole tree", () => {
    const root = join(work, "model-repository");
    const seen = writeObserved(root, treeA);
    for (const s of seen) {
      expect([undefined, norm(filesA)], s.step).to.include(norm(s.files));
    }
  });

  it("migrating a plain folder: whole trees, missing only between the migration's two renames", () => {
    const root = join(work, "model-repository");
    mkdirSync(join(root, "x"), { recursive: true });
    writeFileSync(join(root, "x", "config.pbtxt"), "theirs\n");
    const seen = writeObserved(root, treeB);
    const before = { "x/config.pbtxt": "theirs\n" };
    const after = { ...before, ...filesB };
    const missing = seen.filter((s) => s.files === undefined).map((s) => s.step);
    expect(missing).to.deep.equal(["moved-aside"]);
    for (const s of seen.filter((x) => x.files !== undefined)) {
      expect([norm(before), norm(after)], s.step).to.include(norm(s.files));
    }
  });
});
