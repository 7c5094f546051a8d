import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { expect } from "chai";
import { runConfig } from "../../controller/cli/config.js";
import { internalError } from "../../controller/cli/io.js";
import { createInputReader, StreamInputError } from "../../controller/cli/read-input.js";
import { runRender } from "../../controller/cli/render.js";
import { runSimulate } from "../../controller/cli/simulate.js";
import { runTune } from "../../controller/cli/tune.js";
import { runValidate } from "../../controller/cli/validate.js";
import {
  escapeInvisible,
  formatProblem,
  moreProblems,
  type Problem,
  sortProblems,
} from "../../controller/diagnostics/problem.js";
import { capture } from "../support/io.js";
import { projectRoot } from "../support/reference.js";

/** The one input reader, and every command's handling of inputs that cannot be read. */

const EXAMPLE = join(projectRoot, "examples", "yolov8-pool.yaml");
const MAIN = join(projectRoot, "dist", "controller", "cli", "main.js");

function stdin(text: string | Buffer): Readable {
  return Readable.from([typeof text === "string" ? Buffer.from(text) : text]);
}

describe("the input reader", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-inputs-"));
    writeFileSync(join(dir, "text.yaml"), "\ufeffa: 1\n");
    writeFileSync(join(dir, "binary.yaml"), Buffer.from([0x61, 0x3a, 0x20, 0x00, 0x01, 0x02]));
    writeFileSync(join(dir, "latin1.yaml"), Buffer.from([0x61, 0x3a, 0x20, 0xe9, 0x0a]));
    writeFileSync(join(dir, "big.yaml"), "x".repeat(2000));
    mkdirSync(join(dir, "folder"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases: { name: string; path: string; limit?: number; message?: RegExp; text?: string }[] = [
    { name: "a text file, its byte-order mark dropped", path: "text.yaml", text: "a: 1\n" },
    {
      name: "a missing file",
      path: "missing.yaml",
      message: /missing\.yaml: cannot read: no such file or directory$/,
    },
    {
      name: "a directory",
      path: "folder",
      message: /folder: cannot read: is a directory, not a file$/,
    },
    {
      name: "a path through a file",
      path: "text.yaml/sub",
      message: /cannot read: a part of the path is not a directory$/,
    },
    {
      name: "a NUL byte",
      path: "binary.yaml",
      message: /binary\.yaml: not a text file \(binary data at byte 3\); expected a test input$/,
    },
    {
      name: "bytes that are not UTF-8",
      path: "latin1.yaml",
      message: /not a text file \(bytes that are not UTF-8 at byte 3\)/,
    },
    {
      name: "over the size limit",
      path: "big.yaml",
      limit: 1000,
      message:
        /big\.yaml: larger than the 1000 bytes limit for this input; raise it with --max-input-size/,
    },
    { name: "at the size limit", path: "big.yaml", limit: 2000, text: "x".repeat(2000) },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await createInputReader().readText(join(dir, c.path), {
        expected: "a test input",
        ...(c.limit ? { limitBytes: c.limit } : {}),
      });
      if (c.text !== undefined) {
        expect(r.ok).to.equal(true);
        if (r.ok) expect(r.input.text).to.equal(c.text);
      } else {
        expect(r.ok).to.equal(false);
        if (!r.ok) {
          expect(r.problems).to.have.length(1);
          expect(formatProblem(r.problems[0]!)).to.match(c.message!);
        }
      }
    });
  }

  it("an endless device stops at the limit", async () => {
    const r = await createInputReader().readText("/dev/zero", { limitBytes: 4096 });
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.problems[0]!.message).to.match(/larger than the 4 KiB limit/);
  });

  it("reads - from standard input once, as <stdin>", async () => {
    const reader = createInputReader({ stdin: stdin("a: 1\n") });
    const first = await reader.readText("-");
    const second = await reader.readText("-");
    expect(first).to.deep.equal({ ok: true, input: { file: "<stdin>", text: "a: 1\n" } });
    expect(second).to.deep.equal(first);
  });

  it("streams a trace and refuses binary data where it starts", async () => {
    const reader = createInputReader({ stdin: stdin(Buffer.from("0\n1\n\u0000\n")) });
    const opened = await reader.openStream("-", "a CSV trace");
    expect(opened.ok).to.equal(true);
    if (!opened.ok) return;
    let error: unknown;
    try {
      for await (const _ of opened.chunks) {
        // consume
      }
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(StreamInputError);
    expect((error as StreamInputError).problem.message).to.equal(
      "not a text file (binary data at byte 4); expected a CSV trace",
    );
  });

  it("a streamed directory or missing file is a problem before any chunk", async () => {
    const reader = createInputReader();
    for (const [path, why] of [
      [join(dir, "folder"), "is a directory, not a file"],
      [join(dir, "nope.csv"), "no such file or directory"],
    ] as const) {
      const opened = await reader.openStream(path);
      expect(opened.ok).to.equal(false);
      if (!opened.ok) expect(opened.problems[0]!.message).to.equal(`cannot read: ${why}`);
    }
  });
});

describe("problem lines", () => {
  it("escape what a terminal would not show", () => {
    expect(escapeInvisible("a\u0000b\tc\ufeffd\u202ee\u2028f😀\ud800")).to.equal(
      "a\\u0000b\tc\\ufeffd\\u202ee\\u2028f😀\\ud800",
    );
    const p: Problem = { file: "f\u001b[31m", line: 1, col: 2, path: "k", message: "got \u0007" };
    expect(formatProblem(p)).to.equal("f\\u001b[31m:1:2: k: got \\u0007");
  });

  it("print a file's 'and N more' line after its problems", () => {
    const ps: Problem[] = [
      { file: "b", line: 3, col: 1, path: "", message: "third" },
      moreProblems("a", 12),
      { file: "a", line: 9, col: 1, path: "", message: "second" },
      { file: "a", line: 1, col: 1, path: "", message: "first" },
    ];
    expect(sortProblems(ps).map(formatProblem)).to.deep.equal([
      "a:1:1: first",
      "a:9:1: second",
      "a: and 12 more problems",
      "b:3:1: third",
    ]);
  });
});

describe("commands and inputs they cannot read", () => {
  let dir: string;
  let pool: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-cli-inputs-"));
    pool = join(dir, "pool.yaml");
    writeFileSync(pool, readFileSync(EXAMPLE));
    writeFileSync(
      join(dir, "binary.yaml"),
      Buffer.concat([Buffer.from("apiVersion: "), Buffer.alloc(64 * 1024, 1), Buffer.from([0])]),
    );
    mkdirSync(join(dir, "folder"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  type Run = (argv: readonly string[], io: ReturnType<typeof capture>["io"]) => Promise<number>;
  const cases: {
    name: string;
    run: Run;
    argv: (d: string) => string[];
    stdin?: string;
    code: number;
    err?: RegExp;
    out?: RegExp;
    /** The whole of stderr is at most this many lines. */
    maxLines?: number;
  }[] = [
    {
      name: "validate: a binary pool is one line, not 64 KB of control characters",
      run: runValidate,
      argv: (d) => [join(d, "binary.yaml")],
      code: 1,
      err: /binary\.yaml: not a text file \(binary data at byte 65548\); expected a ModelPool \(YAML\)\n1 problem\n$/,
      maxLines: 2,
    },
    {
      name: "validate: - reads standard input",
      run: runValidate,
      argv: () => ["-"],
      stdin: readFileSync(EXAMPLE, "utf8"),
      code: 0,
      out: /^ok: <stdin>: ModelPool /,
    },
    {
      name: "validate: over --max-input-size",
      run: runValidate,
      argv: (d) => ["--max-input-size", "100", join(d, "pool.yaml")],
      code: 1,
      err: /pool\.yaml: larger than the 100 bytes limit for this input/,
    },
    {
      name: "validate: a bad --max-input-size",
      run: runValidate,
      argv: (d) => ["--max-input-size", "lots", join(d, "pool.yaml")],
      code: 2,
      err: /--max-input-size must be a size such as 16MiB/,
    },
    {
      name: "validate: an unknown template is reported with the schema problems, in one pass",
      run: runValidate,
      argv: () => ["-"],
      stdin: readFileSync(EXAMPLE, "utf8")
        .replace("template: yolov8-onnx", "template: yolov9-onnx")
        .replace("imageSize: 640", "imageSize: 650"),
      code: 1,
      err: /template "yolov9-onnx" does not exist.*\n.*imageSize: must be a multiple of 32.*\n2 problems\n$/,
    },
    {
      name: "render: a directory as the pool",
      run: runRender,
      argv: (d) => [join(d, "folder")],
      code: 1,
      err: /folder: cannot read: is a directory, not a file\n$/,
    },
    {
      name: "config format: - reads standard input",
      run: runConfig,
      argv: () => ["format", "-"],
      stdin: 'name: "m"\nbackend: "onnxruntime"\n',
      code: 0,
      out: /^name: "m"\nbackend: "onnxruntime"\n$/,
    },
    {
      name: "config format: --write with standard input",
      run: runConfig,
      argv: () => ["format", "-", "--write"],
      code: 2,
      err: /--write needs a file, not standard input/,
    },
    {
      name: "config lint: a binary config",
      run: runConfig,
      argv: (d) => ["lint", join(d, "binary.yaml")],
      code: 1,
      out: /binary\.yaml: file: not a text file/,
    },
    {
      name: "tune: a missing profile file is exit 1, not a stack trace",
      run: runTune,
      argv: (d) => ["--profile", join(d, "missing.csv"), "--slo-p99", "100"],
      code: 1,
      err: /missing\.csv: cannot read: no such file or directory\n$/,
    },
    {
      name: "tune: a directory as the profile",
      run: runTune,
      argv: (d) => ["--profile", join(d, "folder"), "--slo-p99", "100"],
      code: 1,
      err: /folder: cannot read: is a directory, not a file\n$/,
    },
    {
      name: "tune: --top=0",
      run: runTune,
      argv: () => ["--profile", "linear:a=4,b=2", "--slo-p99", "100", "--top=0"],
      code: 2,
      err: /--top must be a whole number >= 1 \(got 0\)/,
      maxLines: 2,
    },
    {
      name: "tune: --top=-1",
      run: runTune,
      argv: () => ["--profile", "linear:a=4,b=2", "--slo-p99", "100", "--top=-1"],
      code: 2,
      err: /--top must be a whole number >= 1 \(got -1\)/,
    },
    {
      name: "tune: --slo-p99 1e309",
      run: runTune,
      argv: () => ["--profile", "linear:a=4,b=2", "--slo-p99", "1e309"],
      code: 2,
      err: /--slo-p99 must be a finite number > 0 \(got 1e309\)/,
    },
    {
      name: "tune: --model that the pool does not have",
      run: runTune,
      argv: (d) => [
        "--profile",
        "linear:a=4,b=2",
        "--pool",
        join(d, "pool.yaml"),
        "--model",
        "nope",
      ],
      code: 2,
      err: /--model "nope": pool yolo-detect has no such model .*its models: yolov8s/,
    },
    {
      name: "tune: --model nope with --write writes nothing",
      run: runTune,
      argv: (d) => [
        "--profile",
        "linear:a=4,b=2",
        "--pool",
        join(d, "pool.yaml"),
        "--model",
        "nope",
        "--write",
      ],
      code: 2,
      err: /--model "nope"/,
    },
    {
      name: "tune: --write to standard input",
      run: runTune,
      argv: () => ["--profile", "linear:a=4,b=2", "--pool", "-", "--write"],
      code: 2,
      err: /--write needs a pool file, not standard input/,
    },
    {
      name: "simulate: a directory as the trace",
      run: runSimulate,
      argv: (d) => ["--pool", join(d, "pool.yaml"), "--trace", join(d, "folder")],
      code: 1,
      err: /folder: cannot read: is a directory, not a file\n$/,
    },
    {
      name: "simulate: --model that the pool does not have",
      run: runSimulate,
      argv: (d) => [
        "--pool",
        join(d, "pool.yaml"),
        "--trace",
        "synthetic:poisson:rate=10:duration=1m",
        "--model",
        "nope",
      ],
      code: 2,
      err: /--model "nope": pool yolo-detect has no such model/,
      maxLines: 2,
    },
    {
      name: "simulate: --timeline a directory is found before the run",
      run: runSimulate,
      argv: (d) => [
        "--pool",
        join(d, "pool.yaml"),
        "--trace",
        "synthetic:poisson:rate=10:duration=1m",
        "--timeline",
        join(d, "folder"),
      ],
      code: 1,
      err: /folder: cannot write: is a directory, not a file\n$/,
    },
    {
      name: "simulate: --pool and --trace both from standard input",
      run: runSimulate,
      argv: () => ["--pool", "-", "--trace", "-"],
      code: 2,
      err: /cannot both read standard input/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const cap = capture();
      const io = { ...cap.io, inputs: createInputReader({ stdin: stdin(c.stdin ?? "") }) };
      const code = await c.run(c.argv(dir), io);
      expect(code, cap.err()).to.equal(c.code);
      if (c.err) expect(cap.err()).to.match(c.err);
      if (c.out) expect(cap.out()).to.match(c.out);
      expect(cap.err()).not.to.match(/\n\s+at /, "no stack trace");
      if (c.maxLines) expect(cap.err().trimEnd().split("\n").length).to.be.at.most(c.maxLines);
    });
  }
});

describe("the tritonscale command", () => {
  it("--version prints the package version", () => {
    const r = spawnSync(process.execPath, [MAIN, "--version"], { encoding: "utf8" });
    const pkg = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as {
      version: string;
    };
    expect(r.status).to.equal(0);
    expect(r.stdout).to.equal(`${pkg.version}\n`);
  });

  it("suggests the command meant", () => {
    for (const [typed, meant] of [
      ["valdiate", "validate"],
      ["--versoin", "--version"],
    ]) {
      const r = spawnSync(process.execPath, [MAIN, typed!], { encoding: "utf8" });
      expect(r.status).to.equal(2);
      expect(r.stderr).to.include(`unknown command "${typed}"; did you mean "${meant}"?`);
    }
  });

  it("reads a pool from standard input", () => {
    const r = spawnSync(process.execPath, [MAIN, "validate", "-"], {
      input: readFileSync(EXAMPLE),
      encoding: "utf8",
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^ok: <stdin>: ModelPool vision\/yolo-detect/);
  });

  it("loads no command's modules before the command runs", () => {
    // The entry imports only node: built-ins and cli/io.js (light); each command is
    // imported when it runs, so --version and validate start fast (bench/startup.ts).
    const src = readFileSync(join(projectRoot, "controller", "cli", "main.ts"), "utf8");
    const imports = [...src.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
    expect(imports).to.deep.equal(["node:fs", "node:path", "../diagnostics/suggest.js", "./io.js"]);
  });

  it("an internal error is one line asking for a report (exit 70), the stack only on request", () => {
    const e = new TypeError("x is undefined\nsecond line");
    const quiet = internalError(e, false);
    expect(quiet).to.equal(
      "tritonscale: internal error: TypeError: x is undefined\nThis is a bug in tritonscale, not a problem with your input: please report it with the command you ran (TRITONSCALE_DEBUG=1 prints the stack trace).\n",
    );
    expect(internalError(e, true)).to.include(e.stack!.split("\n")[1]!);
  });
});
