import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { expect } from "chai";
import { parseDuration } from "../../controller/policy/duration.js";
import {
  buildCrdOpenApiSchema,
  durationBoundsOf,
  isDurationSchema,
  modelPoolSchema,
} from "../../controller/policy/schema.js";

type Node = Record<string, unknown>;

/** Every schema node with its path, depth first. */
function* walk(node: unknown, path: string): Generator<[string, Node]> {
  if (typeof node !== "object" || node === null || Array.isArray(node)) return;
  const n = node as Node;
  yield [path, n];
  for (const [k, v] of Object.entries((n.properties as Node | undefined) ?? {})) {
    yield* walk(v, `${path}.${k}`);
  }
  if (n.items !== undefined) yield* walk(n.items, `${path}[]`);
  for (const v of Object.values((n.patternProperties as Node | undefined) ?? {})) {
    yield* walk(v, `${path}{}`);
  }
  if (typeof n.additionalProperties === "object") {
    yield* walk(n.additionalProperties, `${path}{}`);
  }
}

describe("modelPoolSchema", () => {
  it("documents every field", () => {
    const undocumented: string[] = [];
    for (const [path, node] of walk(modelPoolSchema, "")) {
      // Map and list element schemas are documented by their container.
      if (path.endsWith("[]") || path.endsWith("{}")) continue;
      if (typeof node.description !== "string" || node.description.length < 10) {
        undocumented.push(path || "(root)");
      }
    }
    expect(undocumented).to.deep.equal([]);
  });

  it("has defaults that are themselves valid", () => {
    const bad: string[] = [];
    for (const [path, node] of walk(modelPoolSchema, "")) {
      if (!("default" in node)) continue;
      if (!Value.Check(node as TSchema, node.default)) bad.push(path);
    }
    expect(bad).to.deep.equal([]);
  });

  it("bounds every duration on its node, with defaults inside the bounds", () => {
    const unbounded: string[] = [];
    let durations = 0;
    for (const [path, node] of walk(modelPoolSchema, "")) {
      if (!isDurationSchema(node)) continue;
      durations++;
      const b = durationBoundsOf(node);
      const lo = b === undefined ? Number.NaN : parseDuration(b.minimum);
      const hi = b === undefined ? Number.NaN : parseDuration(b.maximum);
      const d = typeof node.default === "string" ? parseDuration(node.default) : lo;
      if (!(lo <= d && d <= hi)) unbounded.push(path);
    }
    expect(durations).to.equal(17);
    expect(unbounded).to.deep.equal([]);
  });

  it("rejects unknown keys in every object", () => {
    const open: string[] = [];
    for (const [path, node] of walk(modelPoolSchema, "")) {
      if (node.properties !== undefined && node.additionalProperties !== false) open.push(path);
    }
    expect(open).to.deep.equal([]);
  });
});

describe("buildCrdOpenApiSchema", () => {
  const crd = buildCrdOpenApiSchema();

  it("is plain JSON: survives a JSON round trip unchanged", () => {
    expect(JSON.parse(JSON.stringify(crd))).to.deep.equal(crd);
  });

  it("has no TypeBox internals, $id, x-valid, const, anyOf or additionalProperties: false", () => {
    const leftovers: string[] = [];
    for (const [path, node] of walk(crd, "")) {
      if (Object.getOwnPropertySymbols(node).length > 0) leftovers.push(`${path}: symbols`);
      for (const k of ["$id", "x-valid", "const", "anyOf", "patternProperties", "examples"]) {
        if (k in node) leftovers.push(`${path}: ${k}`);
      }
      if (node.additionalProperties === false) leftovers.push(`${path}: additionalProperties`);
      if (typeof node.type !== "string") leftovers.push(`${path}: no type`);
    }
    expect(leftovers).to.deep.equal([]);
  });

  it("has the spec fields, with descriptions, defaults and constraints", () => {
    const props = crd.properties as Node;
    const spec = props.spec as Node;
    expect(Object.keys(spec.properties as Node)).to.deep.equal([
      "models",
      "slo",
      "scaling",
      "capacity",
      "cost",
      "triton",
      "monitoring",
    ]);
    expect(spec.required).to.deep.equal(["models", "slo"]);
    const models = (spec.properties as Node).models as Node;
    expect(models["x-kubernetes-list-map-keys"]).to.deep.equal(["name"]);
    const model = (models.items as Node).properties as Node;
    expect(model.imageSize).to.include({ minimum: 32, maximum: 4096, multipleOf: 32 });
    expect(model.precision).to.deep.include({
      type: "string",
      enum: ["fp32", "fp16", "int8"],
      default: "fp16",
    });
    const scaling = (spec.properties as Node).scaling as Node;
    const idle = (scaling.properties as Node).idleWindow as Node;
    expect(idle.default).to.equal("10m");
    expect(idle.description).to.match(/Default: 10m\.$/);
    expect(idle.pattern).to.be.a("string");
  });

  it("uses OpenAPI 3.0 boolean exclusiveMinimum", () => {
    const slo = ((crd.properties as Node).spec as Node).properties as Node;
    const latency = ((slo.slo as Node).properties as Node).latencyP99Ms;
    expect(latency).to.include({ type: "number", minimum: 0, exclusiveMinimum: true });
  });

  it("leaves metadata, apiVersion and kind to the API server; maps become additionalProperties", () => {
    const props = crd.properties as Node;
    expect(props.metadata).to.deep.equal({ type: "object" });
    expect(props.kind).to.deep.include({ type: "string" }).and.not.have.property("enum");
    const capacity = ((props.spec as Node).properties as Node).capacity as Node;
    const selector = (capacity.properties as Node).nodeSelector as Node;
    expect(selector.type).to.equal("object");
    expect((selector.additionalProperties as Node).type).to.equal("string");
  });
});
