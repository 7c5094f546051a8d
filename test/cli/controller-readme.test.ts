import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import { CONTROLLER_HELP, CONTROLLER_OPTIONS } from "../../controller/cli/controller.js";
import { projectRoot } from "../support/reference.js";

/** The flags `controller --help` lists, in order (`--help` for `-h, --help`). */
function helpFlags(help: string): string[] {
  return [...help.matchAll(/^ {2}(?:-[a-z], )?(--[a-z][a-z-]*)/gm)].map((m) => m[1]!);
}

/** The body of a README section: from its heading to the next heading of its level or above. */
function readmeSection(readme: string, heading: string): string {
  const level = /^#+/.exec(heading)![0].length;
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`README.md has no '${heading}' section`);
  const rest = readme.slice(start + heading.length + 2);
  const next = new RegExp(`^#{1,${level}} `, "m").exec(rest);
  return next === null ? rest : rest.slice(0, next.index);
}

/** The flags of the table rows (`| \`--flag <value>\` | ...`) of a README section, in order. */
function readmeFlags(section: string): string[] {
  return [...section.matchAll(/^\| `(?:-[a-z], )?(--[a-z][a-z-]*)[^`]*` \|/gm)].map((m) => m[1]!);
}

describe("controller: README's flags and `controller --help` agree", () => {
  const readme = readFileSync(join(projectRoot, "README.md"), "utf8");
  const section = readmeSection(readme, "## Running the controller");

  it("the help lists exactly the options the command parses", () => {
    expect(helpFlags(CONTROLLER_HELP)).to.have.members(
      Object.keys(CONTROLLER_OPTIONS).map((k) => `--${k}`),
    );
  });

  it("README's 'Running the controller' table lists exactly the help's flags, in its order", () => {
    expect(readmeFlags(section)).to.deep.equal(helpFlags(CONTROLLER_HELP));
  });

  it("the ports' defaults are the same in both", () => {
    for (const flag of ["--metrics-port", "--health-port", "--grpc-port"]) {
      const help = new RegExp(`${flag} <p>.*\\(default: (\\d+)`).exec(CONTROLLER_HELP)?.[1];
      const row = new RegExp(`^\\| \`${flag} <p>\` \\| (\\d+) \\|`, "m").exec(section)?.[1];
      expect(row, flag).to.equal(help).and.to.be.a("string");
    }
  });

  it("the CLI reference's usage of controller names every flag but --help", () => {
    const usage = /```text\n(tritonscale controller [\s\S]*?)```/.exec(
      readmeSection(readme, "## CLI reference"),
    )?.[1];
    expect(usage, "a `tritonscale controller` usage block").to.be.a("string");
    const named = [...usage!.matchAll(/(--[a-z][a-z-]*)/g)].map((m) => m[1]!);
    expect([...new Set(named)]).to.have.members(
      helpFlags(CONTROLLER_HELP).filter((f) => f !== "--help"),
    );
  });

  it("README no longer says the controller is missing", () => {
    expect(readme).not.to.match(/as it grows|does not exist|not (yet )?built/i);
  });

  it("the parsers see a disagreement (a flag only in the help, a renamed row)", () => {
    expect(
      helpFlags("Options:\n  --a-b <x>   one\n  -h, --help  two\n      --not-a-flag\n"),
    ).to.deep.equal(["--a-b", "--help"]);
    const table =
      "| flag | d | m |\n|---|---|---|\n| `--kube-config <file>` | — | x |\n| `-h, --help` | — | y |\n";
    expect(readmeFlags(table)).to.deep.equal(["--kube-config", "--help"]);
    expect(readmeSection("# A\n## B\ntext\n### C\nmore\n## D\nno\n", "## B")).to.equal(
      "text\n### C\nmore\n",
    );
  });
});
