import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { expect } from "chai";
import { Deployment } from "kubernetes-models/apps/v1";
import { Service } from "kubernetes-models/v1";
import { parseAllDocuments } from "yaml";
import {
  buildControllerDeployment,
  CONTROLLER_ARGS,
  CONTROLLER_PORTS,
  DEFAULT_CONTROLLER_IMAGE,
} from "../../controller/kube/install/index.js";
import { DEFAULT_HEALTH_PORT, DEFAULT_METRICS_PORT } from "../../controller/metrics/index.js";
import { onCI, projectRoot } from "../support/reference.js";

/**
 * The controller image and its install, without a Docker engine: the Dockerfile is parsed
 * and checked (stages, pinned bases, non-root user, the runtime stage's npm flags, the
 * entry point is the package's `tritonscale controller`), the build stage is run as far
 * as it can be here (tsc on exactly the context .dockerignore leaves), every module the
 * image loads resolves to a production dependency, and manifests/controller.yaml
 * validates and runs that image as the Dockerfile builds it.
 */

interface Instruction {
  readonly op: string;
  readonly args: string;
  readonly line: number;
}

interface Stage {
  readonly from: string;
  readonly name?: string;
  readonly instructions: Instruction[];
}

/** Dockerfile instructions (comments dropped, `\` continuations joined), by stage. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    while (line.endsWith("\\") && i + 1 < lines.length) {
      line = `${line.slice(0, -1).trim()} ${lines[++i]!.trim()}`;
    }
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (m === null) throw new Error(`Dockerfile:${start}: not an instruction: ${line}`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === "FROM") {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (f === null) throw new Error(`Dockerfile:${start}: bad FROM ${args}`);
      stages.push({ from: f[1]!, ...(f[2] ? { name: f[2] } : {}), instructions: [] });
    } else {
      const stage = stages[stages.length - 1];
      if (stage === undefined) throw new Error(`Dockerfile:${start}: ${op} before FROM`);
      stage.instructions.push({ op, args, line: start });
    }
  }
  return stages;
}

const read = (rel: string) => readFileSync(join(projectRoot, rel), "utf8");
const pkg = JSON.parse(read("package.json")) as {
  version: string;
  bin: Record<string, string>;
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** `.dockerignore` patterns (top-level names and `*.ext` globs, all this file uses). */
function ignored(patterns: readonly string[], rel: string): boolean {
  const top = rel.split("/")[0]!;
  return patterns.some((p) =>
    p.startsWith("*.") ? rel.endsWith(p.slice(1)) : p === top || p === rel,
  );
}
const dockerignore = read(".dockerignore")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));

describe("the controller image (Dockerfile)", () => {
  const stages = parseDockerfile(read("Dockerfile"));
  const [build, runtime] = stages;
  const ops = (s: Stage | undefined, op: string) =>
    (s?.instructions ?? []).filter((i) => i.op === op);

  it("has two stages, build then runtime, both on the same pinned Node LTS slim image", () => {
    expect(stages.map((s) => s.name)).to.deep.equal(["build", "runtime"]);
    for (const s of stages) {
      // A full version tag (or a digest), never `latest`, `lts` or a bare major.
      expect(s.from, s.from).to.match(/^node:(\d+)\.\d+\.\d+-[a-z]+-slim(@sha256:[0-9a-f]{64})?$/);
      const major = Number(/^node:(\d+)/.exec(s.from)![1]);
      expect(major % 2, `${s.from}: an LTS line is even`).to.equal(0);
      expect(pkg.engines.node, "package.json engines admits the image's Node").to.contain(
        `>=${major}`,
      );
    }
    expect(build!.from).to.equal(runtime!.from);
  });

  it("build stage: npm ci, then the build", () => {
    const runs = ops(build, "RUN").map((r) => r.args);
    const ci = runs.findIndex((r) => /^npm ci\b/.test(r));
    const b = runs.indexOf("npm run build");
    expect(ci, runs.join(" | ")).to.be.greaterThan(-1);
    expect(b).to.be.greaterThan(ci);
  });

  it("runtime stage: npm ci --omit=dev --ignore-scripts, dist/ from the build, the package's data folders", () => {
    const runs = ops(runtime, "RUN").map((r) => r.args);
    const ci = runs.find((r) => /^npm ci\b/.test(r)) ?? "";
    expect(ci.split(/\s+/)).to.include.members(["--omit=dev", "--ignore-scripts"]);
    const copies = ops(runtime, "COPY").map((c) => c.args);
    expect(copies).to.include("--from=build /src/dist/controller ./dist/controller");
    for (const dir of ["protos", "repo-templates", "manifests", "examples"]) {
      expect(copies, dir).to.include(`${dir}/ ./${dir}/`);
      expect(existsSync(join(projectRoot, dir)), dir).to.equal(true);
      expect(ignored(dockerignore, dir), `.dockerignore keeps ${dir}`).to.equal(false);
    }
    for (const f of ["package.json", "package-lock.json", "tsconfig.json", "controller"]) {
      expect(ignored(dockerignore, f), `.dockerignore keeps ${f}`).to.equal(false);
    }
    for (const f of ["node_modules", "dist", ".git"]) {
      expect(ignored(dockerignore, f), `.dockerignore drops ${f}`).to.equal(true);
    }
  });

  it("runs as a numeric non-root user, the one the Deployment names", () => {
    const users = ops(runtime, "USER");
    expect(users).to.have.length(1);
    const [uid, gid] = users[0]!.args.split(":").map(Number);
    expect(uid).to.be.greaterThan(0);
    const pod = buildControllerDeployment().spec?.template.spec?.securityContext;
    expect({ uid, gid }).to.deep.equal({ uid: pod?.runAsUser, gid: pod?.runAsGroup });
    // Nothing after USER switches back.
    const last = runtime!.instructions[runtime!.instructions.length - 1]!;
    expect(runtime!.instructions.indexOf(users[0]!)).to.be.lessThan(
      runtime!.instructions.indexOf(last),
    );
  });

  it("the entry point is the package's bin with the `controller` command; EXPOSE matches the ports", () => {
    const [entry] = ops(runtime, "ENTRYPOINT");
    const argv = JSON.parse(entry!.args) as string[];
    expect(argv).to.deep.equal(["node", `/app/${pkg.bin.tritonscale}`, "controller"]);
    expect(existsSync(join(projectRoot, pkg.bin.tritonscale!))).to.equal(true);
    expect(ops(runtime, "CMD")).to.deep.equal([]);
    const exposed = ops(runtime, "EXPOSE").flatMap((e) => e.args.split(/\s+/).map(Number));
    expect(exposed.sort()).to.deep.equal(Object.values(CONTROLLER_PORTS).sort());
    expect({ metrics: DEFAULT_METRICS_PORT, health: DEFAULT_HEALTH_PORT }).to.deep.equal({
      metrics: CONTROLLER_PORTS.metrics,
      health: CONTROLLER_PORTS.health,
    });
  });

  it("the `controller` command the image runs is one the CLI knows", function () {
    const main = read("controller/cli/main.ts");
    if (!/^\s+controller: \{/m.test(main)) {
      const msg = "the `controller` command is not registered in controller/cli/main.ts yet";
      if (onCI) throw new Error(msg);
      console.warn(`    skipped: ${msg}`);
      this.skip();
    }
  });

  it("every package the compiled controller imports is a production dependency", () => {
    const deps = new Set(Object.keys(pkg.dependencies));
    const builtins = new Set(builtinModules);
    const problems: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.name.endsWith(".js")) {
          const text = readFileSync(p, "utf8");
          for (const m of text.matchAll(/(?:from|import)\s*\(?\s*"([^".\s,)][^"\s]*)"/g)) {
            const spec = m[1]!;
            if (spec.startsWith("node:") || builtins.has(spec)) continue;
            const name = spec.startsWith("@")
              ? spec.split("/").slice(0, 2).join("/")
              : spec.split("/")[0]!;
            if (!deps.has(name)) problems.push(`${relative(projectRoot, p)}: ${spec}`);
          }
        }
      }
    };
    walk(join(projectRoot, "dist", "controller"));
    expect(problems).to.deep.equal([]);
  });

  it("the build stage compiles from exactly the context .dockerignore leaves", function () {
    this.timeout(120_000);
    const dir = mkdtempSync(join(tmpdir(), "tritonscale-image-"));
    try {
      for (const e of readdirSync(projectRoot)) {
        if (ignored(dockerignore, e)) continue;
        cpSync(join(projectRoot, e), join(dir, e), { recursive: true });
      }
      symlinkSync(join(projectRoot, "node_modules"), join(dir, "node_modules"), "dir");
      const tsc = join(projectRoot, "node_modules", "typescript", "bin", "tsc");
      const r = spawnSync(process.execPath, [tsc, "-p", "tsconfig.json"], {
        cwd: dir,
        encoding: "utf8",
      });
      expect(r.status, `${r.stdout}${r.stderr}`).to.equal(0);
      expect(existsSync(join(dir, pkg.bin.tritonscale!))).to.equal(true);
      const v = spawnSync(process.execPath, [pkg.bin.tritonscale!, "--version"], {
        cwd: dir,
        encoding: "utf8",
      });
      expect(v.stdout.trim()).to.equal(pkg.version);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("manifests/controller.yaml runs the image", () => {
  const docs = parseAllDocuments(read("manifests/controller.yaml")).map((d) => d.toJS());
  const deployment = new Deployment(docs.find((d) => d.kind === "Deployment"));
  const service = new Service(docs.find((d) => d.kind === "Service"));

  it("validates (kubernetes-models), as read back from the file", () => {
    expect(() => deployment.validate()).not.to.throw();
    expect(() => service.validate()).not.to.throw();
  });

  it("references the image with the package version as its tag", () => {
    const c = deployment.spec?.template.spec?.containers[0];
    expect(c?.image).to.equal(DEFAULT_CONTROLLER_IMAGE);
    expect(DEFAULT_CONTROLLER_IMAGE.endsWith(`:${pkg.version}`)).to.equal(true);
  });

  it("two replicas with --leader-elect; args are flags for the image's `controller` entry point", () => {
    expect(deployment.spec?.replicas).to.equal(2);
    expect(deployment.spec?.strategy?.type).to.equal("Recreate");
    const c = deployment.spec?.template.spec?.containers[0];
    expect(c?.command).to.equal(undefined);
    expect(c?.args).to.deep.equal([...CONTROLLER_ARGS]);
    expect(c?.args).to.include("--leader-elect");
    expect(c?.args).not.to.include("controller");
    const flag = (f: string) => Number(c?.args?.[c.args.indexOf(f) + 1]);
    const ports = Object.fromEntries((c?.ports ?? []).map((p) => [p.name, p.containerPort]));
    expect(ports).to.deep.equal({
      grpc: flag("--grpc-port"),
      metrics: flag("--metrics-port"),
      health: flag("--health-port"),
    });
    expect(ports).to.deep.equal({ grpc: 9090, metrics: 8080, health: 8081 });
  });

  it("hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp, resources requested", () => {
    const pod = deployment.spec?.template.spec;
    const c = pod?.containers[0];
    expect(pod?.securityContext).to.deep.include({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(c?.securityContext).to.deep.include({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
    });
    expect(c?.resources?.requests).to.have.keys("cpu", "memory");
  });

  it("probes /healthz (liveness) and /readyz (readiness) on the health port", () => {
    const c = deployment.spec?.template.spec?.containers[0];
    expect(c?.livenessProbe?.httpGet).to.deep.equal({ path: "/healthz", port: "health" });
    expect(c?.readinessProbe?.httpGet).to.deep.equal({ path: "/readyz", port: "health" });
  });

  it("the Service sends gRPC 9090 (the pools' default scalerAddress) and metrics to the pods", () => {
    const ports = Object.fromEntries(
      (service.spec?.ports ?? []).map((p) => [p.name, [p.port, p.targetPort]]),
    );
    expect(ports).to.deep.equal({ grpc: [9090, "grpc"], metrics: [8080, "metrics"] });
    expect(read("controller/policy/schema.ts")).to.contain(
      `"tritonscale.tritonscale-system.svc:${CONTROLLER_PORTS.grpc}"`,
    );
    expect(service.spec?.selector).to.deep.equal(
      deployment.spec?.selector.matchLabels as Record<string, string>,
    );
  });
});
