/**
 * # fake-kube: a fake Kubernetes API server over real HTTP on loopback
 *
 * For tests and benchmarks driven by the real `@kubernetes/client-node` (and kubectl).
 * The API below is stable; other helpers build on it.
 *
 * ```ts
 * const fake = await startFakeKube();            // 127.0.0.1:<free port>, ModelPool CRD loaded
 * const kc = fake.kubeConfig("vision");          // KubeConfig: http://127.0.0.1:PORT, skipTLSVerify
 * const api = KubernetesObjectApi.makeApiClient(kc);
 * fake.inject({ status: 500, times: 3, match: (r) => r.verb === "patch" });
 * ...
 * await fake.close();
 * ```
 *
 * ## What it serves
 * - Discovery: `/api`, `/api/v1`, `/apis`, `/apis/<g>`, `/apis/<g>/<v>`, `/version`. Not
 *   `/openapi/v2|v3` (404): run kubectl with `--validate=false`.
 * - Types ({@link BUILTIN_RESOURCES}): core v1 Namespaces, Nodes, Pods, Services,
 *   ConfigMaps, Secrets, Events; events.k8s.io/v1 Events (a separate store from core
 *   Events); apps/v1 Deployments; policy/v1 PodDisruptionBudgets; autoscaling/v2 HPAs;
 *   coordination.k8s.io/v1 Leases; discovery.k8s.io/v1 EndpointSlices; keda.sh/v1alpha1
 *   ScaledObjects and TriggerAuthentications; monitoring.coreos.com/v1 ServiceMonitors,
 *   PodMonitors, PrometheusRules; karpenter.sh/v1 NodePools (cluster-scoped);
 *   apiextensions.k8s.io/v1 CRDs (stored only); plus every CRD passed in `crds` (default:
 *   manifests/crd.yaml as `npm run gen` writes it, i.e. tritonscale.dev/v1alpha1 ModelPool).
 * - Verbs: get, list, watch, create (POST), update (PUT), patch, delete, deletecollection,
 *   on `/namespaces/<ns>/<plural>[/<name>[/status]]` and `/<plural>[/<name>]` (all
 *   namespaces / cluster-scoped). `?dryRun=All` writes nothing.
 * - list/watch: `labelSelector` (equality and set-based), `fieldSelector` (`path=value`,
 *   `!=`, any dotted path), `resourceVersion`, `timeoutSeconds`, `allowWatchBookmarks`
 *   (bookmarks only when the test calls {@link FakeKube.bookmark}). A watch from no
 *   resourceVersion or "0" starts with ADDED for every object; from N it replays the
 *   history after N; older than the retained history: an ERROR event with a 410 Status,
 *   then the stream ends (like the real server). An update moving an object out of (into)
 *   a watch's selector is sent as DELETED (ADDED).
 * - Bookkeeping: one global resourceVersion counter (bumped on every write, never on a
 *   no-op); uid, creationTimestamp on create; `generation` starts at 1 and bumps when
 *   anything but metadata and status changes. Types with a status subresource: writes to
 *   the main resource keep the stored status, writes to `/status` change only status.
 * - Built-in admission (builtin.ts): a Deployment's `spec.replicas` defaults to 1 on create
 *   and its `spec.selector` is immutable; a Service gets a `clusterIP` allocated, kept when
 *   an update leaves it out, immutable otherwise.
 * - Deletion is immediate (no finalizers, no grace period); dependents whose
 *   `ownerReferences` name the deleted uid are deleted with it (garbage collection).
 *   Namespaces are not required to exist.
 *
 * ## Server-side apply (simplified, see apply.ts)
 * PATCH with `Content-Type: application/apply-patch+yaml` (YAML or JSON body),
 * `fieldManager` required, `force=true` optional. Objects merge key by key; lists and
 * scalars are atomic (no list-map keys: a list is owned whole by the last manager that
 * applied it). Each manager's fields are recorded in `metadata.managedFields` (FieldsV1,
 * operation Apply, or Update for create/PUT/merge/JSON patch). A field the manager applied
 * before and no longer applies is removed unless another manager owns it. A field another
 * manager owns with a different value is a 409 Conflict (reason Conflict, a cause per field)
 * unless `force=true`. Apply creates a missing object (201). A no-op apply keeps the
 * resourceVersion. Strategic merge patch is a JSON merge patch here (lists replaced), and
 * refused (415) on custom resources, like the real server.
 *
 * ## What it rejects, like a real API server
 * - PATCH with a content type other than json-patch, merge-patch, strategic-merge-patch
 *   (built-in types) or apply-patch+yaml: 415; `force` on a non-apply patch: 422; an apply
 *   without `fieldManager`: 422; a JSON patch whose body is not a list: 400.
 * - PUT/PATCH/apply carrying a `metadata.resourceVersion` that is not the stored one: 409.
 * - A MicroTime (Lease `spec.acquireTime`/`renewTime`, Event `eventTime`) without exactly
 *   6 fractional digits: 400 (the body cannot be decoded).
 * - A custom resource that fails its CRD's openAPIV3Schema (checked with Ajv and the
 *   Kubernetes formats of kubernetes-models): 422 with a cause per field. Unknown fields
 *   are pruned (with a `Warning` header) or, with `?fieldValidation=Strict`, a 422. A
 *   stored custom resource has its schema's `default`s filled in, like the real server.
 * - Object names that are not DNS-1123 subdomains: 422; create of an existing name: 409
 *   AlreadyExists; missing object: 404; apiVersion/kind or namespace not matching the URL: 400.
 *
 * ## Faults ({@link FakeKube.inject})
 * `inject({ match?, times?, status?, reason?, message?, retryAfterSeconds?, delayMs?, reset? })`:
 * the next `times` (default 1) requests matching `match` (default: all but discovery)
 * wait `delayMs` and/or answer `status` with a Status body (a watch given 410 gets the
 * ERROR event instead), or with `reset` lose the connection without an answer (logged
 * with status 0). `clearFaults()` removes the rest. {@link FakeKube.dropWatches} ends open
 * watch streams (cleanly, as at a watch timeout, or `{ abrupt: true }` as a broken
 * connection); {@link FakeKube.compact} forgets the history so resuming watches get 410
 * Gone; {@link FakeKube.bookmark} sends BOOKMARKs to watches that allow them.
 * Not modelled: pagination (`limit`/`continue` return everything), finalizers, admission
 * webhooks, authn/authz (any bearer token works), protobuf, `/openapi/*`, Table output.
 *
 * ## Inspection
 * `requests` (every request with verb, resource, namespace, name, content type, the bearer
 * token as `user` (`kubeConfig(ns, token)` gives a client its own), status),
 * `get`, `list`, `inventory()`, `seed(obj)` (store without checks), `resourceVersion`.
 */
export { type ManagedFieldsEntry, serverSideApply } from "./apply.js";
export { BUILTIN_RESOURCES, type ResourceType } from "./resources.js";
export {
  applyJsonPatch,
  FakeKube,
  type FakeKubeOptions,
  type Fault,
  type FaultRule,
  generatedCrds,
  type LoggedRequest,
  mergePatch,
  type RequestInfo,
  startFakeKube,
} from "./server.js";
