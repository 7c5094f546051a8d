// Generated from protos/model_config.proto by controller/repository/pbtxt/codegen.ts.
// Do not edit: run `npm run gen` after changing the .proto.

/** Enum `inference.DataType`, by value name. */
export type DataType =
  | "TYPE_INVALID"
  | "TYPE_BOOL"
  | "TYPE_UINT8"
  | "TYPE_UINT16"
  | "TYPE_UINT32"
  | "TYPE_UINT64"
  | "TYPE_INT8"
  | "TYPE_INT16"
  | "TYPE_INT32"
  | "TYPE_INT64"
  | "TYPE_FP16"
  | "TYPE_FP32"
  | "TYPE_FP64"
  | "TYPE_STRING"
  | "TYPE_BF16";

/** Message `inference.ModelRateLimiter`. */
export interface ModelRateLimiter {
  resources?: ModelRateLimiter_Resource[];
  priority?: number;
}

/** Message `inference.ModelRateLimiter.Resource`. */
export interface ModelRateLimiter_Resource {
  name?: string;
  global?: boolean;
  count?: number;
}

/** Message `inference.ModelInstanceGroup`. */
export interface ModelInstanceGroup {
  name?: string;
  count?: number;
  gpus?: number[];
  kind?: ModelInstanceGroup_Kind;
  profile?: string[];
  rate_limiter?: ModelRateLimiter;
  passive?: boolean;
  secondary_devices?: ModelInstanceGroup_SecondaryDevice[];
  host_policy?: string;
}

/** Enum `inference.ModelInstanceGroup.Kind`, by value name. */
export type ModelInstanceGroup_Kind =
  | "KIND_AUTO"
  | "KIND_GPU"
  | "KIND_CPU"
  | "KIND_MODEL";

/** Message `inference.ModelInstanceGroup.SecondaryDevice`. */
export interface ModelInstanceGroup_SecondaryDevice {
  kind?: ModelInstanceGroup_SecondaryDevice_SecondaryDeviceKind;
  device_id?: bigint;
}

/** Enum `inference.ModelInstanceGroup.SecondaryDevice.SecondaryDeviceKind`, by value name. */
export type ModelInstanceGroup_SecondaryDevice_SecondaryDeviceKind =
  | "KIND_NVDLA";

/** Message `inference.ModelTensorReshape`. */
export interface ModelTensorReshape {
  shape?: bigint[];
}

/** Message `inference.ModelInput`. */
export interface ModelInput {
  name?: string;
  data_type?: DataType;
  format?: ModelInput_Format;
  dims?: bigint[];
  reshape?: ModelTensorReshape;
  is_shape_tensor?: boolean;
  allow_ragged_batch?: boolean;
  optional?: boolean;
  is_non_linear_format_io?: boolean;
}

/** Enum `inference.ModelInput.Format`, by value name. */
export type ModelInput_Format =
  | "FORMAT_NONE"
  | "FORMAT_NHWC"
  | "FORMAT_NCHW";

/** Message `inference.ModelOutput`. */
export interface ModelOutput {
  name?: string;
  data_type?: DataType;
  dims?: bigint[];
  label_filename?: string;
  reshape?: ModelTensorReshape;
  is_shape_tensor?: boolean;
  is_non_linear_format_io?: boolean;
}

/** Message `inference.BatchInput`. */
export interface BatchInput {
  kind?: BatchInput_Kind;
  target_name?: string[];
  data_type?: DataType;
  source_input?: string[];
}

/** Enum `inference.BatchInput.Kind`, by value name. */
export type BatchInput_Kind =
  | "BATCH_ELEMENT_COUNT"
  | "BATCH_ACCUMULATED_ELEMENT_COUNT"
  | "BATCH_ACCUMULATED_ELEMENT_COUNT_WITH_ZERO"
  | "BATCH_MAX_ELEMENT_COUNT_AS_SHAPE"
  | "BATCH_ITEM_SHAPE"
  | "BATCH_ITEM_SHAPE_FLATTEN";

/** Message `inference.BatchOutput`. */
export interface BatchOutput {
  target_name?: string[];
  kind?: BatchOutput_Kind;
  source_input?: string[];
}

/** Enum `inference.BatchOutput.Kind`, by value name. */
export type BatchOutput_Kind =
  | "BATCH_SCATTER_WITH_INPUT_SHAPE";

/** Message `inference.ModelVersionPolicy`. */
export interface ModelVersionPolicy {
  latest?: ModelVersionPolicy_Latest;
  all?: ModelVersionPolicy_All;
  specific?: ModelVersionPolicy_Specific;
}

/** Message `inference.ModelVersionPolicy.Latest`. */
export interface ModelVersionPolicy_Latest {
  num_versions?: number;
}

/** Message `inference.ModelVersionPolicy.All`. */
export type ModelVersionPolicy_All = Record<string, never>;

/** Message `inference.ModelVersionPolicy.Specific`. */
export interface ModelVersionPolicy_Specific {
  versions?: bigint[];
}

/** Message `inference.ModelOptimizationPolicy`. */
export interface ModelOptimizationPolicy {
  graph?: ModelOptimizationPolicy_Graph;
  priority?: ModelOptimizationPolicy_ModelPriority;
  cuda?: ModelOptimizationPolicy_Cuda;
  execution_accelerators?: ModelOptimizationPolicy_ExecutionAccelerators;
  input_pinned_memory?: ModelOptimizationPolicy_PinnedMemoryBuffer;
  output_pinned_memory?: ModelOptimizationPolicy_PinnedMemoryBuffer;
  gather_kernel_buffer_threshold?: number;
  eager_batching?: boolean;
}

/** Message `inference.ModelOptimizationPolicy.Graph`. */
export interface ModelOptimizationPolicy_Graph {
  level?: number;
}

/** Enum `inference.ModelOptimizationPolicy.ModelPriority`, by value name. */
export type ModelOptimizationPolicy_ModelPriority =
  | "PRIORITY_DEFAULT"
  | "PRIORITY_MAX"
  | "PRIORITY_MIN";

/** Message `inference.ModelOptimizationPolicy.Cuda`. */
export interface ModelOptimizationPolicy_Cuda {
  graphs?: boolean;
  busy_wait_events?: boolean;
  graph_spec?: ModelOptimizationPolicy_Cuda_GraphSpec[];
  output_copy_stream?: boolean;
}

/** Message `inference.ModelOptimizationPolicy.Cuda.GraphSpec`. */
export interface ModelOptimizationPolicy_Cuda_GraphSpec {
  batch_size?: number;
  input?: { [key: string]: ModelOptimizationPolicy_Cuda_GraphSpec_Shape };
  graph_lower_bound?: ModelOptimizationPolicy_Cuda_GraphSpec_LowerBound;
}

/** Message `inference.ModelOptimizationPolicy.Cuda.GraphSpec.Shape`. */
export interface ModelOptimizationPolicy_Cuda_GraphSpec_Shape {
  dim?: bigint[];
}

/** Message `inference.ModelOptimizationPolicy.Cuda.GraphSpec.LowerBound`. */
export interface ModelOptimizationPolicy_Cuda_GraphSpec_LowerBound {
  batch_size?: number;
  input?: { [key: string]: ModelOptimizationPolicy_Cuda_GraphSpec_Shape };
}

/** Message `inference.ModelOptimizationPolicy.ExecutionAccelerators`. */
export interface ModelOptimizationPolicy_ExecutionAccelerators {
  gpu_execution_accelerator?: ModelOptimizationPolicy_ExecutionAccelerators_Accelerator[];
  cpu_execution_accelerator?: ModelOptimizationPolicy_ExecutionAccelerators_Accelerator[];
}

/** Message `inference.ModelOptimizationPolicy.ExecutionAccelerators.Accelerator`. */
export interface ModelOptimizationPolicy_ExecutionAccelerators_Accelerator {
  name?: string;
  parameters?: { [key: string]: string };
}

/** Message `inference.ModelOptimizationPolicy.PinnedMemoryBuffer`. */
export interface ModelOptimizationPolicy_PinnedMemoryBuffer {
  enable?: boolean;
}

/** Message `inference.ModelQueuePolicy`. */
export interface ModelQueuePolicy {
  timeout_action?: ModelQueuePolicy_TimeoutAction;
  default_timeout_microseconds?: bigint;
  allow_timeout_override?: boolean;
  max_queue_size?: number;
}

/** Enum `inference.ModelQueuePolicy.TimeoutAction`, by value name. */
export type ModelQueuePolicy_TimeoutAction =
  | "REJECT"
  | "DELAY";

/** Message `inference.ModelDynamicBatching`. */
export interface ModelDynamicBatching {
  preferred_batch_size?: number[];
  max_queue_delay_microseconds?: bigint;
  preserve_ordering?: boolean;
  priority_levels?: bigint;
  default_priority_level?: bigint;
  default_queue_policy?: ModelQueuePolicy;
  priority_queue_policy?: { [key: string]: ModelQueuePolicy };
}

/** Message `inference.ModelSequenceBatching`. */
export interface ModelSequenceBatching {
  max_sequence_idle_microseconds?: bigint;
  control_input?: ModelSequenceBatching_ControlInput[];
  direct?: ModelSequenceBatching_StrategyDirect;
  oldest?: ModelSequenceBatching_StrategyOldest;
  state?: ModelSequenceBatching_State[];
  iterative_sequence?: boolean;
}

/** Message `inference.ModelSequenceBatching.Control`. */
export interface ModelSequenceBatching_Control {
  kind?: ModelSequenceBatching_Control_Kind;
  int32_false_true?: number[];
  fp32_false_true?: number[];
  data_type?: DataType;
  bool_false_true?: boolean[];
}

/** Enum `inference.ModelSequenceBatching.Control.Kind`, by value name. */
export type ModelSequenceBatching_Control_Kind =
  | "CONTROL_SEQUENCE_START"
  | "CONTROL_SEQUENCE_READY"
  | "CONTROL_SEQUENCE_END"
  | "CONTROL_SEQUENCE_CORRID";

/** Message `inference.ModelSequenceBatching.ControlInput`. */
export interface ModelSequenceBatching_ControlInput {
  name?: string;
  control?: ModelSequenceBatching_Control[];
}

/** Message `inference.ModelSequenceBatching.InitialState`. */
export interface ModelSequenceBatching_InitialState {
  data_type?: DataType;
  dims?: bigint[];
  zero_data?: boolean;
  data_file?: string;
  name?: string;
}

/** Message `inference.ModelSequenceBatching.State`. */
export interface ModelSequenceBatching_State {
  input_name?: string;
  output_name?: string;
  data_type?: DataType;
  dims?: bigint[];
  initial_state?: ModelSequenceBatching_InitialState[];
  use_same_buffer_for_input_output?: boolean;
  use_growable_memory?: boolean;
}

/** Message `inference.ModelSequenceBatching.StrategyDirect`. */
export interface ModelSequenceBatching_StrategyDirect {
  max_queue_delay_microseconds?: bigint;
  minimum_slot_utilization?: number;
}

/** Message `inference.ModelSequenceBatching.StrategyOldest`. */
export interface ModelSequenceBatching_StrategyOldest {
  max_candidate_sequences?: number;
  preferred_batch_size?: number[];
  max_queue_delay_microseconds?: bigint;
  preserve_ordering?: boolean;
}

/** Message `inference.ModelEnsembling`. */
export interface ModelEnsembling {
  step?: ModelEnsembling_Step[];
  max_inflight_requests?: number;
}

/** Message `inference.ModelEnsembling.Step`. */
export interface ModelEnsembling_Step {
  model_name?: string;
  model_version?: bigint;
  input_map?: { [key: string]: string };
  output_map?: { [key: string]: string };
  model_namespace?: string;
}

/** Message `inference.ModelParameter`. */
export interface ModelParameter {
  string_value?: string;
}

/** Message `inference.ModelWarmup`. */
export interface ModelWarmup {
  name?: string;
  batch_size?: number;
  inputs?: { [key: string]: ModelWarmup_Input };
  count?: number;
}

/** Message `inference.ModelWarmup.Input`. */
export interface ModelWarmup_Input {
  data_type?: DataType;
  dims?: bigint[];
  zero_data?: boolean;
  random_data?: boolean;
  input_data_file?: string;
}

/** Message `inference.ModelOperations`. */
export interface ModelOperations {
  op_library_filename?: string[];
}

/** Message `inference.ModelTransactionPolicy`. */
export interface ModelTransactionPolicy {
  decoupled?: boolean;
}

/** Message `inference.ModelRepositoryAgents`. */
export interface ModelRepositoryAgents {
  agents?: ModelRepositoryAgents_Agent[];
}

/** Message `inference.ModelRepositoryAgents.Agent`. */
export interface ModelRepositoryAgents_Agent {
  name?: string;
  parameters?: { [key: string]: string };
}

/** Message `inference.ModelResponseCache`. */
export interface ModelResponseCache {
  enable?: boolean;
}

/** Message `inference.ModelMetrics`. */
export interface ModelMetrics {
  metric_control?: ModelMetrics_MetricControl[];
}

/** Message `inference.ModelMetrics.MetricControl`. */
export interface ModelMetrics_MetricControl {
  metric_identifier?: ModelMetrics_MetricControl_MetricIdentifier;
  histogram_options?: ModelMetrics_MetricControl_HistogramOptions;
}

/** Message `inference.ModelMetrics.MetricControl.MetricIdentifier`. */
export interface ModelMetrics_MetricControl_MetricIdentifier {
  family?: string;
}

/** Message `inference.ModelMetrics.MetricControl.HistogramOptions`. */
export interface ModelMetrics_MetricControl_HistogramOptions {
  buckets?: number[];
}

/** Message `inference.ModelConfig`. */
export interface ModelConfig {
  name?: string;
  platform?: string;
  version_policy?: ModelVersionPolicy;
  max_batch_size?: number;
  input?: ModelInput[];
  output?: ModelOutput[];
  instance_group?: ModelInstanceGroup[];
  default_model_filename?: string;
  cc_model_filenames?: { [key: string]: string };
  metric_tags?: { [key: string]: string };
  dynamic_batching?: ModelDynamicBatching;
  optimization?: ModelOptimizationPolicy;
  sequence_batching?: ModelSequenceBatching;
  parameters?: { [key: string]: ModelParameter };
  ensemble_scheduling?: ModelEnsembling;
  model_warmup?: ModelWarmup[];
  backend?: string;
  model_operations?: ModelOperations;
  model_transaction_policy?: ModelTransactionPolicy;
  batch_input?: BatchInput[];
  batch_output?: BatchOutput[];
  model_repository_agents?: ModelRepositoryAgents;
  response_cache?: ModelResponseCache;
  runtime?: string;
  model_metrics?: ModelMetrics;
}
