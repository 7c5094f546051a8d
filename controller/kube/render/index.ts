import { InputError } from "../../diagnostics/problem.js";
import type { Policy } from "../../policy/index.js";
import { buildNodePool } from "./karpenter.js";
import {
  buildAdapterConfigMap,
  buildDashboardConfigMap,
  buildMonitor,
  buildPrometheusRule,
} from "./monitoring.js";
import { promqlProblems } from "./promql.js";
import { buildHpa, buildScaledObject, buildTriggerAuthentication } from "./scaling.js";
import {
  buildTritonDeployment,
  buildTritonPdb,
  buildTritonService,
  deploymentsOf,
} from "./triton.js";

export { poolWarnings } from "./warnings.js";

/** A rendered Kubernetes object (a typed, validated kubernetes-models instance). */
export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  toJSON(): unknown;
  validate(): void;
}

/**
 * Every Kubernetes object a pool needs, validated, in apply order: capacity (Karpenter
 * NodePool), workloads, networking and disruption, monitoring (the Grafana dashboard's
 * ConfigMap included), then what scales them.
 *
 * Nothing Prometheus would refuse is returned: every PromQL expression in the objects is
 * checked (promql.ts), and any problem throws an {@link InputError} naming the object,
 * the expression and the policy field to change.
 */
export function buildPool(policy: Policy): KubeObject[] {
  const out: KubeObject[] = [];
  if (policy.spec.capacity.provider === "karpenter") out.push(buildNodePool(policy));
  const deployments = deploymentsOf(policy);
  for (const d of deployments) out.push(buildTritonDeployment(policy, d.name, d.type));
  out.push(buildTritonService(policy), buildTritonPdb(policy));
  out.push(buildMonitor(policy), buildPrometheusRule(policy), buildDashboardConfigMap(policy));
  if (policy.spec.scaling.engine === "hpa") {
    out.push(buildAdapterConfigMap(policy));
    for (const d of deployments) out.push(buildHpa(policy, d.name, d.type));
  } else {
    const auth = buildTriggerAuthentication(policy);
    if (auth !== undefined) out.push(auth);
    for (const d of deployments) out.push(buildScaledObject(policy, d.name, d.type));
  }
  const problems = promqlProblems(policy, out);
  if (problems.length > 0) throw new InputError(problems);
  return out;
}
