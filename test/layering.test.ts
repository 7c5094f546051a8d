import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { expect } from "chai";
import { packageRoot } from "../controller/util/package-root.js";

/**
 * The layering the build enforces (biome.json, run by `npm run lint`): imports run down the
 * layers diagnostics, util → policy → repository, scaling → simulate, report → loop → kube,
 * triton, keda, metrics, io → cli (`style/noRestrictedImports` with a pattern per higher
 * layer: Biome matches the import specifier against a glob like "kube/** in any folder
 * above", which catches `../kube/…` and `../../kube/…` alike but not an npm package such as
 * `@kubernetes-models/keda/…`), the pure core (policy, repository, scaling, simulate, report) does
 * no I/O and reads no files, and no import cycle (`suspicious/noImportCycles`, type imports
 * included). This test lints a fixture tree with the project's own biome.json and checks that
 * each deliberate violation is refused and each allowed import is not.
 */

interface Row {
  readonly name: string;
  /** The importing file, relative to the fixture root. */
  readonly file: string;
  readonly imports: readonly string[];
  /** A fragment of the expected diagnostic, or null when the imports are allowed. */
  readonly refused: string | null;
}

const ROWS: readonly Row[] = [
  {
    name: "policy importing kube/render (upward)",
    file: "controller/policy/bad-kube.ts",
    imports: ["../kube/render/scaling.js"],
    refused: "policy/ may not import kube/",
  },
  {
    name: "repository/pbtxt importing simulate two folders up (upward)",
    file: "controller/repository/pbtxt/bad-simulate.ts",
    imports: ["../../simulate/engine.js"],
    refused: "repository/ or scaling/ may not import simulate/",
  },
  {
    name: "util importing policy (upward)",
    file: "controller/util/bad-policy.ts",
    imports: ["../policy/index.js"],
    refused: "diagnostics/ or util/ may not import policy/",
  },
  {
    name: "the loop importing an edge (ports are injected)",
    file: "controller/loop/bad-kube.ts",
    imports: ["../kube/apply.js"],
    refused: "loop/ may not import kube/",
  },
  {
    name: "an edge importing cli",
    file: "controller/kube/bad-cli.ts",
    imports: ["../cli/io.js"],
    refused: "may not import cli/",
  },
  {
    name: "scaling reading a file",
    file: "controller/scaling/bad-fs.ts",
    imports: ["node:fs"],
    refused: "reads and writes no files",
  },
  {
    name: "policy reading a file (other than load.ts, exempt until its reads move out)",
    file: "controller/policy/bad-fs.ts",
    imports: ["node:fs/promises"],
    refused: "reads and writes no files",
  },
  {
    name: "an npm package whose path names a layer is not taken for one",
    file: "controller/scaling/good-package.ts",
    imports: ["@kubernetes-models/keda/keda.sh/v1alpha1", "./kube/local.js"],
    refused: null,
  },
  {
    name: "report using prom-client",
    file: "controller/report/bad-metrics.ts",
    imports: ["prom-client"],
    refused: "must not do I/O",
  },
  {
    name: "report importing kube/render (an edge above it)",
    file: "controller/report/bad-kube.ts",
    imports: ["../kube/render/labels.js"],
    refused: "report/ may not import kube/",
  },
  {
    name: "report importing the Grafana SDK, scaling and policy (downward)",
    file: "controller/report/good.ts",
    imports: [
      "@grafana/grafana-foundation-sdk/dashboard",
      "../scaling/fallback.js",
      "../policy/index.js",
    ],
    refused: null,
  },
  {
    name: "kube/render importing report (the dashboard ConfigMap; downward)",
    file: "controller/kube/render/good-report.ts",
    imports: ["../../report/dashboard.js"],
    refused: null,
  },
  {
    name: "the loop importing node-cron (its Scheduler is injected)",
    file: "controller/loop/bad-cron.ts",
    imports: ["node-cron"],
    refused: "timers are injected",
  },
  {
    name: "scaling importing node-cron (the pure core keeps no timers)",
    file: "controller/scaling/bad-cron.ts",
    imports: ["node-cron"],
    refused: "keeps no timers",
  },
  {
    name: "io (an edge) importing node-cron and the loop's ports",
    file: "controller/io/good-cron.ts",
    imports: ["node-cron", "../loop/scheduler.js"],
    refused: null,
  },
  {
    name: "a cycle of two files",
    file: "controller/util/cycle-a.ts",
    imports: ["./cycle-b.js"],
    refused: "cycle",
  },
  {
    name: "its other half",
    file: "controller/util/cycle-b.ts",
    imports: ["./cycle-a.js"],
    refused: "cycle",
  },
  {
    name: "scaling importing policy and diagnostics (downward)",
    file: "controller/scaling/good.ts",
    imports: ["../policy/index.js", "../diagnostics/problem.js", "./types.js"],
    refused: null,
  },
  {
    name: "simulate importing scaling and policy (downward)",
    file: "controller/simulate/good.ts",
    imports: ["../scaling/types.js", "../policy/index.js"],
    refused: null,
  },
  {
    name: "kube importing scaling and metrics (downward, and a sibling edge)",
    file: "controller/kube/render/good.ts",
    imports: ["../../scaling/types.js", "../../metrics/rules.js", "./labels.js"],
    refused: null,
  },
  {
    name: "cli importing every layer and node:fs",
    file: "controller/cli/good.ts",
    imports: ["../kube/yaml.js", "../simulate/engine.js", "../util/atomic-file.js", "node:fs"],
    refused: null,
  },
];

interface Diagnostic {
  readonly category: string;
  readonly message: string;
  readonly location: { readonly path: string };
}

describe("layering: biome.json refuses upward imports, I/O in the pure core and cycles", () => {
  let diagnostics: Diagnostic[] = [];

  before(function () {
    this.timeout(60_000);
    const root = mkdtempSync(join(tmpdir(), "tritonscale-layering-"));
    try {
      // The project's config without the VCS settings (the fixture is no git checkout).
      const config = JSON.parse(readFileSync(join(packageRoot, "biome.json"), "utf8"));
      delete config.vcs;
      delete config.$schema;
      writeFileSync(join(root, "biome.json"), JSON.stringify(config));
      ROWS.forEach((row, i) => {
        const path = join(root, row.file);
        mkdirSync(dirname(path), { recursive: true });
        const lines = row.imports.map((spec, k) => `import * as m${k} from "${spec}";`);
        const uses = row.imports.map((_, k) => `m${k}`).join(", ");
        writeFileSync(path, `${lines.join("\n")}\nexport const row${i} = [${uses}];\n`);
      });
      const biome = join(packageRoot, "node_modules", ".bin", "biome");
      const run = spawnSync(biome, ["lint", "--reporter=json", "--max-diagnostics=none", "."], {
        cwd: root,
        encoding: "utf8",
      });
      const report = JSON.parse(run.stdout) as { diagnostics: Diagnostic[] };
      diagnostics = report.diagnostics.filter(
        (d) =>
          d.category === "lint/style/noRestrictedImports" ||
          d.category === "lint/suspicious/noImportCycles",
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  for (const row of ROWS) {
    it(`${row.refused === null ? "allows" : "refuses"} ${row.name}`, () => {
      const mine = diagnostics.filter((d) => d.location.path.replaceAll("\\", "/") === row.file);
      if (row.refused === null) {
        expect(mine.map((d) => d.message)).to.deep.equal([]);
      } else {
        expect(mine.map((d) => d.message).join("\n")).to.contain(row.refused);
      }
    });
  }
});
