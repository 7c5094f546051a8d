import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "chai";
import type { IJSONSchemaProps } from "kubernetes-models/apiextensions.k8s.io/v1";
import { parse, stringify } from "yaml";
import { buildPool, type KubeObject } from "../../controller/kube/render/index.js";
import { loadModelPool, type Policy, PROVIDERS } from "../../controller/policy/index.js";
import { validateOpenApi } from "../support/openapi.js";
import { pool, poolDocument } from "../support/pools.js";
import { requireReference } from "../support/reference.js";

type Json = { [k: string]: unknown };
const json = (o: KubeObject): Json => JSON.parse(JSON.stringify(o.toJSON())) as Json;

function kedaPool(keda: Record<string, unknown>, provider = "eks"): Policy {
  return pool(provider, "keda", {
    scaling: {
      engine: "keda",
      maxReplicas: 8,
      keda,
    },
  });
}

function crdSchema(dir: string, file: string): IJSONSchemaProps {
  const crd = parse(readFileSync(join(dir, file), "utf8")) as {
    spec: { versions: { name: string; schema: { openAPIV3Schema: IJSONSchemaProps } }[] };
  };
  return crd.spec.versions.find((v) => v.name === "v1alpha1")!.schema.openAPIV3Schema;
}

interface Row {
  readonly name: string;
  readonly keda: Record<string, unknown>;
  /** The TriggerAuthentication's secretTargetRef, or null when none is rendered. */
  readonly auth: { parameter: string; key: string }[] | null;
  /** The tolerance in both directions of the HPA behavior, or null when not rendered. */
  readonly tolerance: string | null;
}

const ROWS: readonly Row[] = [
  { name: "no TLS, no tolerance: nothing new rendered", keda: {}, auth: null, tolerance: null },
  {
    name: "TLS: enableTLS and a TriggerAuthentication with the CA",
    keda: { tls: { secretName: "tritonscale-keda" } },
    auth: [{ parameter: "caCert", key: "ca.crt" }],
    tolerance: null,
  },
  {
    name: "mutual TLS: the CA, KEDA's client certificate and key",
    keda: { tls: { secretName: "tritonscale-keda", clientCertificate: true } },
    auth: [
      { parameter: "caCert", key: "ca.crt" },
      { parameter: "tlsClientCert", key: "tls.crt" },
      { parameter: "tlsClientKey", key: "tls.key" },
    ],
    tolerance: null,
  },
  {
    name: "hpaTolerance 0: rendered both ways as a quantity",
    keda: { hpaTolerance: 0 },
    auth: null,
    tolerance: "0",
  },
  { name: "hpaTolerance 0.05", keda: { hpaTolerance: 0.05 }, auth: null, tolerance: "0.05" },
];

describe("render: KEDA TLS (spec.scaling.keda.tls) and the HPA tolerance (spec.scaling.keda.hpaTolerance)", () => {
  for (const row of ROWS) {
    it(row.name, () => {
      const objects = buildPool(kedaPool(row.keda));
      const auths = objects.filter((o) => o.kind === "TriggerAuthentication").map(json);
      const scaledObjects = objects.filter((o) => o.kind === "ScaledObject").map(json);
      expect(scaledObjects).to.have.lengthOf(2);
      if (row.auth === null) {
        expect(auths).to.deep.equal([]);
      } else {
        expect(auths).to.have.lengthOf(1);
        const ta = auths[0]!;
        expect(ta.metadata).to.include({ name: "yolo-tritonscale-tls", namespace: "vision" });
        expect((ta.spec as Json).secretTargetRef).to.deep.equal(
          row.auth.map((r) => ({ ...r, name: "tritonscale-keda" })),
        );
        // Applied before the ScaledObjects that reference it.
        const kinds = objects.map((o) => o.kind);
        expect(kinds.indexOf("TriggerAuthentication")).to.be.lessThan(
          kinds.indexOf("ScaledObject"),
        );
      }
      for (const so of scaledObjects) {
        const spec = so.spec as Json;
        const triggers = spec.triggers as Json[];
        const external = triggers.find((t) => t.type === "external")!;
        const metadata = external.metadata as Json;
        if (row.auth === null) {
          expect(metadata).to.not.have.property("enableTLS");
          expect(external).to.not.have.property("authenticationRef");
        } else {
          expect(metadata.enableTLS).to.equal("true");
          expect(external.authenticationRef).to.deep.equal({ name: "yolo-tritonscale-tls" });
        }
        // The prometheus fallback trigger never gets the scaler's TLS.
        for (const t of triggers.filter((t) => t.type !== "external")) {
          expect(t).to.not.have.property("authenticationRef");
        }
        const behavior = (
          (spec.advanced as Json).horizontalPodAutoscalerConfig as { behavior: Json }
        ).behavior as { scaleUp: Json; scaleDown: Json };
        for (const dir of [behavior.scaleUp, behavior.scaleDown]) {
          if (row.tolerance === null) expect(dir).to.not.have.property("tolerance");
          else expect(dir.tolerance).to.equal(row.tolerance);
        }
      }
    });
  }

  it("the HPA engine is unchanged by either setting (they apply to KEDA's ScaledObjects)", () => {
    const p = pool("eks", "hpa", {
      scaling: {
        engine: "hpa",
        minReplicas: 1,
        maxReplicas: 8,
        keda: { hpaTolerance: 0, tls: { secretName: "s" } },
      },
    });
    const objects = buildPool(p);
    expect(objects.map((o) => o.kind)).to.not.include("TriggerAuthentication");
    const hpa = json(objects.find((o) => o.kind === "HorizontalPodAutoscaler")!);
    expect(((hpa.spec as Json).behavior as { scaleUp: Json }).scaleUp).to.not.have.property(
      "tolerance",
    );
  });

  interface BadRow {
    readonly name: string;
    readonly keda: Record<string, unknown>;
    readonly message: RegExp;
  }
  const BAD: readonly BadRow[] = [
    {
      name: "tls without secretName",
      keda: { tls: {} },
      message: /spec\.scaling\.keda\.tls.*secretName/,
    },
    {
      name: "a Secret name that is no DNS label",
      keda: { tls: { secretName: "Bad_Name" } },
      message: /spec\.scaling\.keda\.tls\.secretName/,
    },
    {
      name: "an unknown tls field",
      keda: { tls: { secretName: "s", caKey: "x" } },
      message: /spec\.scaling\.keda\.tls\.caKey/,
    },
    {
      name: "a negative tolerance",
      keda: { hpaTolerance: -0.1 },
      message: /spec\.scaling\.keda\.hpaTolerance/,
    },
  ];
  for (const row of BAD) {
    it(`rejects ${row.name} with its field path`, () => {
      const doc = poolDocument({ scaling: { keda: row.keda } });
      expect(() => loadModelPool(stringify(doc), "pool.yaml")).to.throw(row.message);
    });
  }
});

describe("render: KEDA TLS and tolerance against KEDA's CRDs", () => {
  let scaledObject: IJSONSchemaProps;
  let triggerAuthentication: IJSONSchemaProps;
  before(function () {
    const keda = requireReference(this, "keda");
    scaledObject = crdSchema(keda, "keda.sh_scaledobjects.yaml");
    triggerAuthentication = crdSchema(keda, "keda.sh_triggerauthentications.yaml");
  });

  for (const provider of PROVIDERS) {
    it(`${provider}: the ScaledObjects with TLS and tolerance 0, and the TriggerAuthentication, validate`, () => {
      const objects = buildPool(
        kedaPool(
          { tls: { secretName: "tritonscale-keda", clientCertificate: true }, hpaTolerance: 0 },
          provider,
        ),
      );
      const checked = objects.filter(
        (o) => o.kind === "ScaledObject" || o.kind === "TriggerAuthentication",
      );
      expect(checked.map((o) => o.kind)).to.deep.equal([
        "TriggerAuthentication",
        "ScaledObject",
        "ScaledObject",
      ]);
      for (const o of checked) {
        const schema = o.kind === "ScaledObject" ? scaledObject : triggerAuthentication;
        expect(validateOpenApi(schema, json(o)), o.kind).to.deep.equal([]);
      }
    });
  }

  it("is a real check: a secretTargetRef without its key is refused", () => {
    const ta = json(
      buildPool(kedaPool({ tls: { secretName: "s" } })).find(
        (o) => o.kind === "TriggerAuthentication",
      )!,
    );
    ((ta.spec as Json).secretTargetRef as Json[])[0]!.key = undefined;
    const cleaned = JSON.parse(JSON.stringify(ta)) as Json;
    expect(validateOpenApi(triggerAuthentication, cleaned).join("\n")).to.match(/key/);
  });
});
