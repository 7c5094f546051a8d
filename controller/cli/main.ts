#!/usr/bin/env node
/**
 * The `tritonscale` command. Each command's modules are loaded only when it runs, so
 * `--version`, `validate` and `config lint` start fast; `bench/startup.ts` measures it.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { closest } from "../diagnostics/suggest.js";
import { ExitCode, internalError } from "./io.js";

type Run = (argv: readonly string[]) => Promise<number>;

/** Every command, by name: one file each under cli/, loaded when it runs. */
const COMMANDS = {
  generate: {
    load: async (): Promise<Run> => (await import("./generate.js")).runGenerate,
    summary: "generate the Triton model repository of a ModelPool",
  },
  render: {
    load: async (): Promise<Run> => (await import("./render.js")).runRender,
    summary: "print the Kubernetes objects of a ModelPool for kubectl apply",
  },
  validate: {
    load: async (): Promise<Run> => (await import("./validate.js")).runValidate,
    summary: "check ModelPool files and report every problem",
  },
  config: {
    load: async (): Promise<Run> => (await import("./config.js")).runConfig,
    summary: "lint or format existing Triton config.pbtxt files",
  },
  simulate: {
    load: async (): Promise<Run> => (await import("./simulate.js")).runSimulate,
    summary: "replay a trace under each scaler and compare cost and SLO",
  },
  tune: {
    load: async (): Promise<Run> => (await import("./tune.js")).runTune,
    summary: "choose batching settings that maximise throughput per GPU within the SLO",
  },
  dashboard: {
    load: async (): Promise<Run> => (await import("./dashboard.js")).runDashboard,
    summary: "write Grafana dashboards of ModelPools and a fleet overview",
  },
  report: {
    load: async (): Promise<Run> => (await import("./report.js")).runReport,
    summary: "report cost per pool, model and capacity type from a simulation",
  },
  controller: {
    load: async (): Promise<Run> => (await import("./controller.js")).runController,
    summary: "run ModelPools live on Kubernetes: apply, scrape Triton, decide, answer KEDA",
  },
  demo: {
    load: async (): Promise<Run> => (await import("./demo.js")).runDemo,
    summary: "run the controller on a simulated cluster, no Kubernetes needed",
  },
} satisfies Record<string, { load: () => Promise<Run>; summary: string }>;

/** How the words that are options, not commands, are written. */
const COMMAND_WORDS: Readonly<Record<string, string>> = { version: "--version", help: "--help" };

function usage(): string {
  const width = Object.keys(COMMANDS).reduce((w, c) => Math.max(w, c.length), 0);
  const lines = Object.entries(COMMANDS).map(
    ([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`,
  );
  return `Usage: tritonscale <command> [options]

Commands:
${lines.join("\n")}

Run \`tritonscale <command> --help\` for a command's options.

Exit codes: 0 success; 1 a problem with the input (an invalid or unreadable file, a
failed check); 2 a bad command line; 70 an internal error (a bug: please report it).
`;
}

/** The package version, read from package.json beside dist/ (without loading any module). */
function version(): string {
  const root = join(import.meta.dirname, "..", "..", "..");
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  return pkg.version;
}

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    process.stdout.write(usage());
    return name === undefined ? ExitCode.Usage : ExitCode.Ok;
  }
  if (name === "--version" || name === "-V") {
    process.stdout.write(`${version()}\n`);
    return ExitCode.Ok;
  }
  const command = Object.hasOwn(COMMANDS, name)
    ? COMMANDS[name as keyof typeof COMMANDS]
    : undefined;
  if (!command) {
    const near = closest(name.replace(/^-+/, ""), [...Object.keys(COMMANDS), "version", "help"]);
    const hint = near === undefined ? "" : `; did you mean "${COMMAND_WORDS[near] ?? near}"?`;
    process.stderr.write(`tritonscale: unknown command "${name}"${hint}\n\n${usage()}`);
    return ExitCode.Usage;
  }
  return (await command.load())(rest);
}

const fail = (e: unknown): void => {
  process.stderr.write(internalError(e, process.env.TRITONSCALE_DEBUG === "1"));
  process.exitCode = ExitCode.Internal;
};
process.on("uncaughtException", (e) => {
  fail(e);
  process.exit(ExitCode.Internal);
});
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
}, fail);
