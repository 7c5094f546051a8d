#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InputError } from "../diagnostics/problem.js";
import { packageRoot } from "../util/package-root.js";
import { runConfig } from "./config.js";
import { runGenerate } from "./generate.js";
import { ExitCode } from "./io.js";
import { runRender } from "./render.js";
import { runSimulate } from "./simulate.js";
import { runTune } from "./tune.js";
import { runValidate } from "./validate.js";

/** Every command, by name: one file each under cli/, all `(argv) => Promise<exit code>`. */
const COMMANDS = {
  generate: { run: runGenerate, summary: "generate the Triton model repository of a ModelPool" },
  render: {
    run: runRender,
    summary: "print the Kubernetes objects of a ModelPool for kubectl apply",
  },
  validate: { run: runValidate, summary: "check ModelPool files and report every problem" },
  config: { run: runConfig, summary: "lint or format existing Triton config.pbtxt files" },
  simulate: {
    run: runSimulate,
    summary: "replay a trace under each scaler and compare cost and SLO",
  },
  tune: {
    run: runTune,
    summary: "choose batching settings that maximise throughput per GPU within the SLO",
  },
} satisfies Record<string, { run: (argv: readonly string[]) => Promise<number>; summary: string }>;

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  const lines = Object.entries(COMMANDS).map(
    ([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`,
  );
  return `Usage: tritonscale <command> [options]

Commands:
${lines.join("\n")}

Run \`tritonscale <command> --help\` for a command's options.
`;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return name === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (name === "--version" || name === "-V") {
    const pkg = JSON.parse(readFileSync(join(packageRoot, "package.json"), "utf8")) as {
      version: string;
    };
    process.stdout.write(`${pkg.version}\n`);
    return ExitCode.Ok;
  }
  const command = Object.hasOwn(COMMANDS, name)
    ? COMMANDS[name as keyof typeof COMMANDS]
    : undefined;
  if (!command) {
    process.stderr.write(`tritonscale: unknown command "${name}"\n\n${usage()}`);
    return ExitCode.Usage;
  }
  return command.run(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof InputError) {
      process.stderr.write(`${e.message}\n`);
      process.exitCode = ExitCode.Problems;
      return;
    }
    process.stderr.write(
      `tritonscale: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
    );
    process.exitCode = 70;
  },
);
