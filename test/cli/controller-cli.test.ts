import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { expect } from "chai";
import { parseAllDocuments } from "yaml";
import {
  CONTROLLER_ENV,
  CONTROLLER_HELP,
  CONTROLLER_OPTIONS,
  runController,
  servingError,
} from "../../controller/cli/controller.js";
import { ExitCode } from "../../controller/cli/io.js";
import type { Serving } from "../../controller/cli/serve.js";
import { CONTROLLER_NAMESPACE } from "../../controller/kube/install/index.js";
import { type FakeKube, startFakeKube } from "../support/fake-kube/index.js";
import { capture } from "../support/io.js";
import { poolDocument } from "../support/pools.js";
import { projectRoot } from "../support/reference.js";
import { until } from "../support/until.js";

/**
 * `tritonscale controller` as a careless user runs it: every mistake is one line on stderr
 * with exit code 1 (input: files, folders, ports, no cluster) or 2 (the command line), and
 * nothing is served. Where a cluster is needed, the kubeconfig points at a closed loopback
 * port, and the runs that start are stopped with an AbortSignal.
 */

const MAIN = join(projectRoot, "dist", "controller", "cli", "main.js");

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Listens on a free port until closed (a port taken by another process). */
async function takePort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, resolve));
  return { port: (server.address() as { port: number }).port, server };
}

function kubeconfigText(port: number): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: closed\n  cluster: { server: "https://127.0.0.1:${port}" }`,
    "contexts:",
    "- name: closed\n  context: { cluster: closed, user: nobody }",
    "current-context: closed",
    "users:",
    "- name: nobody\n  user: { token: not-a-token }",
    "",
  ].join("\n");
}

/** Runs `fn` with environment variables set (undefined: unset), restoring them after. */
async function withEnv<T>(
  env: Readonly<Record<string, string | undefined>>,
  fn: () => Promise<T>,
): Promise<T> {
  const before = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Runs the command in-process; a run that starts serving is stopped at once (exit 0). */
async function run(argv: readonly string[]) {
  const c = capture();
  const stop = new AbortController();
  let served = false;
  const code = await runController(argv, c.io, {
    signal: stop.signal,
    host: "127.0.0.1",
    onServing: () => {
      served = true;
      stop.abort();
    },
  });
  return { code, out: c.out(), err: c.err(), served };
}

/** Runs the real command as a process (what a user sees on stderr, grpc-js's own lines too). */
function runProcess(argv: readonly string[]): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, "controller", ...argv], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, GRPC_VERBOSITY: "ERROR" },
    });
    let err = "";
    child.stderr.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const timer = setTimeout(() => child.kill("SIGTERM"), 20_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, err });
    });
  });
}

function oneLine(err: string): string {
  const lines = err.trimEnd().split("\n");
  expect(lines, err).to.have.length(1);
  return lines[0]!;
}

describe("controller: command line mistakes", () => {
  let dir: string;
  let kubeconfig: string;
  const zeroPorts = ["--metrics-port", "0", "--health-port", "0", "--grpc-port", "0"];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "tritonscale-controller-cli-"));
    kubeconfig = join(dir, "closed.kubeconfig");
    writeFileSync(kubeconfig, kubeconfigText(await closedPort()));
    writeFileSync(join(dir, "not-a-kubeconfig.yaml"), "kind: Pod\nmetadata: { name: x }\n");
    writeFileSync(join(dir, "empty.kubeconfig"), "");
    writeFileSync(join(dir, "broken.kubeconfig"), "clusters: [1, 2\n");
    writeFileSync(join(dir, "a-file"), "just text\n");
    writeFileSync(join(dir, "key.pem"), "-----BEGIN PRIVATE KEY-----\n");
    mkdirSync(join(dir, "home"));
    mkdirSync(join(dir, "pools"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const usage: readonly { name: string; argv: () => string[]; message: RegExp }[] = [
    { name: "an unknown flag", argv: () => ["--bogus"], message: /Unknown option '--bogus'/ },
    { name: "a positional argument", argv: () => ["pools/"], message: /Unexpected argument/ },
    { name: "a flag without its value", argv: () => ["--pools"], message: /--pools/ },
    {
      name: "a port out of range",
      argv: () => ["--grpc-port", "70000"],
      message: /--grpc-port .*65535.*70000/,
    },
    {
      name: "--tls-cert without --tls-key",
      argv: () => ["--tls-cert", "cert.pem"],
      message: /--tls-cert needs --tls-key/,
    },
    {
      name: "--tls-key without --tls-cert",
      argv: () => ["--tls-key", "key.pem"],
      message: /--tls-key needs --tls-cert/,
    },
    {
      name: "--client-ca without TLS",
      argv: () => ["--client-ca", "ca.pem"],
      message: /--client-ca needs --tls-cert and --tls-key/,
    },
    {
      name: "--namespace given twice (regression: watched twice)",
      argv: () => ["--kubeconfig", kubeconfig, "--namespace", "vision", "--namespace", "vision"],
      message: /--namespace vision is given twice/,
    },
    {
      name: "--namespace that is not a namespace name (regression: accepted)",
      argv: () => ["--kubeconfig", kubeconfig, "--namespace", "Vision_1"],
      message: /--namespace "Vision_1" is not a namespace name/,
    },
    {
      name: "a one-value flag given twice (regression: the first was dropped silently)",
      argv: () => ["--pools", join(dir, "pools"), "--pools", dir],
      message: /--pools is given twice/,
    },
    {
      name: "--dry-run with --leader-elect (regression: a dry run took the acting controller's Lease)",
      argv: () => ["--kubeconfig", kubeconfig, "--dry-run", "--leader-elect"],
      message: /--dry-run and --leader-elect do not go together/,
    },
    {
      name: "--pools with --leader-elect",
      argv: () => ["--pools", join(dir, "pools"), "--leader-elect"],
      message: /--pools and --leader-elect do not go together/,
    },
    {
      name: "--history-dir without --pools (custom resources keep it in ConfigMaps)",
      argv: () => ["--kubeconfig", kubeconfig, "--history-dir", dir],
      message:
        /--history-dir goes with --pools: with ModelPool custom resources the histories are kept in a ConfigMap per pool/,
    },
  ];
  for (const row of usage) {
    it(`exit 2, one line: ${row.name}`, async () => {
      const r = await run(row.argv());
      expect(r.code, r.err).to.equal(ExitCode.Usage);
      expect(r.served).to.equal(false);
      expect(r.out).to.equal("");
      const line = oneLine(r.err);
      expect(line).to.match(row.message);
      expect(line).to.match(/^tritonscale controller: .*`tritonscale controller --help`/);
    });
  }

  const problems: readonly {
    name: string;
    argv: () => string[];
    env?: () => Record<string, string | undefined>;
    message: () => RegExp;
  }[] = [
    {
      name: "no cluster configured (not in a pod, no $KUBECONFIG, no ~/.kube/config)",
      argv: () => zeroPorts,
      env: () => ({
        HOME: join(dir, "home"),
        KUBECONFIG: undefined,
        KUBERNETES_SERVICE_HOST: undefined,
      }),
      message: () => /no Kubernetes cluster configured: .*pass --kubeconfig .*tritonscale demo/,
    },
    {
      name: "--kubeconfig that is no kubeconfig",
      argv: () => ["--kubeconfig", join(dir, "not-a-kubeconfig.yaml"), ...zeroPorts],
      message: () => /not-a-kubeconfig\.yaml: not a kubeconfig: .*names no cluster/,
    },
    {
      name: "--kubeconfig that is empty (regression: the client library's TypeError text)",
      argv: () => ["--kubeconfig", join(dir, "empty.kubeconfig"), ...zeroPorts],
      message: () =>
        /empty\.kubeconfig: the file is empty; expected a YAML mapping with clusters, contexts and users$/,
    },
    {
      name: "--kubeconfig that is broken YAML: the parser's first line, not its multi-line snippet",
      argv: () => ["--kubeconfig", join(dir, "broken.kubeconfig"), ...zeroPorts],
      message: () =>
        /broken\.kubeconfig: not a kubeconfig: [^\\]*\(\d+:\d+\); expected a YAML mapping/,
    },
    {
      name: "--kubeconfig that does not exist",
      argv: () => ["--kubeconfig", join(dir, "missing.kubeconfig"), ...zeroPorts],
      message: () => /missing\.kubeconfig: cannot read: no such file or directory/,
    },
    {
      name: "--kubeconfig that is a folder",
      argv: () => ["--kubeconfig", dir, ...zeroPorts],
      message: () => /cannot read: is a directory, not a file/,
    },
    {
      name: "--pools on a missing folder (regression: served and logged it every 5 s)",
      argv: () => ["--kubeconfig", kubeconfig, "--pools", join(dir, "nope"), ...zeroPorts],
      message: () => /nope: cannot read: no such directory \(--pools names a folder/,
    },
    {
      name: "--pools on a file (regression: served and logged it every 5 s)",
      argv: () => ["--kubeconfig", kubeconfig, "--pools", join(dir, "a-file"), ...zeroPorts],
      message: () => /a-file: cannot read: not a directory \(--pools names a folder/,
    },
    {
      name: "--history-dir on a file (regression: found only at the first save, 5 min in)",
      argv: () => ["--pools", dir, "--history-dir", join(dir, "a-file"), ...zeroPorts],
      message: () => /a-file: cannot write: is a file, not a directory/,
    },
    {
      name: "--tls-cert that does not exist",
      argv: () => [
        "--kubeconfig",
        kubeconfig,
        "--tls-cert",
        join(dir, "missing.pem"),
        "--tls-key",
        join(dir, "key.pem"),
        ...zeroPorts,
      ],
      message: () => /missing\.pem: cannot read: no such file or directory/,
    },
  ];
  for (const row of problems) {
    it(`exit 1, one line: ${row.name}`, async () => {
      const r = await withEnv(row.env?.() ?? {}, () => run(row.argv()));
      expect(r.code, r.err).to.equal(ExitCode.Problems);
      expect(r.served).to.equal(false);
      expect(r.out).to.equal("");
      expect(oneLine(r.err)).to.match(row.message());
    });
  }

  const taken: readonly { name: string; flag: string }[] = [
    { name: "the health port taken (regression: did not say which flag)", flag: "--health-port" },
    { name: "the metrics port taken", flag: "--metrics-port" },
    {
      name: "the gRPC port taken (regression: grpc-js printed a second line)",
      flag: "--grpc-port",
    },
  ];
  for (const row of taken) {
    it(`exit 1, one line: ${row.name}`, async function () {
      this.timeout(30_000);
      const { port, server } = await takePort();
      try {
        const ports = zeroPorts.map((v, i) => (zeroPorts[i - 1] === row.flag ? String(port) : v));
        const r = await runProcess(["--kubeconfig", kubeconfig, ...ports]);
        expect(r.code, r.err).to.equal(ExitCode.Problems);
        expect(oneLine(r.err)).to.match(
          new RegExp(`^tritonscale controller: cannot serve: ${row.flag} ${port} is taken`),
        );
      } finally {
        server.close();
      }
    });
  }

  const runs: readonly { name: string; argv: () => string[] }[] = [
    {
      name: "two namespaces, a cluster that does not answer (yet)",
      argv: () => ["--kubeconfig", kubeconfig, "--namespace", "a", "--namespace", "b"],
    },
    {
      name: "an empty --pools folder, --dry-run",
      argv: () => ["--kubeconfig", kubeconfig, "--pools", join(dir, "pools"), "--dry-run"],
    },
  ];
  for (const row of runs) {
    it(`serves, and stops with exit 0 (regression: a signal aborted while starting was missed): ${row.name}`, async () => {
      const r = await run([...row.argv(), ...zeroPorts]);
      expect(r.code, r.err).to.equal(ExitCode.Ok);
      expect(r.served).to.equal(true);
      expect(r.err).to.equal("");
      const lines = r.out
        .trimEnd()
        .split("\n")
        .map((l) => JSON.parse(l) as { msg: string });
      expect(lines[0]?.msg).to.equal("serving");
      expect(lines.at(-1)?.msg).to.equal("stopped");
    });
  }

  it("servingError names every flag on the taken port, and passes other errors through", () => {
    const ports = { "metrics-port": 8080, "health-port": 8080, "grpc-port": 9090 };
    expect(servingError("listen EADDRINUSE: address already in use :::8080", ports)).to.match(
      /^--metrics-port 8080 and --health-port 8080 is taken/,
    );
    expect(
      servingError("listen EACCES: permission denied 0.0.0.0:80", { "grpc-port": 80 }),
    ).to.match(/^--grpc-port 80 needs privileges/);
    expect(servingError("something else\nsecond line", ports)).to.equal("something else");
  });
});

describe("controller: --leader-elect (against the fake API server)", function () {
  this.timeout(30_000);
  let fake: FakeKube;
  beforeEach(async () => {
    fake = await startFakeKube();
  });
  afterEach(async () => {
    await fake.close();
  });

  it("takes the Lease in $POD_NAMESPACE, leads, and releases it on stop (regression: the election never started)", async () => {
    const c = capture();
    const stop = new AbortController();
    let serving: Serving | undefined;
    const exit = withEnv({ [CONTROLLER_ENV.podNamespace]: "tritonscale-system" }, () =>
      runController(
        ["--leader-elect", "--metrics-port", "0", "--health-port", "0", "--grpc-port", "0"],
        c.io,
        {
          kubeConfig: fake.kubeConfig("vision"),
          host: "127.0.0.1",
          identity: "controller-0",
          signal: stop.signal,
          leaseTiming: {
            leaseDurationSeconds: 3,
            renewDeadlineSeconds: 2,
            retryPeriodSeconds: 0.5,
          },
          onServing: (s) => {
            serving = s;
          },
        },
      ),
    );
    const holder = () =>
      (
        fake.list("coordination.k8s.io/v1", "Lease", "tritonscale-system")[0] as
          | { spec?: { holderIdentity?: string } }
          | undefined
      )?.spec?.holderIdentity;
    await until(
      () => holder() === "controller-0" && c.out().includes('"msg":"leading"'),
      20,
      "leading",
    );
    expect(serving).not.to.equal(undefined);
    const ready = await fetch(`http://127.0.0.1:${serving!.healthPort}/readyz`);
    expect(ready.status).to.equal(200);
    stop.abort();
    expect(await exit, c.err()).to.equal(ExitCode.Ok);
    expect(holder() ?? "").to.equal("");
  });
});

describe("controller: --dry-run (against the fake API server)", function () {
  this.timeout(30_000);
  let fake: FakeKube;
  beforeEach(async () => {
    fake = await startFakeKube();
  });
  afterEach(async () => {
    await fake.close();
  });

  const pools: readonly { name: string; doc: () => Record<string, unknown>; logged: string }[] = [
    {
      name: "a valid pool: decided, not applied",
      doc: () => poolDocument(),
      logged: '"msg":"decision"',
    },
    {
      name: "an invalid pool: logged, no Valid=False status, no Event (regression: both written)",
      doc: () => poolDocument({}, { imageSize: 650 }),
      logged: '"msg":"invalid pool: nothing applied"',
    },
  ];
  for (const row of pools) {
    it(`writes nothing: ${row.name}`, async () => {
      fake.seed(row.doc());
      const c = capture();
      const stop = new AbortController();
      const exit = runController(
        ["--dry-run", "--metrics-port", "0", "--health-port", "0", "--grpc-port", "0"],
        c.io,
        {
          kubeConfig: fake.kubeConfig("vision"),
          host: "127.0.0.1",
          identity: "controller-0",
          signal: stop.signal,
        },
      );
      await until(() => c.out().includes(row.logged), 20, row.logged);
      // Let a status write or an Event the decision would cause reach the server.
      await new Promise((r) => setTimeout(r, 200));
      stop.abort();
      expect(await exit, c.err()).to.equal(ExitCode.Ok);
      const writes = fake.requests
        .filter((r) => !["get", "list", "watch", "discovery"].includes(r.verb))
        .map((r) => `${r.method} ${r.path}`);
      expect(writes).to.deep.equal([]);
    });
  }
});

describe("controller: manifests/controller.yaml runs the command as documented", () => {
  const docs = parseAllDocuments(
    readFileSync(join(projectRoot, "manifests", "controller.yaml"), "utf8"),
  ).map((d) => d.toJS() as Record<string, unknown>);
  const deployment = docs.find((d) => d.kind === "Deployment") as {
    spec: {
      template: {
        spec: {
          containers: {
            args: string[];
            env: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
          }[];
        };
      };
    };
  };
  const container = deployment.spec.template.spec.containers[0]!;

  it("its args are flags the command accepts (its own parser, strict)", () => {
    const { values } = parseArgs({
      args: container.args,
      options: CONTROLLER_OPTIONS,
      strict: true,
      allowPositionals: false,
    });
    expect(values["leader-elect"]).to.equal(true);
    for (const flag of ["metrics-port", "health-port", "grpc-port"] as const) {
      expect(Number(values[flag]), flag).to.be.within(1, 65535);
    }
  });

  it("passes POD_NAME and POD_NAMESPACE by the downward API (the Lease holder and its namespace)", () => {
    const env = Object.fromEntries(
      container.env.map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]),
    );
    expect(env).to.deep.include({
      [CONTROLLER_ENV.podName]: "metadata.name",
      [CONTROLLER_ENV.podNamespace]: "metadata.namespace",
    });
    expect(
      (deployment as unknown as { metadata: { namespace: string } }).metadata.namespace,
    ).to.equal(CONTROLLER_NAMESPACE);
    expect(CONTROLLER_HELP)
      .to.contain(CONTROLLER_ENV.podName)
      .and.contain(CONTROLLER_ENV.podNamespace);
  });
});
