import type { V1Pod } from "@kubernetes/client-node";
import { expect } from "chai";
import { podState, replicaCountsOf, tritonPodsOf } from "../../controller/kube/pods.js";

const NOW = Date.parse("2026-12-01T12:00:00Z") / 1000;

interface PodSpec {
  readonly name: string;
  readonly type?: "spot" | "on-demand";
  readonly scheduled?: boolean;
  readonly ready?: boolean;
  readonly ageSeconds?: number;
  readonly phase?: string;
  readonly deleting?: boolean;
  readonly ip?: string;
}

function pod(p: PodSpec): V1Pod {
  const conditions = [
    { type: "PodScheduled", status: p.scheduled === false ? "False" : "True" },
    ...(p.ready === undefined ? [] : [{ type: "Ready", status: p.ready ? "True" : "False" }]),
  ];
  return {
    metadata: {
      name: p.name,
      namespace: "vision",
      uid: `uid-${p.name}`,
      labels: {
        "tritonscale.dev/pool": "yolo",
        ...(p.type === undefined ? {} : { "tritonscale.dev/capacity-type": p.type }),
      },
      creationTimestamp: new Date((NOW - (p.ageSeconds ?? 0)) * 1000),
      ...(p.deleting ? { deletionTimestamp: new Date(NOW * 1000) } : {}),
    },
    spec: {
      containers: [],
      ...(p.scheduled === false ? {} : { nodeName: "gpu-node-1" }),
    },
    status: { phase: p.phase ?? "Running", conditions, ...(p.ip ? { podIP: p.ip } : {}) },
  };
}

describe("kube/pods: a pool's pods as replica counts", () => {
  const rows: { name: string; pod: PodSpec; state: ReturnType<typeof podState> }[] = [
    { name: "Ready is ready", pod: { name: "a", ready: true }, state: "ready" },
    {
      name: "on a node, not Ready yet (image pull, model load) is starting",
      pod: { name: "b", ready: false },
      state: "starting",
    },
    {
      name: "not scheduled (waiting for a GPU node) is pending",
      pod: { name: "c", scheduled: false, phase: "Pending" },
      state: "pending",
    },
    {
      name: "terminating (a Spot reclaim, a scale-down) is gone even while Ready",
      pod: { name: "d", ready: true, deleting: true },
      state: "gone",
    },
    { name: "Failed is gone", pod: { name: "e", phase: "Failed" }, state: "gone" },
  ];
  for (const row of rows) {
    it(row.name, () => {
      expect(podState(pod(row.pod))).to.equal(row.state);
    });
  }

  it("counts by state and capacity type; the oldest pending Spot pod's wait (the worked example)", () => {
    const counts = replicaCountsOf(
      [
        pod({ name: "od-1", type: "on-demand", ready: true }),
        pod({ name: "od-2", type: "on-demand", ready: true }),
        pod({ name: "spot-1", type: "spot", ready: false }),
        pod({ name: "spot-2", type: "spot", scheduled: false, phase: "Pending", ageSeconds: 95 }),
        pod({ name: "spot-3", type: "spot", scheduled: false, phase: "Pending", ageSeconds: 30 }),
        pod({ name: "gone", type: "spot", ready: true, deleting: true }),
      ],
      NOW,
    );
    expect(counts).to.deep.equal({
      ready: { spot: 0, onDemand: 2 },
      starting: { spot: 1, onDemand: 0 },
      pending: { spot: 2, onDemand: 0 },
      oldestPendingSpotSeconds: 95,
    });
  });

  it("a pod without the capacity-type label counts as on-demand (a pool without Spot)", () => {
    const counts = replicaCountsOf([pod({ name: "x", ready: true })], NOW);
    expect(counts.ready).to.deep.equal({ spot: 0, onDemand: 1 });
  });

  it("scrapes ready and starting pods with an IP, never pending or leaving ones", () => {
    const pods = tritonPodsOf([
      pod({ name: "r", type: "spot", ready: true, ip: "10.0.0.1" }),
      pod({ name: "s", ready: false, ip: "10.0.0.2" }),
      pod({ name: "no-ip", ready: false }),
      pod({ name: "p", scheduled: false, phase: "Pending", ip: "10.0.0.3" }),
      pod({ name: "d", ready: true, deleting: true, ip: "10.0.0.4" }),
    ]);
    expect(pods).to.deep.equal([
      {
        replica: "r/uid-r",
        namespace: "vision",
        name: "r",
        host: "10.0.0.1",
        ready: true,
        capacityType: "spot",
      },
      {
        replica: "s/uid-s",
        namespace: "vision",
        name: "s",
        host: "10.0.0.2",
        ready: false,
        capacityType: "onDemand",
      },
    ]);
  });
});
