import { spawnSync } from "node:child_process";
import { onCI } from "./reference.js";

/** Debian's Python, which has `google.protobuf` from python3-protobuf (`python3` on PATH may be another). */
export const systemPython = "/usr/bin/python3";

function works(cmd: string, args: readonly string[]): boolean {
  const r = spawnSync(cmd, args, { stdio: "ignore" });
  return r.status === 0;
}

/**
 * Skips the calling test or suite, with a message naming the Debian package to install,
 * when `cmd args` does not run. On CI every tool must be there, so absence fails.
 */
export function requireTool(
  ctx: Mocha.Context,
  what: string,
  debianPackage: string,
  cmd: string,
  args: readonly string[],
): void {
  if (works(cmd, args)) return;
  const msg = `${what} is not available: install it with \`apt-get install ${debianPackage}\``;
  if (onCI) throw new Error(msg);
  console.warn(`    skipped: ${msg}`);
  ctx.skip();
}

/** protoc plus /usr/bin/python3 with google.protobuf, for conformance against Google's text_format. */
export function requireProtocPython(ctx: Mocha.Context): void {
  requireTool(ctx, "protoc", "protobuf-compiler", "protoc", ["--version"]);
  requireTool(ctx, "Python's google.protobuf", "python3-protobuf", systemPython, [
    "-c",
    "import google.protobuf.text_format",
  ]);
}
