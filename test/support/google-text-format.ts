import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { projectRoot } from "./reference.js";
import { systemPython } from "./tools.js";

/** One text to check with Google's parser; `formatted` must parse equal to `original`. */
export interface TextFormatCase {
  readonly name: string;
  readonly original: string;
  /** When absent, only checks that Google accepts `original`. */
  readonly formatted?: string;
}

/** What Google's parser said about one case. */
export interface TextFormatVerdict {
  readonly name: string;
  readonly ok: boolean;
  readonly error: string | null;
}

/**
 * Compiles `protoFile` with protoc's Python generator and judges each case with
 * google.protobuf.text_format in one /usr/bin/python3 process.
 */
export function checkWithGoogle(
  protoFile: string,
  message: string,
  cases: readonly TextFormatCase[],
): TextFormatVerdict[] {
  const out = mkdtempSync(join(tmpdir(), "tritonscale-pb2-"));
  try {
    const protoc = spawnSync(
      "protoc",
      [`--proto_path=${dirname(protoFile)}`, `--python_out=${out}`, basename(protoFile)],
      { encoding: "utf8" },
    );
    if (protoc.status !== 0) throw new Error(`protoc failed on ${protoFile}: ${protoc.stderr}`);
    const module = basename(protoFile).replace(/\.proto$/, "_pb2");
    const py = spawnSync(
      systemPython,
      [join(projectRoot, "test", "support", "textformat_check.py")],
      {
        input: JSON.stringify({ module_dir: out, module, message, cases }),
        encoding: "utf8",
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    if (py.status !== 0) throw new Error(`textformat_check.py failed: ${py.stderr}`);
    return JSON.parse(py.stdout) as TextFormatVerdict[];
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
