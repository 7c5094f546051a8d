import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import {
  CustomResourceDefinition,
  type IJSONSchemaProps,
} from "kubernetes-models/apiextensions.k8s.io/v1";
import { Deployment } from "kubernetes-models/apps/v1";
import type { IPolicyRule } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { isAlias, isNode, parse, parseAllDocuments, visit } from "yaml";
import { PRUNABLE_KINDS } from "../../controller/kube/apply.js";
import {
  buildControllerDeployment,
  buildControllerService,
  buildInstallFiles,
  buildInstallManifests,
  buildModelPoolCrd,
  buildModelPoolStatusOpenApiSchema,
  buildRbac,
  CONTROLLER_NAMESPACE,
  CONTROLLER_PERMISSIONS,
  CONTROLLER_PORTS,
  DEFAULT_CONTROLLER_IMAGE,
  LEADER_ELECTION_LEASE,
  LEADER_ELECTION_PERMISSIONS,
  MANIFESTS_HEADER,
} from "../../controller/kube/install/index.js";
import { buildPool } from "../../controller/kube/render/index.js";
import { formatManifests } from "../../controller/kube/yaml.js";
import {
  buildCrdOpenApiSchema,
  DURATION_PATTERN,
  loadModelPool,
  parseModelPoolObject,
} from "../../controller/policy/index.js";
import { FORMATS, show, validateOpenApi } from "../support/openapi.js";
import { pool } from "../support/pools.js";
import { projectRoot } from "../support/reference.js";

type Json = { [k: string]: unknown };
const plain = (o: { toJSON(): unknown }): Json => JSON.parse(JSON.stringify(o.toJSON())) as Json;
const isObject = (v: unknown): v is Json =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const read = (rel: string): string => readFileSync(join(projectRoot, rel), "utf8");

/** The CRD's one version's `openAPIV3Schema`. */
function crdSchema(crd: CustomResourceDefinition = buildModelPoolCrd()): IJSONSchemaProps {
  const schema = crd.spec.versions[0]?.schema?.openAPIV3Schema;
  if (schema === undefined) throw new Error("the CRD has no openAPIV3Schema");
  return schema;
}

/** Every schema node with its path, depth first. */
function* walk(node: IJSONSchemaProps, path: string): Generator<[string, IJSONSchemaProps]> {
  yield [path, node];
  for (const [k, v] of Object.entries(node.properties ?? {})) yield* walk(v, `${path}.${k}`);
  if (isObject(node.items)) yield* walk(node.items as IJSONSchemaProps, `${path}[]`);
  if (isObject(node.additionalProperties)) {
    yield* walk(node.additionalProperties as IJSONSchemaProps, `${path}{}`);
  }
}

/**
 * What Kubernetes requires of a CRD schema (apiextensions.k8s.io/v1 "structural schema",
 * and the checks the API server adds): every problem found.
 */
function structuralProblems(root: IJSONSchemaProps): string[] {
  const problems: string[] = [];
  const types = new Set(["object", "array", "string", "integer", "number", "boolean"]);
  const forbidden = [
    "$ref",
    "definitions",
    "anyOf",
    "allOf",
    "oneOf",
    "not",
    "patternProperties",
    "dependencies",
    "additionalItems",
    "id",
    "$schema",
  ] as const;
  for (const [path, node] of walk(root, "")) {
    const p = path || "(root)";
    if (!types.has(node.type ?? "")) problems.push(`${p}: type ${show(node.type)}`);
    for (const k of forbidden) if (k in node) problems.push(`${p}: ${k}`);
    if (node.additionalProperties !== undefined) {
      if (!isObject(node.additionalProperties)) {
        problems.push(`${p}: additionalProperties ${show(node.additionalProperties)}`);
      }
      if (node.properties !== undefined)
        problems.push(`${p}: additionalProperties beside properties`);
    }
    if (node.type === "array" && !isObject(node.items)) problems.push(`${p}: array without items`);
    if (node.type !== "array" && node.items !== undefined)
      problems.push(`${p}: items on a ${node.type}`);
    if (node.uniqueItems === true) problems.push(`${p}: uniqueItems (rejected by the API server)`);
    if (node.format !== undefined && !(node.format in FORMATS))
      problems.push(`${p}: format ${node.format}`);
    // Go's RE2: no lookaround, no backreferences.
    if (node.pattern !== undefined && /\(\?<?[=!]|\\[1-9]/.test(node.pattern)) {
      problems.push(`${p}: pattern not RE2 ${node.pattern}`);
    }
    for (const r of node.required ?? []) {
      if (node.properties?.[r] === undefined) problems.push(`${p}: required ${r} is no property`);
    }
    if (node["x-kubernetes-list-type"] === "map") {
      const item = node.items as IJSONSchemaProps;
      for (const k of node["x-kubernetes-list-map-keys"] ?? []) {
        const key = item.properties?.[k];
        if (
          key === undefined ||
          !["string", "integer", "number", "boolean"].includes(key.type ?? "")
        ) {
          problems.push(`${p}: list-map key ${k} is not a scalar property`);
        } else if (!(item.required ?? []).includes(k) && key.default === undefined) {
          problems.push(`${p}: list-map key ${k} is neither required nor defaulted`);
        }
      }
    }
    if (node.default !== undefined) {
      if (path.startsWith(".metadata")) problems.push(`${p}: default inside metadata`);
      for (const e of validateOpenApi(node, node.default)) problems.push(`${p}: default: ${e}`);
    }
  }
  const metadata = root.properties?.metadata;
  if (JSON.stringify(metadata) !== JSON.stringify({ type: "object" })) {
    problems.push(`.metadata: may only be {type: object}, got ${show(metadata)}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------

describe("manifests/ (tritonscale's own install)", () => {
  for (const file of buildInstallFiles()) {
    it(`manifests/${file.name} is a fresh render (run \`npm run gen\` if not)`, () => {
      const expected = formatManifests(file.objects, { header: MANIFESTS_HEADER });
      expect(read(`manifests/${file.name}`)).to.equal(expected);
    });
  }

  it("render as multi-document YAML with the header, no anchors or aliases, no folded lines", () => {
    for (const file of buildInstallFiles()) {
      const text = read(`manifests/${file.name}`);
      expect(text.startsWith(`# ${MANIFESTS_HEADER}\n`), file.name).to.equal(true);
      expect(text).to.contain("generated by npm run gen");
      const docs = parseAllDocuments(text);
      expect(docs.length, file.name).to.equal(file.objects.length);
      for (const doc of docs) {
        expect(doc.errors, file.name).to.deep.equal([]);
        visit(doc, (_key, node) => {
          if (isAlias(node) || (isNode(node) && node.anchor !== undefined)) {
            expect.fail(`${file.name} has an anchor or alias`);
          }
        });
      }
      expect(docs.map((d) => d.toJS())).to.deep.equal(file.objects.map(plain));
    }
    // The longest description stays on one line.
    const crd = read("manifests/crd.yaml");
    expect(crd).to.match(
      /\n\s+description: A pool of NVIDIA Triton Inference Server replicas[^\n]+least GPU cost\.\n/,
    );
  });

  it("formatManifests quotes YAML 1.1 booleans and dates, so kubectl reads strings", () => {
    const text = formatManifests([{ toJSON: () => ({ a: "on", b: "yes", n: "2024-01-01" }) }]);
    expect(text).to.equal('a: "on"\nb: "yes"\n"n": "2024-01-01"\n');
    expect(parse(text)).to.deep.equal({ a: "on", b: "yes", n: "2024-01-01" });
  });

  it("buildInstallManifests: Namespace, CRD, RBAC, Deployment, Service, the same objects as the files", () => {
    const all = buildInstallManifests();
    expect(all.map((o) => o.kind)).to.deep.equal([
      "Namespace",
      "CustomResourceDefinition",
      "ServiceAccount",
      "ClusterRole",
      "ClusterRoleBinding",
      "Role",
      "RoleBinding",
      "Deployment",
      "Service",
    ]);
    const key = (o: Json) => JSON.stringify(o);
    const fromFiles = buildInstallFiles().flatMap((f) => f.objects.map(plain));
    expect(fromFiles.map(key).sort()).to.deep.equal(all.map(plain).map(key).sort());
    for (const o of all) expect(() => o.validate(), o.kind).not.to.throw();
  });

  it("puts every namespaced object in the chosen namespace", () => {
    const all = buildInstallManifests({ namespace: "ops", image: "registry.local/ts:dev" }).map(
      plain,
    );
    for (const o of all) {
      const meta = o.metadata as Json;
      const clusterScoped = [
        "Namespace",
        "CustomResourceDefinition",
        "ClusterRole",
        "ClusterRoleBinding",
      ];
      if (o.kind === "Namespace") expect(meta.name).to.equal("ops");
      else if (clusterScoped.includes(o.kind as string))
        expect(meta).not.to.have.property("namespace");
      else expect(meta.namespace, `${o.kind}`).to.equal("ops");
    }
    const binding = all.find((o) => o.kind === "ClusterRoleBinding")!;
    expect(binding.subjects).to.deep.equal([
      { kind: "ServiceAccount", name: "tritonscale", namespace: "ops" },
    ]);
    expect(JSON.stringify(all)).to.contain('"image":"registry.local/ts:dev"');
  });
});

describe("buildModelPoolCrd", () => {
  const crd = buildModelPoolCrd();

  it("validates, also as read back from manifests/crd.yaml", () => {
    expect(() => crd.validate()).not.to.throw();
    const fromFile = new CustomResourceDefinition(
      parse(read("manifests/crd.yaml")) as ConstructorParameters<
        typeof CustomResourceDefinition
      >[0],
    );
    expect(() => fromFile.validate()).not.to.throw();
    expect(plain(fromFile)).to.deep.equal(plain(crd));
  });

  it("names modelpools.tritonscale.dev: namespaced ModelPool, v1alpha1 served and stored, status subresource", () => {
    expect(crd.metadata?.name).to.equal("modelpools.tritonscale.dev");
    expect(crd.spec.group).to.equal("tritonscale.dev");
    expect(crd.spec.scope).to.equal("Namespaced");
    expect(crd.spec.names).to.deep.include({
      kind: "ModelPool",
      listKind: "ModelPoolList",
      plural: "modelpools",
      singular: "modelpool",
      shortNames: ["mp"],
    });
    expect(crd.spec.versions).to.have.length(1);
    expect(crd.spec.versions[0]).to.deep.include({
      name: "v1alpha1",
      served: true,
      storage: true,
      subresources: { status: {} },
    });
  });

  it("has the policy schema (buildCrdOpenApiSchema) plus status", () => {
    const { status, ...rest } = crdSchema(crd).properties ?? {};
    expect({ ...crdSchema(crd), properties: rest }).to.deep.equal(buildCrdOpenApiSchema());
    expect(status).to.deep.equal(buildModelPoolStatusOpenApiSchema());
    expect(Object.keys(status?.properties ?? {})).to.include.members([
      "replicas",
      "readyReplicas",
      "desiredReplicas",
      "conditions",
    ]);
  });

  it("has a structural schema Kubernetes accepts", () => {
    expect(structuralProblems(crdSchema(crd))).to.deep.equal([]);
  });

  it("the structural check catches what Kubernetes rejects", () => {
    const bad: IJSONSchemaProps = {
      type: "object",
      properties: {
        a: { type: "object", properties: { x: { type: "string" } }, additionalProperties: false },
        b: { type: "array" },
        c: { description: "no type" },
        d: { type: "integer", minimum: 1, default: 0 },
        e: {
          type: "array",
          items: { type: "object", properties: { k: { type: "string" } } },
          "x-kubernetes-list-type": "map",
          "x-kubernetes-list-map-keys": ["k"],
        },
      },
    };
    expect(structuralProblems(bad)).to.deep.equal([
      ".a: additionalProperties false",
      ".a: additionalProperties beside properties",
      ".b: array without items",
      ".c: type undefined",
      ".d: default: (root): must be >= 1 (got 0)",
      ".e: list-map key k is neither required nor defaulted",
      ".metadata: may only be {type: object}, got undefined",
    ]);
  });

  it("has printer columns Model, Desired, Ready, Valid, Active (wide), SLO p99, Scaler (wide), Age that resolve in the schema", () => {
    const columns = crd.spec.versions[0]?.additionalPrinterColumns ?? [];
    expect(columns.map((c) => c.name)).to.deep.equal([
      "Model",
      "Desired",
      "Ready",
      "Valid",
      "Active",
      "SLO p99",
      "Scaler",
      "Age",
    ]);
    const schema = crdSchema(crd);
    for (const c of columns) {
      if (c.jsonPath === ".metadata.creationTimestamp") continue;
      let node: IJSONSchemaProps | undefined = schema;
      // A filter (`[?(@.type=="Valid")]`) selects items of the list like an index.
      const path = c.jsonPath.slice(1).replace(/\[\?\([^)]*\)\]/g, "[]");
      for (const seg of path.split(/\.|(?=\[)/)) {
        node = seg.startsWith("[")
          ? (node?.items as IJSONSchemaProps | undefined)
          : node?.properties?.[seg];
      }
      expect(node, c.jsonPath).not.to.equal(undefined);
      const ok = c.type === node?.type || (c.type === "number" && node?.type === "integer");
      expect(ok, `${c.name}: column ${c.type}, schema ${node?.type}`).to.equal(true);
    }
  });
});

describe("ModelPool custom resources against the CRD schema", () => {
  const schema = crdSchema();
  const examples = ["yolov8-pool.yaml", "yolo-fleet-spot.yaml"];

  for (const name of examples) {
    it(`manifests/examples/${name}: the pool of examples/${name}, valid for the loader and the CRD`, () => {
      const text = read(`manifests/examples/${name}`);
      expect(parse(text)).to.deep.equal(parse(read(`examples/${name}`)));
      expect(() => loadModelPool(text, `manifests/examples/${name}`)).not.to.throw();
      expect(validateOpenApi(schema, parse(text))).to.deep.equal([]);
    });
  }

  const base = (): Json => parse(read("manifests/examples/yolov8-pool.yaml")) as Json;
  const spec = (cr: Json) => cr.spec as Json;
  const model = (cr: Json) => (spec(cr).models as Json[])[0]!;
  const condition = {
    type: "Ready",
    status: "True",
    lastTransitionTime: "2025-01-02T03:04:05Z",
    reason: "WithinSlo",
    message: "",
  };

  const cases: readonly {
    name: string;
    edit: (cr: Json) => void;
    errors: string[];
    status?: true;
  }[] = [
    { name: "the example as written", edit: () => {}, errors: [] },
    {
      name: "a status the controller writes",
      edit: (cr) => {
        cr.status = {
          observedGeneration: 3,
          replicas: 4,
          readyReplicas: 3,
          desiredReplicas: 5,
          lastScaleTime: "2025-01-02T03:04:05Z",
          decision: {
            desired: { spot: 3, onDemand: 2 },
            active: true,
            held: false,
            reason: "queue 40 ms over budget",
            scaler: "tritonscale",
            decidedAt: "2025-01-02T03:04:05Z",
          },
          capacity: [{ model: "yolov8s", requestsPerSecondPerReplica: 96.5 }],
          conditions: [condition],
        };
      },
      errors: [],
      status: true,
    },
    {
      name: "imageSize is a string",
      edit: (cr) => {
        model(cr).imageSize = "x";
      },
      errors: ['spec.models[0].imageSize: must be an integer (got "x")'],
    },
    {
      name: "imageSize is no multiple of 32",
      edit: (cr) => {
        model(cr).imageSize = 100;
      },
      errors: ["spec.models[0].imageSize: must be a multiple of 32 (got 100)"],
    },
    {
      name: "an unknown precision",
      edit: (cr) => {
        model(cr).precision = "fp8";
      },
      errors: ['spec.models[0].precision: must be one of "fp32", "fp16", "int8" (got "fp8")'],
    },
    {
      name: "an unknown field",
      edit: (cr) => {
        model(cr).colour = "red";
      },
      errors: ["spec.models[0].colour: unknown field"],
    },
    {
      name: "no slo",
      edit: (cr) => {
        delete spec(cr).slo;
      },
      errors: ["spec.slo: required"],
    },
    {
      name: "a latency objective of 0",
      edit: (cr) => {
        (spec(cr).slo as Json).latencyP99Ms = 0;
      },
      errors: ["spec.slo.latencyP99Ms: must be > 0 (got 0)"],
    },
    {
      name: "a malformed duration",
      edit: (cr) => {
        (spec(cr).scaling as Json).idleWindow = "ten minutes";
      },
      errors: [`spec.scaling.idleWindow: must match ${DURATION_PATTERN} (got "ten minutes")`],
    },
    {
      name: "two models with one name",
      edit: (cr) => {
        (spec(cr).models as Json[]).push({ ...model(cr) });
      },
      errors: ['spec.models[1]: duplicate entry ["yolov8s"]'],
    },
    {
      name: "a condition status that is not True/False/Unknown",
      edit: (cr) => {
        cr.status = { conditions: [{ ...condition, status: "Yes" }] };
      },
      errors: [
        'status.conditions[0].status: must be one of "True", "False", "Unknown" (got "Yes")',
      ],
      status: true,
    },
    {
      name: "negative ready replicas",
      edit: (cr) => {
        cr.status = { readyReplicas: -1 };
      },
      errors: ["status.readyReplicas: must be >= 0 (got -1)"],
      status: true,
    },
  ];

  for (const c of cases) {
    it(`${c.errors.length === 0 ? "accepts" : "rejects"} ${c.name}`, () => {
      const cr = base();
      c.edit(cr);
      expect(validateOpenApi(schema, cr)).to.deep.equal(c.errors);
      // The CRD and the policy loader agree on the spec (the loader ignores status).
      if (c.status === undefined) {
        const problems = parseModelPoolObject(cr, "test").problems;
        expect(problems.length === 0, problems.map((p) => p.message).join("; ")).to.equal(
          c.errors.length === 0,
        );
      }
    });
  }
});

// ---------------------------------------------------------------------------------------

/** What the controller does with each resource: exactly these verbs, no more. */
const NEEDS: readonly { resource: string; verbs: string; why: string; scope?: "namespace" }[] = [
  { resource: "modelpools.tritonscale.dev", verbs: "get list watch", why: "watch/list ModelPools" },
  {
    resource: "modelpools/status.tritonscale.dev",
    verbs: "patch",
    why: "merge-patch status (kube/pool-status.ts)",
  },
  {
    resource: "modelpools/finalizers.tritonscale.dev",
    verbs: "update",
    why: "blockOwnerDeletion owner references",
  },
  {
    resource: "deployments.apps",
    verbs: "get list watch create patch delete",
    why: "server-side apply",
  },
  { resource: "services", verbs: "get list watch create patch delete", why: "server-side apply" },
  {
    resource: "configmaps",
    verbs: "get list watch create patch delete",
    why: "prometheus-adapter rules; scaler history: get, create/patch (server-side apply)",
  },
  {
    resource: "poddisruptionbudgets.policy",
    verbs: "get list watch create patch delete",
    why: "server-side apply",
  },
  {
    resource: "servicemonitors.monitoring.coreos.com",
    verbs: "get list watch create patch delete",
    why: "server-side apply",
  },
  {
    resource: "podmonitors.monitoring.coreos.com",
    verbs: "get list watch create patch delete",
    why: "server-side apply",
  },
  {
    resource: "prometheusrules.monitoring.coreos.com",
    verbs: "get list watch create patch delete",
    why: "server-side apply",
  },
  {
    resource: "scaledobjects.keda.sh",
    verbs: "get list watch create patch delete",
    why: "server-side apply",
  },
  {
    resource: "triggerauthentications.keda.sh",
    verbs: "get list watch create patch delete",
    why: "server-side apply (spec.scaling.keda.tls)",
  },
  {
    resource: "horizontalpodautoscalers.autoscaling",
    verbs: "get list watch create patch delete",
    why: "server-side apply",
  },
  {
    resource: "nodepools.karpenter.sh",
    verbs: "get list watch create patch delete",
    why: "server-side apply; cluster-scoped",
  },
  { resource: "pods", verbs: "get list watch", why: "scrape Triton, count replicas" },
  { resource: "nodes", verbs: "get list watch", why: "capacity type, Spot interruptions" },
  { resource: "endpointslices.discovery.k8s.io", verbs: "get list watch", why: "ready endpoints" },
  { resource: "events", verbs: "create patch", why: "create Events, count repeats (core/v1)" },
  {
    resource: "leases.coordination.k8s.io",
    verbs: "create get update",
    why: "leader election",
    scope: "namespace",
  },
];

/** `verb resource.group` strings a set of rules grants. */
function grants(rules: readonly IPolicyRule[]): Set<string> {
  const out = new Set<string>();
  for (const r of rules) {
    for (const g of r.apiGroups ?? []) {
      for (const res of r.resources ?? []) {
        for (const v of r.verbs) out.add(`${v} ${g === "" ? res : `${res}.${g}`}`);
      }
    }
  }
  return out;
}

describe("buildRbac", () => {
  const [account, clusterRole, clusterBinding, role, roleBinding] = buildRbac();

  it("uses no wildcard in apiGroups, resources, verbs or resourceNames", () => {
    for (const rule of [...(clusterRole.rules ?? []), ...(role.rules ?? [])]) {
      const all = [
        ...(rule.apiGroups ?? []),
        ...(rule.resources ?? []),
        ...rule.verbs,
        ...(rule.resourceNames ?? []),
      ];
      expect(
        all.filter((s) => s.includes("*")),
        JSON.stringify(rule),
      ).to.deep.equal([]);
      expect(rule.nonResourceURLs).to.equal(undefined);
    }
  });

  for (const need of NEEDS) {
    it(`grants ${need.resource}: ${need.verbs} (${need.why})`, () => {
      const granted = grants((need.scope === "namespace" ? role : clusterRole).rules ?? []);
      for (const verb of need.verbs.split(" "))
        expect([...granted]).to.include(`${verb} ${need.resource}`);
    });
  }

  it("grants nothing beyond the table", () => {
    const needed = (scope?: "namespace") =>
      NEEDS.filter((n) => n.scope === scope)
        .flatMap((n) => n.verbs.split(" ").map((v) => `${v} ${n.resource}`))
        .sort();
    expect([...grants(clusterRole.rules ?? [])].sort()).to.deep.equal(needed());
    expect([...grants(role.rules ?? [])].sort()).to.deep.equal(needed("namespace"));
  });

  it("lets the controller apply and prune every kind render emits and apply prunes", () => {
    const granted = grants(clusterRole.rules ?? []);
    const kinds = new Set<string>();
    for (const provider of ["karpenter", "eks", "gke", "aks", "generic"]) {
      for (const engine of ["keda", "hpa"] as const) {
        for (const o of buildPool(pool(provider, engine))) {
          const [group, version] = o.apiVersion.includes("/")
            ? o.apiVersion.split("/")
            : ["", o.apiVersion];
          kinds.add(`${o.kind.toLowerCase()}s${group === "" ? "" : `.${group}`}@${version}`);
        }
      }
    }
    for (const k of PRUNABLE_KINDS) {
      const [group, version] = k.apiVersion.includes("/")
        ? k.apiVersion.split("/")
        : ["", k.apiVersion];
      kinds.add(`${k.kind.toLowerCase()}s${group === "" ? "" : `.${group}`}@${version}`);
    }
    expect(kinds.size).to.be.greaterThan(5);
    for (const k of kinds) {
      const resource = k.split("@")[0]!;
      for (const verb of ["get", "list", "watch", "create", "patch", "delete"]) {
        expect([...granted], `${verb} ${resource}`).to.include(`${verb} ${resource}`);
      }
    }
  });

  it("manifests/README.md lists every permission as the code grants it", () => {
    const text = read("manifests/README.md");
    const row = (p: (typeof CONTROLLER_PERMISSIONS)[number], scope: string) =>
      `| ${scope} | \`${p.apiGroup || '""'}\` | ${p.resources.map((r) => `\`${r}\``).join(", ")} | ${p.verbs.join(", ")} | ${p.reason} |`;
    const rows = [
      ...CONTROLLER_PERMISSIONS.map((p) => row(p, "cluster")),
      ...LEADER_ELECTION_PERMISSIONS.map((p) => row(p, "namespace")),
    ];
    for (const r of rows)
      expect(text, "update the RBAC table in manifests/README.md").to.contain(`\n${r}\n`);
    const documented = text.split("\n").filter((l) => /^\| (cluster|namespace) \|/.test(l));
    expect(documented.length, "rows for permissions the code no longer grants").to.equal(
      rows.length,
    );
  });

  it("limits renewing the Lease to the controller's own", () => {
    const renew = role.rules?.find((r) => r.verbs.includes("update"));
    expect(renew?.resourceNames).to.deep.equal([LEADER_ELECTION_LEASE]);
  });

  it("binds the roles to the controller's ServiceAccount", () => {
    const subject = {
      kind: "ServiceAccount",
      name: account.metadata?.name,
      namespace: CONTROLLER_NAMESPACE,
    };
    expect(account.metadata?.namespace).to.equal(CONTROLLER_NAMESPACE);
    expect(clusterBinding.subjects).to.deep.equal([subject]);
    expect(clusterBinding.roleRef).to.deep.equal({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "ClusterRole",
      name: clusterRole.metadata?.name,
    });
    expect(roleBinding.subjects).to.deep.equal([subject]);
    expect(roleBinding.roleRef).to.deep.equal({
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: role.metadata?.name,
    });
    expect(role.metadata?.namespace).to.equal(CONTROLLER_NAMESPACE);
  });
});

describe("buildControllerDeployment and buildControllerService", () => {
  const deployment = buildControllerDeployment();
  const service = buildControllerService();
  const pod = deployment.spec?.template.spec;
  const container = pod?.containers[0];

  it("validate, also as read back from manifests/controller.yaml", () => {
    expect(() => deployment.validate()).not.to.throw();
    expect(() => service.validate()).not.to.throw();
    const [fromFile] = parseAllDocuments(read("manifests/controller.yaml")).map(
      (d) => d.toJS() as Json,
    );
    const again = new Deployment(fromFile as ConstructorParameters<typeof Deployment>[0]);
    expect(() => again.validate()).not.to.throw();
  });

  it("runs the controller image of this release, as the controller's ServiceAccount", () => {
    const { version } = JSON.parse(read("package.json")) as { version: string };
    expect(DEFAULT_CONTROLLER_IMAGE.endsWith(`:${version}`), DEFAULT_CONTROLLER_IMAGE).to.equal(
      true,
    );
    expect(container?.image).to.equal(DEFAULT_CONTROLLER_IMAGE);
    expect(
      buildControllerDeployment("x", "img:1").spec?.template.spec?.containers[0]?.image,
    ).to.equal("img:1");
    expect(pod?.serviceAccountName).to.equal(buildRbac()[0].metadata?.name);
  });

  it("exposes gRPC 9090, metrics 8080, health 8081 and probes /healthz and /readyz", () => {
    expect(container?.ports?.map((p) => [p.name, p.containerPort])).to.deep.equal([
      ["grpc", 9090],
      ["metrics", 8080],
      ["health", 8081],
    ]);
    expect(CONTROLLER_PORTS).to.deep.equal({ grpc: 9090, metrics: 8080, health: 8081 });
    expect(container?.livenessProbe?.httpGet).to.deep.equal({ path: "/healthz", port: "health" });
    expect(container?.readinessProbe?.httpGet).to.deep.equal({ path: "/readyz", port: "health" });
  });

  it("runs non-root on a read-only root file system with every capability dropped", () => {
    expect(pod?.securityContext).to.deep.include({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod?.securityContext?.runAsUser).to.be.greaterThan(0);
    expect(container?.securityContext).to.deep.include({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ["ALL"] },
    });
    // A read-only root needs somewhere writable for Node's temporary files.
    expect(container?.volumeMounts).to.deep.equal([{ name: "tmp", mountPath: "/tmp" }]);
  });

  it("requests resources and limits memory", () => {
    expect(container?.resources?.requests).to.have.keys("cpu", "memory");
    expect(container?.resources?.limits).to.have.property("memory");
  });

  it("labels with app.kubernetes.io/*; selectors match the pod labels", () => {
    const labels = deployment.spec?.template.metadata?.labels ?? {};
    expect(labels).to.include({
      "app.kubernetes.io/name": "tritonscale",
      "app.kubernetes.io/component": "controller",
      "app.kubernetes.io/part-of": "tritonscale",
    });
    expect(labels).to.include(deployment.spec?.selector.matchLabels);
    expect(labels).to.include(service.spec?.selector);
    expect(deployment.metadata?.labels).to.include({ "app.kubernetes.io/name": "tritonscale" });
  });

  it("serves gRPC and metrics on the Service, at the pools' default scalerAddress", () => {
    const ports = service.spec?.ports ?? [];
    expect(ports.map((p) => [p.name, p.port, p.targetPort])).to.deep.equal([
      ["grpc", 9090, "grpc"],
      ["metrics", 8080, "metrics"],
    ]);
    const policy = loadModelPool(read("examples/yolov8-pool.yaml"), "examples/yolov8-pool.yaml");
    expect(policy.spec.scaling.keda.scalerAddress).to.equal(
      `${service.metadata?.name}.${service.metadata?.namespace}.svc:${CONTROLLER_PORTS.grpc}`,
    );
  });
});
