import { dirname, join } from "node:path";
import { expect } from "chai";
import type protobuf from "protobufjs";
import { projectRoot, requireReference } from "../support/reference.js";
import { compareRoots, loadProto, missingFromOurs, parseProto } from "./compare.js";

/** Fails with every mismatch listed, one per line. */
function expectNone(mismatches: readonly string[], what: string): void {
  expect(mismatches, `${mismatches.length} ${what}:\n  ${mismatches.join("\n  ")}`).to.deep.equal(
    [],
  );
}

interface Twin {
  /** File name under protos/ and under the reference directory. */
  file: string;
  /** Subdirectory of shared/reference holding the upstream twin. */
  reference: "triton" | "keda";
  /** Whether every upstream definition, field, value and rpc must be present in ours. */
  complete: boolean;
}

const twins: readonly Twin[] = [
  { file: "model_config.proto", reference: "triton", complete: true },
  { file: "health.proto", reference: "triton", complete: true },
  { file: "grpc_service.proto", reference: "triton", complete: false },
  { file: "externalscaler.proto", reference: "keda", complete: true },
];

/** The Triton rpcs the controller relies on; grpc_service.proto must have at least these. */
const requiredTritonRpcs: readonly string[] = [
  "ServerLive",
  "ServerReady",
  "ModelReady",
  "ServerMetadata",
  "ModelMetadata",
  "ModelInfer",
  "ModelStreamInfer",
  "ModelConfig",
  "ModelStatistics",
  "RepositoryIndex",
  "RepositoryModelLoad",
  "RepositoryModelUnload",
];

for (const twin of twins) {
  describe(`protos/${twin.file} against upstream`, () => {
    const oursFile = join(projectRoot, "protos", twin.file);
    let upstreamFile = "";
    let ours: protobuf.Root;
    let upstream: protobuf.Root;

    before(function () {
      upstreamFile = join(requireReference(this, twin.reference), twin.file);
      ours = loadProto(oursFile);
      upstream = loadProto(upstreamFile);
    });

    it("resolves its imports beside the importing file", () => {
      expect(ours.files).to.include(oursFile);
      for (const f of ours.files) expect(f.startsWith(join(projectRoot, "protos"))).to.equal(true);
      for (const f of upstream.files) expect(f.startsWith(dirname(upstreamFile))).to.equal(true);
    });

    it("matches upstream in every message, enum and service it declares", () => {
      expectNone(
        compareRoots(ours, upstream, { oursFile, upstreamFile, checkOrder: true }),
        "mismatches against upstream",
      );
    });

    if (twin.complete) {
      it("has every upstream message, enum, field, enum value and rpc", () => {
        expectNone(missingFromOurs(ours, upstream, upstreamFile), "upstream items missing");
      });
    } else {
      it("has the rpcs the controller needs", () => {
        const service = ours.lookupService("inference.GRPCInferenceService");
        const missing = requiredTritonRpcs.filter((rpc) => service.methods[rpc] === undefined);
        expectNone(missing, "required rpcs missing");
      });
    }
  });
}

describe("proto comparator self-test", () => {
  const base = `
    syntax = "proto3";
    package demo;
    option go_package = ".;demo";
    enum Color { RED = 0; GREEN = 1; }
    message Item {
      message Part { string label = 1; }
      string name = 1;
      repeated int64 dims = 2;
      map<string, Part> parts = 3;
      oneof choice { bool flag = 4; Part part = 5; }
      optional uint32 count = 6;
      Color color = 7;
      int32 extra = 8;
    }
    message Spare { int32 x = 1; }
    service Shop { rpc Get(Item) returns (stream Item); }
  `;

  /** Applies one textual change to the base source (the change must apply). */
  function mutate(from: string, to: string): string {
    expect(base, `self-test mutation "${from}"`).to.include(from);
    return base.replace(from, to);
  }

  function diff(oursSource: string): string[] {
    return compareRoots(parseProto(oursSource), parseProto(base), { checkOrder: true });
  }

  it("reports nothing for identical definitions", () => {
    expectNone(diff(base), "mismatches");
    expectNone(missingFromOurs(parseProto(base), parseProto(base)), "missing");
  });

  const cases: readonly { what: string; from: string; to: string; expect: string }[] = [
    { what: "a changed field number", from: "name = 1;", to: "name = 9;", expect: "field number" },
    { what: "a changed scalar type", from: "string name", to: "bytes name", expect: "type" },
    {
      what: "a changed message type",
      from: "map<string, Part> parts",
      to: "map<string, Item> parts",
      expect: "type",
    },
    { what: "a dropped repeated", from: "repeated int64 dims", to: "int64 dims", expect: "label" },
    { what: "a changed map key", from: "map<string, Part>", to: "map<int32, Part>", expect: "key" },
    {
      what: "a field moved out of a oneof",
      from: "oneof choice { bool flag = 4; Part part = 5; }",
      to: "bool flag = 4; oneof choice { Part part = 5; }",
      expect: "oneof",
    },
    {
      what: "a dropped proto3 optional",
      from: "optional uint32 count",
      to: "uint32 count",
      expect: "label",
    },
    { what: "a changed enum number", from: "GREEN = 1;", to: "GREEN = 2;", expect: "enum number" },
    { what: "an extra enum value", from: "GREEN = 1;", to: "GREEN = 1; BLUE = 2;", expect: "BLUE" },
    { what: "a renamed field", from: "int32 extra", to: "int32 extras", expect: "extra" },
    {
      what: "a changed streaming flag",
      from: "returns (stream Item)",
      to: "returns (Item)",
      expect: "rpc signature",
    },
    {
      what: "a changed file option",
      from: '".;demo"',
      to: '".;other"',
      expect: "file options",
    },
    {
      what: "a swapped field order",
      from: "string name = 1;\n      repeated int64 dims = 2;",
      to: "repeated int64 dims = 2;\n      string name = 1;",
      expect: "field order",
    },
    { what: "a changed package", from: "package demo;", to: "package demo2;", expect: "demo2" },
  ];
  for (const c of cases) {
    it(`catches ${c.what}`, () => {
      const found = diff(mutate(c.from, c.to));
      expect(found.length, `no mismatch reported for ${c.what}`).to.be.greaterThan(0);
      expect(found.join("\n")).to.include(c.expect);
    });
  }

  it("reports every mismatch at once", () => {
    const found = diff(mutate("name = 1;", "name = 9;").replace("GREEN = 1;", "GREEN = 3;"));
    expect(found.join("\n")).to.include("demo.Item.name").and.include("demo.Color.GREEN");
  });

  it("catches missing upstream fields, values, rpcs and messages", () => {
    const trimmed = mutate("int32 extra = 8;", "")
      .replace("GREEN = 1;", "")
      .replace("message Part { string label = 1; }", "message Part {}")
      .replace("rpc Get(Item) returns (stream Item);", "");
    const missing = missingFromOurs(parseProto(trimmed), parseProto(base)).join("\n");
    expect(missing).to.include("demo.Item.extra");
    expect(missing).to.include("demo.Color.GREEN");
    expect(missing).to.include("demo.Item.Part.label");
    expect(missing).to.include("demo.Shop.Get");
    const noSpare = missingFromOurs(
      parseProto(mutate("message Spare { int32 x = 1; }", "")),
      parseProto(base),
    );
    expect(noSpare.join("\n")).to.include("demo.Spare: upstream message is missing");
  });
});
