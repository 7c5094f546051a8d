import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "chai";
import { runGenerate } from "../../controller/cli/generate.js";
import { runSimulate } from "../../controller/cli/simulate.js";
import { InputError } from "../../controller/diagnostics/problem.js";
import { writeFileAtomic } from "../../controller/util/atomic-file.js";
import { checkOutputPath } from "../../controller/util/output-path.js";
import { capture } from "../support/io.js";
import { projectRoot } from "../support/reference.js";

const example = join(projectRoot, "examples", "yolov8-pool.yaml");

describe("output paths: a path that cannot be written is one problem line, exit 1", () => {
  let work = "";
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "tritonscale-outputs-"));
    writeFileSync(join(work, "FILE"), "mine");
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const cases: readonly {
    readonly name: string;
    readonly out: (work: string) => string;
    readonly error: (work: string) => string;
  }[] = [
    {
      name: "--out FILE (was EEXIST, exit 70)",
      out: (w) => join(w, "FILE"),
      error: (w) => `${w}/FILE: cannot write: is a file, not a directory`,
    },
    {
      name: "--out /dev/null (was EEXIST, exit 70)",
      out: () => "/dev/null",
      error: () => "/dev/null: cannot write: is not a directory",
    },
    {
      name: "--out FILE/sub (was ENOTDIR, exit 70)",
      out: (w) => join(w, "FILE", "sub"),
      error: (w) => `${w}/FILE/sub: cannot write: ${w}/FILE is a file, not a directory`,
    },
    {
      name: "--out /proc/x (recursive mkdir looped forever)",
      out: () => "/proc/x",
      error: () => "/proc/x: cannot write: /proc is a virtual file system of the kernel",
    },
    {
      name: "--out /proc/self (recursive mkdir looped forever)",
      out: () => "/proc/self",
      error: () => "/proc/self: cannot write: /proc is a virtual file system of the kernel",
    },
    {
      name: "--out /sys/x",
      out: () => "/sys/x",
      error: () => "/sys/x: cannot write: /sys is a virtual file system of the kernel",
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const io = capture();
      expect(await runGenerate([example, "--out", c.out(work)], io.io)).to.equal(1);
      const lines = io.err().trim().split("\n");
      expect(lines[0]).to.equal(c.error(work));
      expect(io.err()).not.to.match(/\n\s+at /);
      expect(readdirSync(work)).to.deep.equal(["FILE"]);
    });
  }

  it("--out DIR where DIR/manifests is a file writes nothing at all (was: model-repository/ written, then ENOTDIR)", async () => {
    const out = join(work, "out");
    mkdirSync(out);
    writeFileSync(join(out, "manifests"), "mine");
    const io = capture();
    expect(await runGenerate([example, "--out", out], io.io)).to.equal(1);
    expect(io.err()).to.contain(`${out}/manifests: cannot write: is a file, not a directory`);
    expect(readdirSync(out)).to.deep.equal(["manifests"]);
  });

  it("--out DIR where DIR/model-repository is a file writes nothing at all", async () => {
    const out = join(work, "out");
    mkdirSync(out);
    writeFileSync(join(out, "model-repository"), "mine");
    const io = capture();
    expect(await runGenerate([example, "--out", out], io.io)).to.equal(1);
    expect(io.err()).to.contain(
      `${out}/model-repository: cannot write: is a file, not a directory`,
    );
    expect(readdirSync(out)).to.deep.equal(["model-repository"]);
  });

  it("--out in a folder without write permission (as root: run as nobody; skipped when nobody cannot read the project)", async function () {
    const locked = join(work, "locked");
    mkdirSync(locked, { mode: 0o555 });
    const expected = `${locked}/out: cannot write: permission denied on ${locked}`;
    if (process.getuid?.() !== 0) {
      const io = capture();
      expect(await runGenerate([example, "--out", join(locked, "out")], io.io)).to.equal(1);
      expect(io.err()).to.contain(expected);
      return;
    }
    // Root may write anywhere: run the command as the unprivileged user nobody (65534),
    // which may read the project and traverse the work folder but not write into `locked`.
    chmodSync(work, 0o755);
    const main = join(projectRoot, "dist", "controller", "cli", "main.js");
    const nobody = { uid: 65534, gid: 65534, encoding: "utf8" } as const;
    const readable = spawnSync(
      process.execPath,
      ["-e", `for (const f of ${JSON.stringify([main, example])}) require("fs").accessSync(f)`],
      nobody,
    );
    if (readable.status !== 0) this.skip();
    const r = spawnSync(
      process.execPath,
      [main, "generate", example, "--out", join(locked, "out")],
      {
        uid: 65534,
        gid: 65534,
        encoding: "utf8",
      },
    );
    expect(r.status, r.stderr).to.equal(1);
    expect(r.stderr).to.contain(expected);
    expect(readdirSync(locked)).to.deep.equal([]);
  });

  it("simulate --timeline DIR is refused before the run (was EISDIR after it, exit 70)", async () => {
    const io = capture();
    const code = await runSimulate(
      [
        "--pool",
        example,
        "--trace",
        "synthetic:steady:rate=5:duration=10m",
        "--scaler",
        "hpa-gpu",
        "--timeline",
        work,
      ],
      io.io,
    );
    expect(code).to.equal(1);
    expect(io.err().trim()).to.equal(`${work}: cannot write: is a directory, not a file`);
    expect(io.out()).to.equal("");
  });
});

describe("writeFileAtomic: a path that cannot be written is an InputError", () => {
  let work = "";
  beforeEach(() => {
    work = mkdtempSync(join(tmpdir(), "tritonscale-atomic-"));
  });
  afterEach(() => rmSync(work, { recursive: true, force: true }));

  const rows: readonly {
    readonly name: string;
    readonly file: (w: string) => string;
    readonly message: (w: string) => string;
  }[] = [
    {
      name: "a directory (EISDIR)",
      file: (w) => w,
      message: () => "cannot write: is a directory, not a file",
    },
    {
      name: "a missing folder (ENOENT)",
      file: (w) => join(w, "nope", "t.csv"),
      message: (w) => `cannot write: folder ${w}/nope does not exist`,
    },
    {
      name: "below a file (ENOTDIR)",
      file: (w) => join(w, "f", "t.csv"),
      message: (w) => `cannot write: ${w}/f is a file, not a directory`,
    },
    {
      name: "a FIFO, which a rename would replace",
      file: (w) => join(w, "fifo"),
      message: () => "cannot write: is not a regular file",
    },
  ];
  for (const r of rows) {
    it(r.name, async () => {
      writeFileSync(join(work, "f"), "x");
      execFileSync("mkfifo", [join(work, "fifo")]);
      let thrown: unknown;
      try {
        await writeFileAtomic(r.file(work), "content");
      } catch (e) {
        thrown = e;
      }
      expect(thrown).to.be.instanceOf(InputError);
      const p = (thrown as InputError).problems[0]!;
      expect(p.file).to.equal(r.file(work));
      expect(p.message).to.equal(r.message(work));
      expect(readdirSync(work).sort()).to.deep.equal(["f", "fifo"]);
    });
  }

  it("through a symbolic link, replaces the file it names and keeps the link (it replaced the link)", async () => {
    mkdirSync(join(work, "real"));
    writeFileSync(join(work, "real", "pool.yaml"), "old");
    symlinkSync(join(work, "real", "pool.yaml"), join(work, "link.yaml"));
    await writeFileAtomic(join(work, "link.yaml"), "new");
    expect(lstatSync(join(work, "link.yaml")).isSymbolicLink()).to.equal(true);
    expect(readFileSync(join(work, "real", "pool.yaml"), "utf8")).to.equal("new");
  });

  it("writes a new file in an existing folder and checks nothing else", async () => {
    const file = join(work, "new.csv");
    expect(checkOutputPath(file, "file")).to.equal(undefined);
    await writeFileAtomic(file, "a\n");
    expect(existsSync(file)).to.equal(true);
  });
});
