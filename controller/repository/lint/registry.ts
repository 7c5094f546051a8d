/**
 * The registry: every lint rule by name, in the order findings at one position are
 * reported. Adding a rule = one function in its family's file, one entry here, one row
 * in test/repository/lint.test.ts.
 */

import { executionAccelerator, executionAcceleratorParameter } from "./accelerators.js";
import {
  dynamicBatchingMaxBatchSize,
  preferredBatchSize,
  preferredBatchSizeDuplicate,
} from "./batching.js";
import {
  ensembleForbiddenField,
  ensembleInputUnused,
  ensembleOutputUnwritten,
  ensemblePlatform,
  ensembleSchedulingRequired,
  ensembleStep,
  ensembleTensorDuplicate,
  ensembleTensorSource,
  ensembleTensorUnused,
} from "./ensemble.js";
import {
  ensembleBatchSize,
  ensembleModelMissing,
  ensembleStepTensors,
  ensembleTensorConsistency,
} from "./ensemble-repository.js";
import {
  instanceGroupCount,
  instanceGroupGpuId,
  instanceGroupGpus,
  instanceGroupProfile,
  rateLimiterResource,
} from "./instance-groups.js";
import { backendName, maxBatchSize, modelNameDirectory, platformBackend } from "./model.js";
import { modelMetrics } from "./model-metrics.js";
import {
  defaultPriorityLevel,
  preserveOrderingDelay,
  preserveOrderingPriority,
  priorityLevelsUnset,
  priorityQueuePolicyLevel,
  queuePolicyTimeout,
} from "./queue-policy.js";
import { responseCache } from "./response-cache.js";
import type { LintRule } from "./rule.js";
import { sequenceBatchingControl, sequenceBatchingSlotUtilization } from "./sequence-batching.js";
import {
  batchIo,
  ioDataType,
  ioDims,
  ioFormat,
  ioName,
  ioNonLinearFormat,
  ioReshape,
  ioShapeTensor,
} from "./tensors.js";

/**
 * Every lint rule, by name. Adding a rule = one function in its family's file, one entry
 * here, one row in test/repository/lint.test.ts.
 */
export const lintRules = {
  "max-batch-size": maxBatchSize,
  "model-name-directory": modelNameDirectory,
  "platform-backend": platformBackend,
  "backend-name": backendName,
  "dynamic-batching-max-batch-size": dynamicBatchingMaxBatchSize,
  "preferred-batch-size": preferredBatchSize,
  "preferred-batch-size-duplicate": preferredBatchSizeDuplicate,
  "default-priority-level": defaultPriorityLevel,
  "priority-queue-policy-level": priorityQueuePolicyLevel,
  "priority-levels-unset": priorityLevelsUnset,
  "preserve-ordering-priority": preserveOrderingPriority,
  "preserve-ordering-delay": preserveOrderingDelay,
  "queue-policy-timeout": queuePolicyTimeout,
  "instance-group-gpus": instanceGroupGpus,
  "instance-group-gpu-id": instanceGroupGpuId,
  "instance-group-count": instanceGroupCount,
  "instance-group-profile": instanceGroupProfile,
  "rate-limiter-resource": rateLimiterResource,
  "io-name": ioName,
  "io-data-type": ioDataType,
  "io-dims": ioDims,
  "io-reshape": ioReshape,
  "io-format": ioFormat,
  "io-shape-tensor": ioShapeTensor,
  "io-non-linear-format": ioNonLinearFormat,
  "batch-io": batchIo,
  "sequence-batching-control": sequenceBatchingControl,
  "sequence-batching-slot-utilization": sequenceBatchingSlotUtilization,
  "response-cache": responseCache,
  "model-metrics": modelMetrics,
  "execution-accelerator": executionAccelerator,
  "execution-accelerator-parameter": executionAcceleratorParameter,
  "ensemble-scheduling-required": ensembleSchedulingRequired,
  "ensemble-platform": ensemblePlatform,
  "ensemble-forbidden-field": ensembleForbiddenField,
  "ensemble-step": ensembleStep,
  "ensemble-tensor-duplicate": ensembleTensorDuplicate,
  "ensemble-tensor-source": ensembleTensorSource,
  "ensemble-input-unused": ensembleInputUnused,
  "ensemble-output-unwritten": ensembleOutputUnwritten,
  "ensemble-tensor-unused": ensembleTensorUnused,
  "ensemble-model-missing": ensembleModelMissing,
  "ensemble-step-tensors": ensembleStepTensors,
  "ensemble-batch-size": ensembleBatchSize,
  "ensemble-tensor-consistency": ensembleTensorConsistency,
} as const satisfies Record<string, LintRule>;

/** The name of a lint rule, e.g. `default-priority-level`. */
export type LintRuleName = keyof typeof lintRules;
