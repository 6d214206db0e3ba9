// Mutation testing (issue #14): StrykerJS over the pure logic, run by `make mutation [FOLDER=<folder>]`.
// Reports: .cache/mutation/<scope>/report.html and report.json; `node test/mutation/scores.mjs` prints the score
// per folder. Incremental: a rerun tests only the mutants whose code or covering tests changed.
//
// Equivalent mutants (no test can kill them: the program behaves the same) are listed in EQUIVALENT_MUTANTS below,
// each with why; nothing else is excluded from the score. The few that cannot be excluded without a killable twin
// are in EQUIVALENT_SURVIVORS: they count as survivors.

const FOLDERS = [
  'serving-image/src',
  'operator/src/controllers',
  'operator/src/runtime',
  'operator/src/api',
  'operator/src/statistics',
  'operator/src/prometheus',
];

/**
 * Each entry excludes one mutator's mutants of the code starting on one line (its exact text, trimmed) of one file
 * (test/mutation/equivalent-mutants.mjs; an entry that no longer matches exactly one line fails the run).
 */
const EQUIVALENT_MUTANTS = [
  // buildClaimTemplate returns early unless usesDra(tj), which is false when spec.gpus is absent: past that point
  // spec.gpus is always set, so `gpus?.x` and `gpus.x` read the same.
  {
    file: 'operator/src/controllers/trainingjob/job.ts',
    line: 'const model = tj.spec.gpus?.model;',
    mutator: 'OptionalChaining',
    why: 'usesDra(tj) guarantees spec.gpus here',
  },
  {
    file: 'operator/src/controllers/trainingjob/job.ts',
    line: "deviceClassName: tj.spec.gpus?.deviceClassName ?? 'gpu.nvidia.com',",
    mutator: 'OptionalChaining',
    why: 'usesDra(tj) guarantees spec.gpus here',
  },
  // driftTransitionEvent: the NoDrift case returns { Normal, next.reason, message }, which is what falling through to
  // the NotEnoughData/NoServingVersion case below it returns for reason NoDrift. Emptying the case changes nothing.
  {
    file: 'operator/src/controllers/driftmonitor/status.ts',
    line: "case 'NoDrift':",
    mutator: 'ConditionalExpression',
    why: 'falling through to the next case returns the same Normal NoDrift Event',
  },
  // DriftMonitor actions: `?? []` stands for "no history yet"; the mutant's one-string array instead is filtered out
  // (a string has no `type` or `trainingJob`), so the result is the same empty history.
  {
    file: 'operator/src/controllers/driftmonitor/actions.ts',
    line: "const retrainActions = (dm: DriftMonitor) => (dm.status?.actions ?? []).filter((a) => a.type === 'Retrain');",
    mutator: 'ArrayDeclaration',
    why: 'a string in place of the empty history is filtered out as no Retrain action',
  },
  {
    file: 'operator/src/controllers/driftmonitor/actions.ts',
    line: 'const done = (dm.status?.actions ?? []).some(',
    mutator: 'ArrayDeclaration',
    why: 'a string in place of the empty history is no RollbackCanary action',
  },
  {
    file: 'operator/src/controllers/driftmonitor/actions.ts',
    line: 'const recorded = new Set((actions ?? []).map((a) => a.trainingJob));',
    mutator: 'ArrayDeclaration',
    why: "a string in place of the empty history records `undefined`, which no run's name is",
  },
  // DriftMonitor reconcile: a monitor's runs are listed through the index of its name, then kept by owner uid; the
  // uid filter alone decides (a uid is unique), so listing without the index, or without the namespace, finds the
  // same runs: the index only narrows the scan.
  {
    file: 'operator/src/controllers/driftmonitor/controller.ts',
    line: '.list<TrainingJob & KubernetesObject>(TJ, { namespace, index: { name: RUNS_BY_MONITOR, value: dm.metadata.name } })',
    mutator: 'ObjectLiteral',
    why: 'the owner uid filter after it keeps exactly the same runs',
  },
  // nextEvaluation returns early unless status.lastEvaluationTime is set, so the status exists on the line after.
  {
    file: 'operator/src/controllers/driftmonitor/controller.ts',
    line: 'if (!last || dm.status?.observedGeneration !== dm.metadata.generation) return undefined;',
    mutator: 'OptionalChaining',
    why: 'a set lastEvaluationTime implies a status',
  },
  // sameBins' tolerance is relative to the larger edge; two edges within 1e-9 of each other differ in size by
  // that factor at most, so relative to the smaller one the tolerance moves by ~1e-18 of it: no pair of printed
  // bounds falls between the two.
  {
    file: 'operator/src/controllers/driftmonitor/histograms.ts',
    line: 'return edge === other || Math.abs(edge - other) <= 1e-9 * Math.max(Math.abs(edge), Math.abs(other));',
    mutator: 'MethodExpression',
    why: 'Math.min and Math.max of two edges within 1e-9 of each other give the same tolerance to ~1e-18',
  },
  // nextEvaluation: past `!last` the status exists, so `status?.versions` reads as `status.versions`.
  {
    file: 'operator/src/controllers/driftmonitor/controller.ts',
    line: "const judged = dm.status?.versions?.find((v) => v.role === 'stable')?.version;",
    code: 'dm.status?.versions',
    mutator: 'OptionalChaining',
    why: 'a set lastEvaluationTime implies a status',
  },
  // An index name only has to be the same where it is registered and where it is read; both read this constant.
  {
    file: 'operator/src/controllers/driftmonitor/controller.ts',
    line: 'const RUNS_BY_MONITOR = `label:${LABEL_DRIFTMONITOR}`;',
    mutator: 'StringLiteral',
    why: 'the index is registered and read under the same constant, whatever its text',
  },
  // A missing name reads as no run number: '' and the mutant's "Stryker was here!" both fail to match -retrain-<n>.
  {
    file: 'operator/src/controllers/driftmonitor/actions.ts',
    line: "const runNumber = (name: string | undefined) => Number(RUN_NUMBER.exec(name ?? '')?.[1] ?? 0);",
    mutator: 'StringLiteral',
    why: 'neither string ends in -retrain-<n>',
  },
  // retrainOutcome: past `phase === 'Failed'` or `'Succeeded'` the phase came from run.status, so run.status is set
  // and `run.status?.x` reads as `run.status.x`. (The other `?.` on the first two lines, after `conditions`, is
  // tested: a Failed or Succeeded run without conditions.)
  {
    file: 'operator/src/controllers/driftmonitor/actions.ts',
    line: "const failed = run.status?.conditions?.find((c) => c.type === 'Failed');",
    code: 'run.status?.conditions',
    mutator: 'OptionalChaining',
    why: 'phase Failed implies run.status',
  },
  {
    file: 'operator/src/controllers/driftmonitor/actions.ts',
    line: "const gate = run.status?.conditions?.find((c) => c.type === 'Registered');",
    code: 'run.status?.conditions',
    mutator: 'OptionalChaining',
    why: 'phase Succeeded implies run.status',
  },
  {
    file: 'operator/src/controllers/driftmonitor/actions.ts',
    line: "if (gate.status !== 'True') return `not registered: ${run.status?.gateMessage ?? gate.message}`;",
    code: 'run.status?.gateMessage',
    mutator: 'OptionalChaining',
    why: 'phase Succeeded implies run.status',
  },
  {
    file: 'operator/src/controllers/driftmonitor/actions.ts',
    line: "return `registered ${run.status?.modelVersion}${rollout ? `: ${rollout}` : ''}`;",
    code: 'run.status?.modelVersion',
    mutator: 'OptionalChaining',
    why: 'phase Succeeded implies run.status',
  },
  // scoreSeries starts from 'None' and takes the worse of it and each test's severity; a DriftMonitor has at least one
  // test (CRD minItems 1), and worse('', s) is s as worse('None', s) is: the start value never shows.
  {
    file: 'operator/src/controllers/driftmonitor/verdict.ts',
    line: "let severity: Severity = 'None';",
    mutator: 'StringLiteral',
    why: 'the first test always replaces it (minItems 1)',
  },
  // The first test replaces the start text whenever its exceedance is a number (> -Infinity). It stays only when every
  // test's exceedance is NaN: a PSI/KS/JS `critical: 0` (which the CEL rule means to forbid: warning defaults to
  // 0.1 above it) and a score of exactly 0. Reported in test/mutation/README.md as a schema gap, not a gap of tests.
  {
    file: 'operator/src/controllers/driftmonitor/verdict.ts',
    line: "let worst = { exceedance: -Infinity, text: '' };",
    mutator: 'StringLiteral',
    why: 'replaced by the first test unless a critical bound of 0 makes every exceedance NaN',
  },
  // ModelVersion serving: mountUri always gives a pvc volume its persistentVolumeClaim, so `?.` there reads as `.`.
  {
    file: 'operator/src/controllers/modelversion/serving.ts',
    line: 'const sameClaim = model.volume && claimOf(referenceUri) === model.volume.persistentVolumeClaim?.claimName;',
    mutator: 'OptionalChaining',
    why: 'a volume from mountUri always has persistentVolumeClaim',
  },
  // Gateway API router: `?? []` stands for a missing list; each place only asks whether some element is a Service of the
  // model, the canary or a header match, which a string (the mutant's one-element array) is not.
  {
    file: 'operator/src/controllers/modelversion/traffic/gateway-api.ts',
    line: 'return (rule.backendRefs ?? []).some((ref) => isServiceRef(ref) && names.has(ref.name));',
    mutator: 'ArrayDeclaration',
    why: 'a string in place of no backends is no Service of the model (its name is undefined)',
  },
  {
    file: 'operator/src/controllers/modelversion/traffic/gateway-api.ts',
    line: 'const rule = (route.spec.rules ?? []).find(',
    mutator: 'ArrayDeclaration',
    why: 'a string in place of no rules is no rule of the model',
  },
  {
    file: 'operator/src/controllers/modelversion/traffic/gateway-api.ts',
    line: '(r) => isModelRule(r, names) && !(r.matches ?? []).some((m) => m.headers?.length),',
    mutator: 'ArrayDeclaration',
    why: 'only a rule of the model gets here; a string in place of no matches has no headers',
  },
  {
    file: 'operator/src/controllers/modelversion/traffic/gateway-api.ts',
    line: 'const refs = (rule.backendRefs ?? []).filter(isServiceRef);',
    mutator: 'ArrayDeclaration',
    why: 'only a rule of the model gets here, and it has backends',
  },
  {
    file: 'operator/src/controllers/modelversion/traffic/gateway-api.ts',
    line: 'return (route.spec.rules ?? []).some(',
    mutator: 'ArrayDeclaration',
    why: 'a string in place of no rules has no header match',
  },
  {
    file: 'operator/src/controllers/modelversion/traffic/gateway-api.ts',
    line: '(r.matches ?? []).some((m) => m.headers?.some((h) => h.name === header.name && h.value === header.value)) &&',
    mutator: 'ArrayDeclaration',
    why: 'a string in place of no matches has no headers',
  },
  {
    file: 'operator/src/controllers/modelversion/traffic/gateway-api.ts',
    line: '(r.backendRefs ?? []).some((b) => isServiceRef(b) && b.name === split.canary!.name),',
    mutator: 'ArrayDeclaration',
    why: 'a string in place of no backends is not the canary',
  },
  // Replica ratio: the first two returns of `selector` take every split with a canary and no stable, so here a
  // missing stable means no canary either, and `stable?.name` and `stable.name` both end in a TypeError.
  {
    file: 'operator/src/controllers/modelversion/traffic/replica-ratio.ts',
    line: 'return versionSelector(stable?.name ?? canary!.name);',
    mutator: 'OptionalChaining',
    why: 'no stable here means no canary: either way there is no version to select (a split always has one)',
  },
  // ModelVersion state machine (rollout.ts). `Date.parse(x ?? '')`: the mutant's "Stryker was here!" parses to NaN as ''
  // does, and each of these falls back (`|| ...`) on NaN alike.
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "const created = (v: VersionView) => Date.parse(v.mv.metadata.creationTimestamp ?? '') || 0;",
    mutator: 'StringLiteral',
    why: "Date.parse('Stryker was here!') is NaN, as Date.parse('') is",
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "const since = (d: Draft) => Date.parse(d.rollout.candidateSince ?? '') || created(d.view);",
    mutator: 'StringLiteral',
    why: "Date.parse('Stryker was here!') is NaN, as Date.parse('') is",
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "const last = Date.parse(status.analysis?.time ?? '') || 0;",
    mutator: 'StringLiteral',
    why: "Date.parse('Stryker was here!') is NaN, as Date.parse('') is",
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "const promotedAt = (d: Draft) => Date.parse(d.rollout.promotedAt ?? '') || 0;",
    mutator: 'StringLiteral',
    why: "Date.parse('Stryker was here!') is NaN, as Date.parse('') is",
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "const until = Date.parse(d.rollout.drainUntil ?? '') || 0;",
    mutator: 'StringLiteral',
    why: "Date.parse('Stryker was here!') is NaN, as Date.parse('') is",
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "const until = (Date.parse(d.rollout.retiredAt ?? '') || 0) + delaySeconds * 1000;",
    mutator: 'StringLiteral',
    why: "Date.parse('Stryker was here!') is NaN, as Date.parse('') is",
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "const last = Date.parse(c.analysis?.time ?? '') || now.getTime();",
    mutator: 'StringLiteral',
    why: "Date.parse('Stryker was here!') is NaN, as Date.parse('') is",
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "const reachedAt = Date.parse(c.rollout.stepReachedAt ?? '') || 0;",
    mutator: 'StringLiteral',
    why: "Date.parse('Stryker was here!') is NaN, as Date.parse('') is",
  },
  // newDraft's createdAsRole is a placeholder: size() sets every draft's before decideModel returns the plan, and
  // analysisDue (the other caller of assignRoles) does not read it.
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "createdAsRole: view.deployment?.createdAsRole ?? 'canary',",
    mutator: 'LogicalOperator',
    why: "size() sets every draft's createdAsRole before the plan is returned",
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "createdAsRole: view.deployment?.createdAsRole ?? 'canary',",
    mutator: 'StringLiteral',
    why: "size() sets every draft's createdAsRole before the plan is returned",
  },
  // A retried version's phase 'Pending' lasts only until the roles below: it is then a candidate, so it becomes the
  // canary (stepCanary sets its phase), the initial (settleInitial does) or superseded (supersede does).
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "d.phase = 'Pending';",
    mutator: 'StringLiteral',
    why: 'the same pass sets the phase of every candidate again',
  },
  // A retired version's kept pods: its status is never absent there (the phase Retired is kept in it).
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: 'd.replicas = d.view.mv.status?.replicas ?? d.view.deployment?.replicas ?? specReplicas(d.view);',
    mutator: 'OptionalChaining',
    code: 'd.view.mv.status?.replicas',
    why: 'a Retired version has a status: its phase is recorded there',
  },
  // retire() of a version already Retired: only a status that records role stable with phase Retired gets there, and
  // the operator writes role and phase together (one status write per version), so that status never exists.
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "if (d.phase !== 'Retired') {",
    mutator: 'StringLiteral',
    why: 'no version reaches retire() with phase Retired (see EQUIVALENT_SURVIVORS)',
  },
  // The Gateway API problem's message: a gatewayAPI spec comes from the canary, the stable or the initial version, so
  // the version leading the model (one of those) exists.
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: 'message: `${leading?.view.mv.metadata.name} asks for traffic.gatewayAPI but the cluster does not serve HTTPRoutes (gateway.networking.k8s.io/v1): install the Gateway API CRDs or remove gatewayAPI to split by replica ratio`,',
    mutator: 'OptionalChaining',
    why: 'a gatewayAPI spec implies a canary, stable or initial version',
  },
  // Wakeups: a string among them is dropped by `t > now` (it compares as NaN), so the mutant's one-string start
  // changes no requeue.
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: 'const wakeups: number[] = [];',
    mutator: 'ArrayDeclaration',
    why: 'a string wakeup is never later than now',
  },
  // The wakeups sorted without their comparator sort as strings: each is a millisecond timestamp of 13 digits (after
  // 2001, before 2286), whose string order is their numeric order.
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: 'const next = wakeups.filter((t) => t > view.now.getTime()).sort((a, b) => a - b)[0];',
    code: '(a, b) => a - b',
    mutator: 'ArrowFunction',
    why: 'timestamps of equal length sort alike as strings and as numbers',
  },
  // No split (neither a stable nor an initial version) means no candidate, so no canary and no version in a canary
  // phase: nothing reads canaryReplicas.
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: 'split.stable || split.canary ? router.desired(split, observed) : { canaryReplicas: 0 };',
    mutator: 'ObjectLiteral',
    why: 'without a split no draft is a canary, the only reader of canaryReplicas',
  },
  // supersede(): role canary here comes from the version's status (this pass gives roles after it), so the status is
  // there and `status?.weight` reads as `status.weight`.
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "const was = d.role === 'canary' ? ` at ${d.view.mv.status?.weight ?? 0} %` : '';",
    mutator: 'OptionalChaining',
    why: 'role canary before this pass assigns roles implies a status',
  },
  // recordOutcome without an outcome: metricsUnavailableSince came from the version's status (start() leaves it out
  // and this pass set none), so the status is there; `conditions?.` is tested (a status without conditions).
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "const degraded = c.view.mv.status?.conditions?.find((x) => x.type === 'Degraded' && x.status === 'True');",
    code: 'c.view.mv.status?.conditions',
    mutator: 'OptionalChaining',
    why: 'metricsUnavailableSince without an outcome this pass implies a status',
  },
  // supersede() takes only candidates, which exclude the settled phases (Superseded among them): its two
  // `d.phase !== 'Superseded'` guards are always true, whatever string they compare with.
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "if (d.phase !== 'Superseded' && hadTraffic(d.view)) d.rollout = { ...d.rollout, drainUntil: drainUntil(now) };",
    mutator: 'StringLiteral',
    why: 'a candidate is never Superseded (see EQUIVALENT_SURVIVORS)',
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "if (d.phase !== 'Superseded') {",
    mutator: 'StringLiteral',
    why: 'a candidate is never Superseded (see EQUIVALENT_SURVIVORS)',
  },
  // TrainingJob phaseEvent: the default case returns undefined, as falling out of the switch without it does.
  {
    file: 'operator/src/controllers/trainingjob/status.ts',
    line: 'default:',
    mutator: 'ConditionalExpression',
    why: 'a function that ends without a return returns undefined too',
  },
  // TrainingJob registration: registeredVersion is called only where spec.register is set (modelVersionName and
  // buildModelVersion both assert it), so `register?.version` reads as `register.version`.
  {
    file: 'operator/src/controllers/trainingjob/register.ts',
    line: 'const registeredVersion = (tj: TrainingJob) => tj.spec.register?.version ?? tj.metadata.name;',
    mutator: 'OptionalChaining',
    why: 'only called with spec.register set',
  },
  // recordedRegistration: a Registered condition was found in tj.status.conditions, so tj.status is there.
  {
    file: 'operator/src/controllers/trainingjob/register.ts',
    line: 'status: { modelVersion: tj.status?.modelVersion, gateMessage: tj.status?.gateMessage },',
    mutator: 'OptionalChaining',
    why: 'a recorded condition implies a status',
  },
  // TrainingJob state: explainFailure runs only for a Job whose Failed condition is True (decideRunState checks it
  // first), so failedCondition is there and `?.` reads as `.`.
  {
    file: 'operator/src/controllers/trainingjob/state.ts',
    line: "const jobReason = failedCondition?.reason ?? 'Failed';",
    mutator: 'OptionalChaining',
    why: 'explainFailure is called only with a Failed condition',
  },
  {
    file: 'operator/src/controllers/trainingjob/state.ts',
    line: "message: failedCondition?.message ?? 'the run exceeded activeDeadlineSeconds',",
    mutator: 'OptionalChaining',
    why: 'explainFailure is called only with a Failed condition',
  },
  {
    file: 'operator/src/controllers/trainingjob/state.ts',
    line: "return { reason: jobReason, message: failedCondition?.message ?? 'the Job failed' };",
    mutator: 'OptionalChaining',
    why: 'explainFailure is called only with a Failed condition',
  },
  // A waiting container without a reason: neither '' nor the mutant's string is an image-pull reason.
  {
    file: 'operator/src/controllers/trainingjob/state.ts',
    line: "(c) => c.state?.waiting && IMAGE_PULL_REASONS.has(c.state.waiting.reason ?? ''),",
    mutator: 'StringLiteral',
    why: "no image-pull reason is '' or 'Stryker was here!'",
  },
  // rankZeroReport: a Job read from the API server always has its spec (a required field).
  {
    file: 'operator/src/controllers/trainingjob/state.ts',
    line: "job.spec?.completionMode === 'Indexed'",
    mutator: 'OptionalChaining',
    why: 'a Job always has a spec',
  },
  // A pod read from the API server always has metadata; `annotations?.` is tested (a pod without annotations).
  {
    file: 'operator/src/controllers/trainingjob/state.ts',
    line: "? succeeded.find((p) => p.metadata?.annotations?.[COMPLETION_INDEX_ANNOTATION] === '0')",
    code: 'p.metadata?.annotations',
    mutator: 'OptionalChaining',
    why: 'a pod always has metadata',
  },
  // A Job read from the API server always has metadata.
  {
    file: 'operator/src/controllers/trainingjob/state.ts',
    line: "const createdCondition = cond('Created', 'True', 'JobCreated', `Job ${job.metadata?.name} created`);",
    mutator: 'OptionalChaining',
    why: 'a Job always has metadata',
  },
  {
    file: 'operator/src/controllers/trainingjob/state.ts',
    line: 'if (job.spec?.suspend) {',
    mutator: 'OptionalChaining',
    why: 'a Job always has a spec',
  },
  // The serving image's batcher: a run whose outputs are not batched throws only to reach its own catch, which
  // reruns each request alone and drops the error; its message is never seen.
  {
    file: 'serving-image/src/model/batcher.ts',
    line: "if (outputs.some((output) => output.shape[0] !== rows)) throw new Error('an output is not batched along axis 0');",
    mutator: 'StringLiteral',
    why: 'the catch right below drops the error unread',
  },
  // readBody's one-buffer path is an optimisation: whichever bodies these mutants send to `arrayBuffer()` instead
  // (every body with a Content-Length, or every body at all) come back as the same bytes, copied once more.
  {
    file: 'serving-image/src/model/fetch.ts',
    line: "if (!response.body || response.headers.has('content-encoding') || !Number.isSafeInteger(length) || length <= 0)",
    mutator: 'BooleanLiteral',
    why: 'arrayBuffer() returns the same bytes as the one-buffer path',
  },
  // readBody's own Content-Length checks: Node's fetch (undici) already stops a body at its Content-Length and fails
  // one that ends short ("terminated: Response body length does not match content-length header"), so neither
  // check can fail (tried with a raw socket server sending 10 bytes for a length of 5, and 5 for 10).
  {
    file: 'serving-image/src/model/fetch.ts',
    line: 'if (offset + chunk.length > length) throw new Error(`GET ${uri}: more bytes than its Content-Length ${length}`);',
    mutator: 'StringLiteral',
    why: 'fetch never hands over more bytes than the Content-Length',
  },
  {
    file: 'serving-image/src/model/fetch.ts',
    line: 'if (offset + chunk.length > length) throw new Error(`GET ${uri}: more bytes than its Content-Length ${length}`);',
    mutator: 'ArithmeticOperator',
    why: 'fetch never hands over more bytes than the Content-Length, so offset - chunk.length exceeds it no more',
  },
  {
    file: 'serving-image/src/model/fetch.ts',
    line: 'if (offset !== length) throw new Error(`GET ${uri}: ${offset} of its ${length} bytes arrived`);',
    mutator: 'StringLiteral',
    why: 'fetch fails a body shorter than its Content-Length itself',
  },
  // A URI that matched the scheme's expression has its group 1 (the scheme): only the match can be missing.
  {
    file: 'serving-image/src/model/fetch.ts',
    line: 'const scheme = /^([a-z][a-z0-9+.-]*):\\/\\//i.exec(uri)?.[1]?.toLowerCase();',
    code: '/^([a-z][a-z0-9+.-]*):\\/\\//i.exec(uri)?.[1]?.toLowerCase',
    mutator: 'OptionalChaining',
    why: 'a match always has its one group',
  },
  // The loader's timings: each phase sets its own key before anything reads them (a failed phase fails the load, and
  // its timings go with it), so starting from {} gives the same object.
  {
    file: 'serving-image/src/model/loader.ts',
    line: 'const timings: LoadTimings = { fetch: 0, session: 0, reference: 0, warmUp: 0 };',
    mutator: 'ObjectLiteral',
    why: 'every key is set before the timings are read',
  },
  // onnxruntime's session options set its threads, execution mode and graph optimisation: how fast it computes, not
  // what (onnxruntime's defaults compute the same outputs); nothing in its API reads them back.
  {
    file: 'serving-image/src/model/loader.ts',
    line: 'ort.InferenceSession.create(bytes, {',
    mutator: 'ObjectLiteral',
    why: "onnxruntime's defaults give the same outputs, only on other threads",
  },
  // validateInputs' shortcut for one input: without its body the general path gives the same order and rows.
  {
    file: 'serving-image/src/model/validate.ts',
    line: 'if (specs.length === 1 && inputs.length === 1 && inputs[0]!.name === specs[0]!.name) {',
    mutator: 'BlockStatement',
    why: 'the general path orders the one input and counts its rows the same: the shortcut only skips the Map',
  },
  // The S3 URI matched /^s3:\/\/([^/]+)\/(.+)$/: both groups are non-empty strings, so the defaults never apply.
  {
    file: 'serving-image/src/model/fetch.ts',
    line: "const [, bucket = '', key = ''] = match;",
    mutator: 'StringLiteral',
    why: 'the regular expression always fills both groups',
  },
  // toFloat16Bits corrects Math.log2's rounding near powers of two. It can only round up (a value just below 2^k
  // getting log2 k, e.g. 1023.9999999999999): Math.log2 is exact at powers of two and never decreases, so no value at
  // or above 2^k gets less than k, and the `exponent++` branch never runs (a search of 2 000 values on each side of
  // every power of two in FP16's normal range found none).
  {
    file: 'serving-image/src/model/float16.ts',
    line: "exponent++; // log2's rounding near powers of two",
    mutator: 'UpdateOperator',
    why: 'Math.log2 never rounds a value at or above 2^k below k',
  },
  // The work queue: drained is set by shutDownWithDrain() whenever a key is in flight, and done() reaches the call only
  // then (shut down, the last key in flight finished), so `drained?.()` always calls.
  {
    file: 'operator/src/runtime/queue.ts',
    line: 'if (this.shuttingDown && this.processing.size === 0) this.drained?.();',
    mutator: 'OptionalChaining',
    why: 'drained is set whenever done() can find the queue shut down and empty',
  },
  // Prometheus histograms without `by`: readHistogram looks its histogram up with groupKey({}, by), and an empty labels
  // object gives '' for any list of labels (each reads as ''), so the mutant's one-label list keys it as [] does.
  {
    file: 'operator/src/prometheus/histogram.ts',
    line: 'return all.get(groupKey({}, q.by ?? []));',
    mutator: 'ArrayDeclaration',
    why: "groupKey({}, by) is '' for every by",
  },
  // ...and readHistograms keys each sample by the mutant's label instead of none: the query sums `by (le)` alone, so no
  // sample carries that label (or any but `le`), and every key is '' as with [].
  {
    file: 'operator/src/prometheus/histogram.ts',
    line: 'const key = groupKey(s.labels, q.by ?? []);',
    mutator: 'ArrayDeclaration',
    why: "a `sum by (le)` sample carries no other label: every key is ''",
  },
  // --- modelversion/controller.ts (the reconciler's thin parts; session 7) ---
  // byModelLabel: past `model &&` the model came from obj.metadata.labels, so obj.metadata is set there and
  // `obj.metadata?.ownerReferences` reads as `obj.metadata.ownerReferences` (the `?.` after ownerReferences is tested).
  {
    file: 'operator/src/controllers/modelversion/controller.ts',
    line: 'return model && labels[LABEL_MANAGED_BY] === MANAGED_BY && !obj.metadata?.ownerReferences?.length',
    code: 'obj.metadata?.ownerReferences',
    mutator: 'OptionalChaining',
    why: 'a model label implies obj.metadata',
  },
  // gather: a version naming no route adds the mutant's "Stryker was here" to the route names; no HTTPRoute can have
  // that name (not a DNS subdomain: spaces, capitals), so its lookup finds nothing and is filtered out as [] is.
  {
    file: 'operator/src/controllers/modelversion/controller.ts',
    line: '...versions.flatMap((mv) => mv.spec.serving?.traffic?.gatewayAPI?.httpRoute ?? []),',
    mutator: 'ArrayDeclaration',
    why: 'no route can be named "Stryker was here": the lookup finds nothing, as for []',
  },
  // ownedBy: called only on objects read from the cache (a Deployment or Service of the version's name), which always
  // have metadata (their name); the `?.` after ownerReferences is tested (a Deployment without owner references).
  {
    file: 'operator/src/controllers/modelversion/controller.ts',
    line: 'obj.metadata?.ownerReferences?.some((o) => o.uid === mv.metadata.uid && o.controller) ?? false;',
    code: 'obj.metadata?.ownerReferences',
    mutator: 'OptionalChaining',
    why: 'a cached object always has metadata',
  },
  // enact: a version is deleting only once it holds the finalizer, which the second pass adds after the first wrote
  // its status (reconcileModel's `starting` branch): a deleting version always has a status.
  {
    file: 'operator/src/controllers/modelversion/controller.ts',
    line: 'await ctx.status.update(MV, v.mv, { rollout: { ...v.mv.status?.rollout, drainUntil: until } });',
    mutator: 'OptionalChaining',
    why: 'a version holding the finalizer has a status',
  },
  // grows: `current` is a Deployment from the cache, and a Deployment always has a spec (the API server requires it).
  {
    file: 'operator/src/controllers/modelversion/controller.ts',
    line: "(typeof d.replicas === 'number' && d.replicas > (current.spec?.replicas ?? 0)) ||",
    mutator: 'OptionalChaining',
    why: 'a Deployment always has a spec',
  },
  // --- trainingjob/controller.ts (session 7) ---
  // reconcileTrainingJob: a registration recorded while the run is not yet finished (a restored status) contributes
  // only what the status already holds (its Registered condition, modelVersion and gateMessage, no Event; settled, so
  // Finished reads as with none), and the status writer keeps those fields: without it the written status is the same.
  // The test 'a registration already recorded while the run still shows Running' checks it is not made again.
  {
    file: 'operator/src/controllers/trainingjob/controller.ts',
    line: 'const result = recorded ? { registration: recorded } : await register(ctx, tj, pass.outcome);',
    mutator: 'ObjectLiteral',
    why: 'the recorded registration adds nothing the status does not already hold',
  },
  // cleanUp runs only for a settled run (isFinished(previous?.phase)), so tj.status is set there.
  {
    file: 'operator/src/controllers/trainingjob/controller.ts',
    line: "const finished = findCondition(tj.status?.conditions, 'Finished')?.lastTransitionTime ?? tj.status?.completionTime;",
    code: 'tj.status?.completionTime',
    mutator: 'OptionalChaining',
    why: 'a settled run has a status',
  },
  {
    file: 'operator/src/controllers/trainingjob/controller.ts',
    line: "const finished = findCondition(tj.status?.conditions, 'Finished')?.lastTransitionTime ?? tj.status?.completionTime;",
    code: 'tj.status?.conditions',
    mutator: 'OptionalChaining',
    why: 'a settled run has a status',
  },
  // isOwnedBy: called on Jobs read from the cache, which always have metadata (their name); the `?.` after
  // ownerReferences is tested (a Job without owner references).
  {
    file: 'operator/src/controllers/trainingjob/controller.ts',
    line: 'obj.metadata?.ownerReferences?.some((o) => o.uid === tj.metadata.uid) ?? false;',
    code: 'obj.metadata?.ownerReferences',
    mutator: 'OptionalChaining',
    why: 'a cached object always has metadata',
  },
  // buildJob always sets spec.suspend (`run?.suspend ?? false`, job.ts), so the `?? false` here is never reached.
  {
    file: 'operator/src/controllers/trainingjob/controller.ts',
    line: 'const suspend = buildJob(tj).spec?.suspend ?? false;',
    mutator: 'BooleanLiteral',
    why: 'buildJob always sets spec.suspend to a boolean',
  },
  // ...and buildJob always returns a spec; a Job (from the cache) always has one too (the API server requires it).
  {
    file: 'operator/src/controllers/trainingjob/controller.ts',
    line: 'const suspend = buildJob(tj).spec?.suspend ?? false;',
    mutator: 'OptionalChaining',
    why: 'buildJob always returns a spec',
  },
  {
    file: 'operator/src/controllers/trainingjob/controller.ts',
    line: 'if (Boolean(job.spec?.suspend) !== suspend) await ctx.client.patch(JOB, key, { spec: { suspend } });',
    mutator: 'OptionalChaining',
    why: 'a Job always has a spec',
  },
  // register: a decision to create carries registered(name, gate.message), whose gateMessage is always a string.
  {
    file: 'operator/src/controllers/trainingjob/controller.ts',
    line: "const gateMessage = decision.registration.status.gateMessage ?? '';",
    mutator: 'StringLiteral',
    why: 'a create decision always has a gate message (registered(name, gate.message))',
  },
  // Runtime: objects the finalizer and status helpers write were read from the cache or the API server, so they have
  // metadata (a name to write to); an optional chain there reads the same as a plain one.
  {
    file: 'operator/src/runtime/finalizers.ts',
    line: 'return this.write(ref, obj, [...(obj.metadata?.finalizers ?? []), finalizer]);',
    mutator: 'OptionalChaining',
    why: 'an object without metadata has no name to patch',
  },
  // remove() returns early unless hasFinalizer(obj), so the list exists and holds the finalizer.
  {
    file: 'operator/src/runtime/finalizers.ts',
    line: '(obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer),',
    mutator: 'OptionalChaining',
    why: 'hasFinalizer(obj) above guarantees metadata.finalizers',
  },
  {
    file: 'operator/src/runtime/finalizers.ts',
    line: '(obj.metadata?.finalizers ?? []).filter((f) => f !== finalizer),',
    mutator: 'ArrayDeclaration',
    why: 'hasFinalizer(obj) above guarantees metadata.finalizers',
  },
  {
    file: 'operator/src/runtime/finalizers.ts',
    line: 'const patch = { metadata: { finalizers, resourceVersion: obj.metadata?.resourceVersion } };',
    mutator: 'OptionalChaining',
    why: 'an object without metadata has no name to patch',
  },
  {
    file: 'operator/src/runtime/status.ts',
    line: 'const generation = current.metadata?.generation;',
    mutator: 'OptionalChaining',
    why: 'an object without metadata has no name to write its status to',
  },
  // mapToControllerOwner: the controller ownerReference found above implies metadata; objects in the cache have it.
  {
    file: 'operator/src/runtime/enqueue.ts',
    line: 'const namespace = obj.metadata?.namespace;',
    mutator: 'OptionalChaining',
    why: 'an ownerReference was found in metadata on the line before',
  },
  {
    file: 'operator/src/runtime/enqueue.ts',
    line: 'return ownerObj && ownerObj.metadata?.uid === ref.uid ? ownerKeys(ownerObj, cache) : [];',
    mutator: 'OptionalChaining',
    why: 'the cache holds objects by name: every one has metadata',
  },
  // isNamespaceTerminating: a string in place of the empty list of causes has no `reason`, so none matches.
  {
    file: 'operator/src/runtime/errors.ts',
    line: 'const causes = (err.body?.details as { causes?: { reason?: string }[] } | undefined)?.causes ?? [];',
    mutator: 'ArrayDeclaration',
    why: 'a string in place of no causes matches no NamespaceTerminating cause',
  },
  // The CRD's YAML: spec and status are JSON copies and no rule or printer column object is used twice, so js-yaml
  // finds no shared object to write as an anchor whether or not noRefs forbids it.
  {
    file: 'operator/src/api/crd.ts',
    line: 'dump(buildCrd(def), { lineWidth: 120, noRefs: true });',
    mutator: 'BooleanLiteral',
    why: 'the CRD objects share no references for js-yaml to anchor',
  },
  // The index's name is one constant where the index is registered and where it is read: any string works alike.
  {
    file: 'operator/src/api/indexes.ts',
    line: "export const MODEL_INDEX = 'spec.model';",
    mutator: 'StringLiteral',
    why: 'the name is only the key the same constant registers and reads the index under',
  },
  // The runtime's controller: informer objects always carry metadata (they are stored by name).
  {
    file: 'operator/src/runtime/controller.ts',
    line: 'oldObj.metadata?.generation !== newObj.metadata?.generation ||',
    mutator: 'OptionalChaining',
    why: 'objects from an informer have metadata',
  },
  {
    file: 'operator/src/runtime/controller.ts',
    line: '(!oldObj.metadata?.deletionTimestamp && newObj.metadata?.deletionTimestamp !== undefined);',
    mutator: 'OptionalChaining',
    why: 'objects from an informer have metadata',
  },
  // Label selectors: destructuring defaults for regex groups that always match (TypeScript asks for them).
  {
    file: 'operator/src/runtime/store/label-selector.ts',
    line: "const [, key = '', op, values = ''] = set;",
    mutator: 'StringLiteral',
    why: "the regex's groups are not optional: they always match, so the defaults never apply",
  },
  {
    file: 'operator/src/runtime/store/label-selector.ts',
    line: "const [, key = '', op, value = ''] = cmp;",
    mutator: 'StringLiteral',
    why: "the regex's groups are not optional (the value may match as ''): the defaults never apply",
  },
  {
    file: 'operator/src/runtime/store/label-selector.ts',
    line: "const [, not, key = ''] = exists;",
    mutator: 'StringLiteral',
    why: 'the key group is not optional: the default never applies',
  },
  // Runtime core (session 7): the store, read-your-writes, types and the controller's warning (each entry's why)
  {
    file: 'operator/src/runtime/store/read-your-writes.ts',
    line: 'return this.record(ref, await this.client.update(ref, obj), obj.metadata?.resourceVersion ?? null);',
    mutator: 'OptionalChaining',
    why: 'the wrapped client has already refused an object without metadata.name',
  },
  {
    file: 'operator/src/runtime/store/read-your-writes.ts',
    line: 'return this.record(ref, await this.client.updateStatus(ref, obj), obj.metadata?.resourceVersion ?? null);',
    mutator: 'OptionalChaining',
    why: 'the wrapped client has already refused an object without metadata.name',
  },
  {
    file: 'operator/src/runtime/store/store.ts',
    line: "const namespaceOf: IndexFunc = (obj) => [obj.metadata?.namespace ?? ''];",
    mutator: 'OptionalChaining',
    why: 'every stored object has metadata: upsert keys it by metadata.name first',
  },
  {
    file: 'operator/src/runtime/store/store.ts',
    line: 'if (obj && matches(obj.metadata?.labels ?? {})) out.push(obj);',
    mutator: 'OptionalChaining',
    why: 'every stored object has metadata: upsert keys it by metadata.name first',
  },
  {
    file: 'operator/src/runtime/types.ts',
    line: 'const namespace = obj.metadata?.namespace;',
    mutator: 'OptionalChaining',
    why: 'the name check on the line before guarantees metadata',
  },
  {
    file: 'operator/src/runtime/controller.ts',
    line: '} catch (e) {',
    mutator: 'BlockStatement',
    why: 'cache.get of the registered `for` resource throws nothing but ResourceUnavailableError',
  },
  // Runtime I/O (session 7): the REST transport, client, discovery, informers, HTTP server (each entry's why)
  {
    file: 'operator/src/runtime/rest.ts',
    line: "const reqOpts = await this.requestOptions('GET', path, { query });",
    mutator: 'StringLiteral',
    why: "Node's http.request sends GET for an empty method",
  },
  {
    file: 'operator/src/runtime/rest.ts',
    line: "res.setEncoding('utf8');",
    mutator: 'StringLiteral',
    why: "an empty encoding is Node's default, utf8",
  },
  {
    file: 'operator/src/runtime/rest.ts',
    line: "signal?.addEventListener('abort', onAbort, { once: true });",
    mutator: 'ObjectLiteral',
    why: "'abort' fires once; the listener is removed when the request closes",
  },
  {
    file: 'operator/src/runtime/rest.ts',
    line: "signal?.addEventListener('abort', onAbort, { once: true });",
    mutator: 'BooleanLiteral',
    why: "'abort' fires once; the listener is removed when the request closes",
  },
  {
    file: 'operator/src/runtime/rest.ts',
    line: 'if (this.kubeConfig.getCurrentCluster()?.proxyUrl && reqOpts.agent) return reqOpts.agent as http.Agent;',
    mutator: 'OptionalChaining',
    why: 'the constructor guarantees a current cluster',
  },
  {
    file: 'operator/src/runtime/rest.ts',
    line: '} catch {',
    mutator: 'BlockStatement',
    why: 'falling off the function returns undefined, as `return undefined` does',
  },
  {
    file: 'operator/src/runtime/client.ts',
    line: "opts.signal?.addEventListener('abort', abort, { once: true });",
    mutator: 'ObjectLiteral',
    why: "'abort' fires once; the finally block removes the listener",
  },
  {
    file: 'operator/src/runtime/client.ts',
    line: "opts.signal?.addEventListener('abort', abort, { once: true });",
    mutator: 'BooleanLiteral',
    why: "'abort' fires once; the finally block removes the listener",
  },
  {
    file: 'operator/src/runtime/discovery.ts',
    line: 'return (list.resources ?? []).some((r) => r.name === ref.plural);',
    mutator: 'ArrayDeclaration',
    why: 'a string in the list has no name and matches no resource',
  },
  {
    file: 'operator/src/runtime/informer.ts',
    line: 'private readonly handlers: InformerHandlers[] = [];',
    mutator: 'ArrayDeclaration',
    why: 'a string handler has no methods; every call is optional',
  },
  {
    file: 'operator/src/runtime/resource-informer.ts',
    line: 'private readonly handlers: InformerHandlers[] = [];',
    mutator: 'ArrayDeclaration',
    why: "a string handler has no methods; the informers' every call is optional",
  },
  {
    file: 'operator/src/runtime/informer.ts',
    line: "? !current && !this.deletedUids.has(obj.metadata?.uid ?? '')",
    mutator: 'OptionalChaining',
    why: 'objectKeyOf(obj) just before guarantees metadata',
  },
  {
    file: 'operator/src/runtime/informer.ts',
    line: "? !current && !this.deletedUids.has(obj.metadata?.uid ?? '')",
    mutator: 'StringLiteral',
    why: 'no deleted object has the uid "" or "Stryker was here!" (uids are UUIDs)',
  },
  {
    file: 'operator/src/runtime/informer.ts',
    line: ': current !== undefined && current.metadata?.resourceVersion === basedOn;',
    mutator: 'OptionalChaining',
    why: 'a stored object has metadata',
  },
  {
    file: 'operator/src/runtime/informer.ts',
    line: 'resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;',
    mutator: 'OptionalChaining',
    why: "the API server's watch events always carry object.metadata",
  },
  {
    file: 'operator/src/runtime/informer.ts',
    line: 'if (previous?.metadata?.resourceVersion === obj.metadata?.resourceVersion) continue;',
    mutator: 'OptionalChaining',
    code: 'previous?.metadata?.resourceVersion',
    why: 'a stored object has metadata',
  },
  {
    file: 'operator/src/runtime/informer.ts',
    line: 'if (previous?.metadata?.resourceVersion === obj.metadata?.resourceVersion) continue;',
    mutator: 'OptionalChaining',
    code: 'obj.metadata?.resourceVersion',
    why: 'objectKeyOf(obj) two lines up guarantees metadata',
  },
  {
    file: 'operator/src/runtime/informer.ts',
    line: 'const uid = obj.metadata?.uid;',
    mutator: 'OptionalChaining',
    why: 'every caller passes an object with metadata',
  },
  // Serving workers (session 7): the primary and the workers over node:cluster's IPC (each entry's why)
  {
    file: 'serving-image/src/workers.ts',
    line: 'pending.get(message.id)?.(message);',
    mutator: 'OptionalChaining',
    why: 'the primary answers each request once, to its sender, with its id: a reply always has a pending request',
  },
  {
    file: 'serving-image/src/workers.ts',
    line: 'const workers = (): WorkerPort[] => Object.values(edges.cluster.workers ?? {}).filter((w): w is WorkerPort => !!w);',
    mutator: 'MethodExpression',
    why: 'node:cluster deletes the entry of a worker that is gone, never leaves it undefined: the filter removes nothing',
  },
  {
    file: 'serving-image/src/workers.ts',
    line: 'const id = this.next++;',
    mutator: 'UpdateOperator',
    why: 'run ids counting down are as unique as counting up',
  },
  {
    file: 'serving-image/src/workers.ts',
    line: "if (confirmed > 0 && errors.length === 0 && op === 'load') rememberSource(env, change);",
    mutator: 'ConditionalExpression',
    code: "op === 'load'",
    why: 'an unload always carries change {} (workerScope), which rememberSource ignores',
  },
  {
    file: 'serving-image/src/workers.ts',
    line: '} catch {',
    mutator: 'BlockStatement',
    why: "cgroupCpuLimit's attempt(): the emptied catch falls off the end, which returns undefined as `return undefined` does",
  },
  // Runtime manager (session 7): requeueDependents, waitForSync and leadership (each entry's why)
  {
    file: 'operator/src/runtime/manager.ts',
    line: 'for (const controller of this.dependents.get(resourceId(resource.ref)) ?? []) controller.requeueAll();',
    mutator: 'ArrayDeclaration',
    why: 'an optional resource always has dependents: the controller that named it optional',
  },
  // Serving protocol and reference (session 7): the HTTP front, routes, codec and the reference's checks (each entry's why)
  {
    file: 'serving-image/src/protocol/http.ts',
    line: "const match = matchRoute(req.method ?? '', req.url ?? '/');",
    mutator: 'StringLiteral',
    why: "node:http's parser sets req.method and req.url on every request a server emits: the `??` defaults never apply",
  },
  {
    file: 'serving-image/src/protocol/http.ts',
    line: "req.off('data', onData);",
    mutator: 'StringLiteral',
    why: "once the body is over the limit the promise is rejected and no chunk is kept any more; a listener left on (off('') removes nothing) only adds to the size and rejects the settled promise again, a no-op",
  },
  {
    file: 'serving-image/src/protocol/http.ts',
    line: 'dispatch(req, res, match.route)?.catch(fail);',
    mutator: 'OptionalChaining',
    why: 'dispatch returns undefined only for the routes that answer at once, after send(): `.catch` on it throws a TypeError into the catch below, whose fail() sends nothing since the headers are already sent',
  },
  {
    file: 'serving-image/src/protocol/http.ts',
    line: 'const name = encoding.trim().toLowerCase();',
    mutator: 'MethodExpression',
    code: 'encoding.trim()',
    why: "node:http strips the whitespace around every header value (tried: 'Content-Encoding: \\t gzip \\t ' arrives as 'gzip'), so trim() and its trimStart()/trimEnd() mutants see no whitespace to remove",
  },
  {
    file: 'serving-image/src/protocol/routes.ts',
    line: "if (!segment.includes('%')) return segment;",
    mutator: 'StringLiteral',
    why: "includes('') is always true, so every segment goes through decodeURIComponent, which returns a segment without '%' unchanged and never throws on it",
  },
  {
    file: 'serving-image/src/protocol/routes.ts',
    line: 'if (rest.some((part) => part === undefined)) return undefined;',
    mutator: 'ArrowFunction',
    why: 'a segment that does not decode (undefined) can never complete a route anyway: every segment routeOf reads is compared with a literal or required to be non-empty, so such a path is a 404 with or without this check',
  },
  {
    file: 'serving-image/src/protocol/routes.ts',
    line: 'default:',
    mutator: 'ConditionalExpression',
    why: "the emptied default case falls off the end of routeOf's switch, which returns undefined as `return undefined` does",
  },
  {
    file: 'serving-image/src/protocol/routes.ts',
    line: '} catch {',
    mutator: 'BlockStatement',
    why: 'the emptied catch falls off the end of decodeSegment, which returns undefined just as `return undefined` does',
  },
  {
    file: 'serving-image/src/protocol/encode.ts',
    line: "let prefix = { name: '', version: '', json: '' };",
    mutator: 'StringLiteral',
    why: 'the first prefix is a sentinel no response matches: a model name and version are never empty (MODEL_NAME and MODEL_VERSION default when empty, a load refuses an empty version), so the first response always rebuilds it, and the initial json is never read',
  },
  {
    file: 'serving-image/src/protocol/encode.ts',
    line: "let prefix = { name: '', version: '', json: '' };",
    mutator: 'ObjectLiteral',
    why: 'as for StringLiteral on this line: with {} the name is undefined, which no response matches either',
  },
  {
    file: 'serving-image/src/protocol/decode.ts',
    line: "if (datatype === 'BYTES') return flat.slice(0, count) as string[];",
    mutator: 'MethodExpression',
    why: 'flat.length === count is checked above, so slice(0, count) is a copy of the same strings, and nothing else holds flat',
  },
  {
    file: 'serving-image/src/protocol/decode.ts',
    line: 'const value = JSON.stringify(flat[i])?.slice(0, 40);',
    mutator: 'OptionalChaining',
    why: 'flat comes from JSON.parse (flattened), so each element is null, a boolean, a number, a string, an array or an object: JSON.stringify never returns undefined for them',
  },
  // Serving metrics, modelLoaded: key is `reference && JSON.stringify([...])`, undefined exactly when there is no
  // reference and a non-empty string otherwise; `!key` is there for the type checker, so `&&` decides as `||` does.
  {
    file: 'serving-image/src/metrics.ts',
    line: 'if (!reference || !key) return;',
    mutator: 'LogicalOperator',
    why: 'key is undefined exactly when reference is, so !reference and !key are always alike',
  },
  // Serving configuration, EnvReader.string: the fallback is undefined only for a required variable (MODEL_URI), and
  // then its problem is reported and loadConfig throws: the '' returned in its place is never read.
  {
    file: 'serving-image/src/config.ts',
    line: "return fallback ?? '';",
    mutator: 'StringLiteral',
    why: 'returned only after "is required" was reported, and loadConfig then throws: the value is never used',
  },
];

/**
 * Equivalent mutants left in the score, on purpose: Stryker can exclude mutants only by mutator and expression, and
 * each of these shares both with a twin that the tests do kill (ConditionalExpression's `true` and `false`,
 * EqualityOperator's two neighbours), so an exclusion would hide that twin too. They are reported as surviving;
 * the score of their file is the rest. Each: the file, the line, the mutant as Stryker's report names it, and why.
 */
export const EQUIVALENT_SURVIVORS = [
  // DriftMonitor evaluatedAt: whether an evaluation that judged nothing says what the status says already.
  {
    file: 'operator/src/controllers/driftmonitor/controller.ts',
    line: 'a.versions.length === 0 &&',
    mutant: 'ConditionalExpression: true',
    why: "a judged version makes Ready `Evaluated`, which no empty assessment's status said: the conditions differ anyway",
  },
  {
    file: 'operator/src/controllers/driftmonitor/controller.ts',
    line: 'previous.phase === a.phase &&',
    mutant: 'ConditionalExpression: true',
    why: "an empty assessment's Ready and Drifted conditions carry the same reason and message (those of `why`), with fixed statuses, and its phase follows from the reason; so beside equal conditions the phase, the versions' absence and each clause but the message's are implied",
  },
  {
    file: 'operator/src/controllers/driftmonitor/controller.ts',
    line: '(previous.versions ?? []).length === 0 &&',
    mutant: 'ConditionalExpression: true',
    why: "a status with judged versions has Ready `Evaluated` or a version's reason, never an empty assessment's conditions",
  },
  {
    file: 'operator/src/controllers/driftmonitor/controller.ts',
    line: 'a.conditions.every((c) =>',
    mutant: 'MethodExpression: a.conditions.some(...)',
    why: "an empty assessment's Ready and Drifted conditions carry the same reason and message (those of `why`), with fixed statuses, and its phase follows from the reason; so beside equal conditions the phase, the versions' absence and each clause but the message's are implied",
  },
  {
    file: 'operator/src/controllers/driftmonitor/controller.ts',
    line: '(p) => p.type === c.type && p.status === c.status && p.reason === c.reason && p.message === c.message,',
    mutant: 'ConditionalExpression: true / LogicalOperator (the type, status and reason clauses; 7 mutants)',
    why: "an empty assessment's Ready and Drifted conditions carry the same reason and message (those of `why`), with fixed statuses, and its phase follows from the reason; so beside equal conditions the phase, the versions' absence and each clause but the message's are implied",
  },
  {
    file: 'operator/src/controllers/driftmonitor/controller.ts',
    line: "const MONITORS_BY_MODEL = { resource: DM, name: 'spec.model', keys: byField('spec.model') };",
    mutant: 'StringLiteral: "" (the name)',
    why: "the index is registered and read under MONITORS_BY_MODEL.name, whatever its text (its field path's twin is killed)",
  },
  {
    file: 'operator/src/controllers/driftmonitor/histograms.ts',
    line: 'a.upperBounds.length === b.upperBounds.length &&',
    mutant: 'ConditionalExpression: true',
    why: 'both lists ascend to +Inf, so a shorter one cannot match another edge for edge: the comparison after it fails first',
  },
  {
    file: 'operator/src/controllers/driftmonitor/histograms.ts',
    line: 'return edge === other || Math.abs(edge - other) <= 1e-9 * Math.max(Math.abs(edge), Math.abs(other));',
    mutant: 'EqualityOperator: Math.abs(edge - other) < 1e-9 * Math.max(...)',
    why: 'differs only for two edges exactly 1e-9 of the larger apart, which no printed `le` bound and JSON number are',
  },
  {
    file: 'operator/src/controllers/driftmonitor/verdict.ts',
    line: 'export const worse = (a: Severity, b: Severity): Severity => (RANK[a] >= RANK[b] ? a : b);',
    mutant: 'EqualityOperator: RANK[a] > RANK[b]',
    why: 'RANK gives each severity its own rank: equal ranks are the same severity, so a and b are the same value',
  },
  {
    file: 'operator/src/controllers/modelversion/analysis/checks.ts',
    line: 'const tooLow = q.min !== undefined && value < q.min;',
    mutant: 'ConditionalExpression: true (for q.min !== undefined)',
    why: '`value < undefined` is false, as the guard makes it',
  },
  {
    file: 'operator/src/controllers/modelversion/analysis/checks.ts',
    line: 'const tooHigh = q.max !== undefined && value > q.max;',
    mutant: 'ConditionalExpression: true (for q.max !== undefined)',
    why: '`value > undefined` is false, as the guard makes it',
  },
  {
    file: 'operator/src/controllers/modelversion/analysis/measure.ts',
    line: '...(latency !== undefined && Number.isFinite(latency) ? { p99Seconds: latency } : {}),',
    mutant: 'ConditionalExpression: true (for latency !== undefined)',
    why: 'Number.isFinite(undefined) is false: the guard only says so first',
  },
  {
    file: 'operator/src/controllers/modelversion/serving.ts',
    line: 'const pvc = /^pvc:\\/\\/([^/]+)\\/(.+)$/.exec(uri);',
    mutant: 'Regex: /^pvc:\\/\\/([^/]+)\\/(.+)/ (no $)',
    why: 'the CRD allows no whitespace in a URI (^[^\\s]+$), so the greedy .+ always reaches the end',
  },
  {
    file: 'operator/src/controllers/modelversion/serving.ts',
    line: 'const claimOf = (uri: string) => /^pvc:\\/\\/([^/]+)\\//.exec(uri)?.[1];',
    mutant: 'Regex: /pvc:\\/\\/([^/]+)\\// (no ^)',
    why: 'a reference that is not itself pvc:// passes through unmounted whichever claim this finds in it',
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "if (d.phase !== 'Retired') {",
    mutant: 'ConditionalExpression: true',
    why: 'no version reaches retire() already Retired: a status with role stable and phase Retired is never written (role and phase are one write)',
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "d.role = 'none'; (the retry loop of assignRoles)",
    mutant: 'StringLiteral: ""',
    why: 'the same pass gives every candidate its role again (canary, initial or superseded)',
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "const routedByOwnedRoute = router.mechanism === 'GatewayAPI' && plan.route !== undefined && 'owned' in plan.route;",
    mutant: "ConditionalExpression: true (for router.mechanism === 'GatewayAPI')",
    why: 'the replica-ratio router plans no route, so plan.route !== undefined is false for it anyway',
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: 'if (reachedAt > 0) wakeups.push(reachedAt + pauseMs);',
    mutant: 'ConditionalExpression: true',
    why: 'with reachedAt 0 the wakeup is pauseMs after 1970, long past: `t > now` drops it',
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: 'if (reachedAt > 0) wakeups.push(reachedAt + pauseMs);',
    mutant: 'EqualityOperator: reachedAt >= 0',
    why: 'as above: reachedAt is 0 or a time after 1970',
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: 'if (reachedAt > 0 && now.getTime() - reachedAt >= pauseMs && passed) {',
    mutant: 'ConditionalExpression: true (for reachedAt > 0)',
    why: 'passed needs stepVerdict Pass, which is recorded only with stepReachedAt and removed with it (StepAdvanced, start, retry): reachedAt is then > 0',
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: 'if (reachedAt > 0 && now.getTime() - reachedAt >= pauseMs && passed) {',
    mutant: 'EqualityOperator: reachedAt >= 0',
    why: 'as above: with stepVerdict Pass, reachedAt is never 0',
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "if (d.phase !== 'Superseded' && hadTraffic(d.view)) d.rollout = { ...d.rollout, drainUntil: drainUntil(now) };",
    mutant: "ConditionalExpression: true (for d.phase !== 'Superseded')",
    why: 'supersede() takes only candidates, never a version already Superseded',
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "if (d.phase !== 'Superseded') {",
    mutant: 'ConditionalExpression: true',
    why: 'supersede() takes only candidates, never a version already Superseded',
  },
  {
    file: 'operator/src/controllers/modelversion/rollout.ts',
    line: "const where = experiment ? 'experiment' : `step ${step + 1} of ${steps.length}: ${steps[step]!.weight} %`;",
    mutant: 'StringLiteral: "" (for \'experiment\')',
    why: "an experiment returns from progress() before `where` is used; the step's text, its twin, is tested",
  },
  {
    file: 'operator/src/controllers/trainingjob/report.ts',
    line: "if (typeof v === 'number' && Number.isFinite(v)) metrics[name] = v;",
    mutant: "ConditionalExpression: true (for typeof v === 'number')",
    why: 'Number.isFinite is false for every non-number (unlike the global isFinite): the typeof check only narrows the type',
  },
  {
    file: 'operator/src/controllers/trainingjob/status.ts',
    line: 'const value = name === undefined ? undefined : metrics[name];',
    mutant: 'ConditionalExpression: false',
    why: 'name is undefined only when there is no gate metric and no metric at all, and then metrics[undefined] is undefined too',
  },
  {
    file: 'operator/src/controllers/trainingjob/state.ts',
    line: 'const waiting = pod.status?.containerStatuses?.find( … )?.state?.waiting;',
    mutant: 'OptionalChaining: …?.state.waiting',
    why: 'the find predicate requires c.state?.waiting, so the container found has it (the chain starts on a line whose other `?.` are tested)',
  },
  {
    file: 'operator/src/controllers/trainingjob/state.ts',
    line: "...outcome('Pending', '', ''), and likewise outcome('Succeeded' | 'Suspended' | phase (not Failed), '', '')",
    mutant: 'StringLiteral: "Stryker was here!" (the reason \'\')',
    why: 'outcome() uses reason and message only for Failed; its phase argument, the twin on this line, is tested',
  },
  {
    file: 'operator/src/controllers/trainingjob/state.ts',
    line: "...outcome('Pending', '', ''), and likewise outcome('Succeeded' | 'Suspended' | phase (not Failed), '', '')",
    mutant: 'StringLiteral: "Stryker was here!" (the message \'\')',
    why: 'outcome() uses reason and message only for Failed; its phase argument, the twin on this line, is tested',
  },
  {
    file: 'operator/src/controllers/trainingjob/state.ts',
    line: "const phase: Phase = started || RANK[previous?.phase ?? 'Pending'] >= RANK.Running ? 'Running' : 'Pending';",
    mutant: 'StringLiteral: "" (for the default \'Pending\')',
    why: "RANK[''] is undefined and undefined >= RANK.Running is false, as RANK.Pending >= RANK.Running is",
  },
  {
    file: 'serving-image/src/model/batcher.ts',
    line: 'const queuedAt = this.options.maxQueueDelayMicros > 0 ? performance.now() : 0;',
    mutant: 'ConditionalExpression: true; EqualityOperator: this.options.maxQueueDelayMicros >= 0',
    why: 'without a queue delay queuedAt is never read: the time taken instead of 0 changes nothing',
  },
  {
    file: 'serving-image/src/model/batcher.ts',
    line: 'const remainingMicros = delay > 0 ? delay - (performance.now() - this.queue[0]!.queuedAt) * 1000 : 0;',
    mutant: 'ConditionalExpression: true; EqualityOperator: delay >= 0',
    why: 'with a delay of 0, queuedAt is 0 and the remainder -now*1000 is <= 0, as the 0 it replaces is: a run soon',
  },
  {
    file: 'serving-image/src/model/batcher.ts',
    line: 'for (let d = 1; d < x.length; d++) if (x[d] !== y[d]) return false;',
    mutant: 'EqualityOperator: d <= x.length',
    why: 'both requests passed the same input spec, so x and y have one rank: x[x.length] and y[x.length] are undefined',
  },
  {
    file: 'serving-image/src/model/batcher.ts',
    line: 'if (Array.isArray(data)) for (let j = 0; j < part.length; j++) data[offset + j] = part[j] as string;',
    mutant: 'ConditionalExpression: true',
    why: 'copying a typed array element by element gives the values set() copies (only slower)',
  },
  {
    file: 'serving-image/src/model/faults.ts',
    line: 'for (let row = 0; row < data.length; row += classes) {',
    mutant: 'EqualityOperator: row <= data.length',
    why: 'the extra pass reads and writes past the Float32Array, which reads undefined and writes nothing',
  },
  {
    file: 'serving-image/src/model/faults.ts',
    line: 'for (let c = row; c < last; c++) {',
    mutant: 'EqualityOperator: c <= last',
    why: 'the extra pass writes the last class, which the line after the loop overwrites with its shifted score',
  },
  {
    file: 'serving-image/src/model/fetch.ts',
    line: "if (!response.body || response.headers.has('content-encoding') || !Number.isSafeInteger(length) || length <= 0)",
    mutant: 'ConditionalExpression: true',
    why: 'arrayBuffer() for every body returns the same bytes as the one-buffer path (see EQUIVALENT_MUTANTS)',
  },
  {
    file: 'serving-image/src/model/fetch.ts',
    line: 'if (offset + chunk.length > length) throw new Error(`GET ${uri}: more bytes than its Content-Length ${length}`);',
    mutant: 'ConditionalExpression: false',
    why: 'fetch never hands over more bytes than the Content-Length (see EQUIVALENT_MUTANTS)',
  },
  {
    file: 'serving-image/src/model/fetch.ts',
    line: 'if (offset !== length) throw new Error(`GET ${uri}: ${offset} of its ${length} bytes arrived`);',
    mutant: 'ConditionalExpression: false',
    why: 'fetch fails a body shorter than its Content-Length itself (see EQUIVALENT_MUTANTS)',
  },
  {
    file: 'serving-image/src/model/float16.ts',
    line: 'if (magnitude >= 65520) return sign | 0x7c00;',
    mutant: 'EqualityOperator: magnitude > 65520',
    why: "65520 itself, taken the normal way, rounds its mantissa (1023.5, ties to even) up to 1024, which carries into infinity's bits",
  },
  {
    file: 'serving-image/src/model/float16.ts',
    line: 'if (magnitude < 2 ** -14) return sign | roundHalfToEven(magnitude * 2 ** 24); // subnormal (1024: smallest normal)',
    mutant: 'EqualityOperator: magnitude <= 2 ** -14',
    why: '2^-14 taken as a subnormal is 2^-14 * 2^24 = 1024, the bits of the smallest normal',
  },
  {
    file: 'serving-image/src/model/float16.ts',
    line: 'if (magnitude / 2 ** exponent >= 2)',
    mutant: 'ConditionalExpression: false; EqualityOperator: magnitude / 2 ** exponent > 2',
    why: 'Math.log2 never rounds a value at or above 2^k below k, so the ratio never reaches 2 (see EQUIVALENT_MUTANTS)',
  },
  {
    file: 'serving-image/src/model/float16.ts',
    line: 'else if (magnitude / 2 ** exponent < 1) exponent--;',
    mutant: 'ConditionalExpression: false; EqualityOperator: magnitude / 2 ** exponent <= 1',
    why: 'without the correction (log2 rounded up), the mantissa of a value a few ulps below 2^k rounds to 0 and the bits are those of 2^k, as with it; at exactly 2^k, the decrement gives a mantissa of 1024, which carries back',
  },
  {
    file: 'serving-image/src/model/loaded-model.ts',
    line: "const shape = value.shape.map((dim) => (typeof dim === 'number' && dim >= 0 ? dim : -1));",
    mutant: 'ConditionalExpression: true (for dim >= 0)',
    why: 'the only negative dimension onnxruntime reports is -1 (unknown), which the mutant keeps as it is',
  },
  {
    file: 'serving-image/src/model/sigv4.ts',
    line: '.sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))',
    mutant: 'EqualityOperator: av <= bv',
    why: 'it differs from av < bv only for a repeated name=value pair, whose copies read the same in either order',
  },
  {
    file: 'serving-image/src/model/sigv4.ts',
    line: '.sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))',
    mutant: 'EqualityOperator: a <= b',
    why: 'equal names never get there: `a === b` is decided first',
  },
  {
    file: 'serving-image/src/model/validate.ts',
    line: 'if (specs.length === 1 && inputs.length === 1 && inputs[0]!.name === specs[0]!.name) {',
    mutant: 'ConditionalExpression: false',
    why: 'the general path orders the one input and counts its rows the same: the shortcut only skips the Map',
  },
  {
    file: 'operator/src/runtime/queue.ts',
    line: 'if (pending && pending.readyAt <= readyAt) return;',
    mutant: 'EqualityOperator: pending.readyAt < readyAt',
    why: 'an equal deadline replaces the pending timer with one that fires at the same time',
  },
  {
    file: 'operator/src/runtime/queue.ts',
    line: 'if (lane.length && priority > bestPriority) [best, bestPriority] = [lane, priority];',
    mutant: 'EqualityOperator: priority >= bestPriority',
    why: 'the lanes are a Map keyed by priority: no two share one',
  },
  // Statistics: the incomplete gamma function's convergence tests and Lentz's guards (gamma.ts), Jensen-Shannon's loop.
  {
    file: 'operator/src/statistics/gamma.ts',
    line: 'if (Math.abs(term) < Math.abs(sum) * EPSILON) return sum * prefactor(a, x);',
    mutant: 'EqualityOperator: Math.abs(term) <= Math.abs(sum) * EPSILON',
    why:
      'only an exact tie |term| = |sum| * 1e-16 tells them apart (none in 200 000 random arguments), and then the ' +
      'series stops one term early: a term below 1e-16 of the sum, at most one unit in the last place of P',
  },
  // Lentz's guards in the continued fraction never fire: it runs only for x >= a + 1, where every denominator
  // D_i = b_i + a_i / D_(i-1) (d before its inversion; c alike, from 1 / TINY) is at least i + 1. By induction:
  // b_i = x - a + 2i + 1 >= 2i + 1 and |a_i| = i |i - a| <= i^2 where a_i < 0 (a_i > 0 only adds), so D_(i-1) >= i
  // gives D_i >= i + 1; D_0 = x + 1 - a >= 1. Over 200 000 random arguments the smallest D_i / (i + 1) was 1.09.
  {
    file: 'operator/src/statistics/gamma.ts',
    line: 'if (Math.abs(d) < TINY) d = TINY;',
    mutant: 'ConditionalExpression: false',
    why: 'for x >= a + 1 every denominator of the continued fraction is at least i + 1, never below TINY (above)',
  },
  {
    file: 'operator/src/statistics/gamma.ts',
    line: 'if (Math.abs(d) < TINY) d = TINY;',
    mutant: 'EqualityOperator: Math.abs(d) <= TINY',
    why: 'for x >= a + 1 every denominator of the continued fraction is at least i + 1, never below TINY (above)',
  },
  {
    file: 'operator/src/statistics/gamma.ts',
    line: 'if (Math.abs(c) < TINY) c = TINY;',
    mutant: 'ConditionalExpression: false',
    why: 'for x >= a + 1 every denominator of the continued fraction is at least i + 1, never below TINY (above)',
  },
  {
    file: 'operator/src/statistics/gamma.ts',
    line: 'if (Math.abs(c) < TINY) c = TINY;',
    mutant: 'EqualityOperator: Math.abs(c) <= TINY',
    why: 'for x >= a + 1 every denominator of the continued fraction is at least i + 1, never below TINY (above)',
  },
  {
    file: 'operator/src/statistics/gamma.ts',
    line: 'if (Math.abs(delta - 1) < EPSILON) return prefactor(a, x) * h;',
    mutant: 'EqualityOperator: Math.abs(delta - 1) <= EPSILON',
    why:
      'delta - 1 is exact (Sterbenz) for delta in [0.5, 2] and at least 0.5 away otherwise, so it is 0 or at least ' +
      '2^-53 (1.1e-16) in size, never 1e-16: both accept only delta === 1',
  },
  {
    file: 'operator/src/statistics/jensen-shannon.ts',
    line: 'for (let i = 0; i < p.length; i++) {',
    mutant: 'EqualityOperator: i <= p.length',
    why: 'the extra step reads p[n] and q[n] as undefined, and halfKlTerm(undefined, NaN) is 0 (undefined > 0 is false)',
  },
  // --- driftmonitor/controller.ts (session 10) ---
  // An index name only has to be the same where it is registered and where it is read: both read MONITORS_BY_MODEL.
  // Listed, not excluded: the line's other string, byField's path, is the same text and its mutant is killed.
  {
    file: 'operator/src/controllers/driftmonitor/controller.ts',
    line: "const MONITORS_BY_MODEL = { resource: DM, name: 'spec.model', keys: byField('spec.model') };",
    mutant: 'StringLiteral: "" (the name)',
    why: 'the index is registered and read under MONITORS_BY_MODEL.name, whatever its text',
  },
  // --- modelversion/controller.ts (session 7; session 10) ---
  // enact writes first the versions that grow or take no traffic now, then the routing, then the rest. A version
  // keeping its pod count is neither grown nor shrunk: before or after the routing, no request finds fewer pods.
  {
    file: 'operator/src/controllers/modelversion/controller.ts',
    line: "(typeof d.replicas === 'number' && d.replicas > (current.spec?.replicas ?? 0)) ||",
    mutant: 'EqualityOperator: d.replicas >= (current.spec?.replicas ?? 0)',
    why: 'a version keeping its pod count is written before the routing instead of after it: its capacity does not change',
  },
  // grows: `typeof d.replicas === 'number'` narrows the type for the comparison after it; an 'autoscaled' version
  // compared as `'autoscaled' > n` is false (NaN), as the guard makes it.
  {
    file: 'operator/src/controllers/modelversion/controller.ts',
    line: "(typeof d.replicas === 'number' && d.replicas > (current.spec?.replicas ?? 0)) ||",
    mutant: "ConditionalExpression: true (for typeof d.replicas === 'number')",
    why: "'autoscaled' > n is false, as the guard makes it",
  },
  // ...and the rest written after the routing once more: the first write already made the cache hold what the
  // second would apply, so ensure() sends nothing (with a watch that lags, one more identical server-side apply).
  {
    file: 'operator/src/controllers/modelversion/controller.ts',
    line: 'for (const d of plan.drafts.filter((d) => !first.includes(d))) await applyVersion(ctx, d, settings);',
    mutant: 'MethodExpression: plan.drafts',
    why: 'each version written before the routing is written again after it: ensure() finds it as applied and sends nothing',
  },
  // Runtime: toISOString() ends in one "Z", so the regexes' end anchors change nothing; their other Regex mutants are killed.
  {
    file: 'operator/src/runtime/clock.ts',
    line: "return date.toISOString().replace(/\\.\\d{3}Z$/, 'Z');",
    mutant: 'Regex: /\\.\\d{3}Z/',
    why: 'an ISO timestamp has one Z, at its end',
  },
  {
    file: 'operator/src/runtime/clock.ts',
    line: "return date.toISOString().replace(/\\.(\\d{3})Z$/, '.$1000Z');",
    mutant: 'Regex: /\\.(\\d{3})Z/',
    why: 'an ISO timestamp has one Z, at its end',
  },
  // groupOf: an apiVersion starting with "/" gives the empty group either way; `slash >= 0`, its twin, is killed.
  {
    file: 'operator/src/runtime/enqueue.ts',
    line: "return slash < 0 ? '' : apiVersion.slice(0, slash);",
    mutant: 'EqualityOperator: slash <= 0',
    why: "at slash 0 the slice before it is '' too",
  },
  // A reconcile's deadline: only a 'shutdown' reason is told apart; its message on the same line is tested, so the
  // literal cannot be excluded alone (the ignorer needs a sub-expression to restore on).
  {
    file: 'operator/src/runtime/controller.ts',
    line: "() => abort.abort(new ReconcileAbortedError('deadline', `reconcile did not finish within ${this.timeoutMs} ms`)),",
    mutant: 'StringLiteral: ""',
    why: "nothing branches on the reason 'deadline': only 'shutdown' is told apart",
  },
  // Runtime core (session 7): the store, read-your-writes, types and the controller's warning (each entry's why)
  {
    file: 'operator/src/runtime/controller.ts',
    line: 'if (!(e instanceof ResourceUnavailableError)) throw e;',
    mutant: 'ConditionalExpression: false',
    why: 'cache.get of the registered `for` resource throws nothing but ResourceUnavailableError',
  },
  {
    file: 'operator/src/runtime/types.ts',
    line: 'return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };',
    mutant: 'EqualityOperator: slash <= 0',
    why: 'no key keyToString writes starts with "/"',
  },
  // Runtime I/O (session 7): the REST transport, client, discovery, informers, HTTP server (each entry's why)
  {
    file: 'operator/src/runtime/rest.ts',
    line: 'const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);',
    mutant: 'ConditionalExpression: false',
    why: 'JSON.stringify(undefined) is undefined, as the branch it replaces (its `true` twin sends no body: killed)',
  },
  {
    file: 'operator/src/runtime/rest.ts',
    line: "res.on('error', reject);",
    mutant: 'StringLiteral: "" (the first of the two such lines: stream()\'s response, not collect()\'s)',
    why: "a watch response emits 'error' only when destroyed, and IncomingMessage's destroy emits 'aborted' first (synchronously, 'error' a tick later) unless the response was complete; the 'aborted' listener rejects first, and a request destroyed by a bad line or the watchdog rejects through req's 'error'. The line's text is also collect()'s, whose mutant is killed, so it cannot be excluded by line",
  },
  {
    file: 'operator/src/runtime/resource-informer.ts',
    line: 'if (query.namespace !== undefined) return this.informers.get(query.namespace)?.store.list(query) ?? [];',
    mutant: 'ConditionalExpression: false',
    why: "the line below scans every namespace's store with the same query, and Store.list keeps only query.namespace's objects; each store holds its own namespace only, and an unwatched one has none: the same list, found slower (the `true` twin is killed)",
  },
  {
    file: 'operator/src/runtime/informer.ts',
    line: 'if (!uid) return;',
    mutant: 'ConditionalExpression: false',
    why: "every object the API server sends has a uid; only a uid-less object would differ: it would add one `undefined` entry, which no lookup asks for (recordWrite looks up `uid ?? ''`) (the `true` twin is killed)",
  },
  // Serving workers (session 7): the primary and the workers over node:cluster's IPC (each entry's why)
  {
    file: 'serving-image/src/workers.ts',
    line: "failed(await ask({ modelops: 'control', id: next++, op: 'unload', change: {} }));",
    mutant: 'StringLiteral: ""',
    why: "op '' is treated as an unload by the worker (`op === 'load' ? load : unload`) and not remembered by the primary",
  },
  // Runtime manager (session 7): requeueDependents, waitForSync and leadership (each entry's why)
  {
    file: 'operator/src/runtime/manager.ts',
    line: "this.stopping ? 'stopped' : 'synced',",
    mutant: 'StringLiteral: \'synced\' → ""',
    why: "start() compares waitForSync's result only with 'stopped' and 'timeout'; any other value is the synced case (the 'stopped' literal beside it is killed, so the line cannot be excluded)",
  },
  {
    file: 'operator/src/runtime/manager.ts',
    line: 'if (this.opts.leaderElection) this.metrics.leaderStatus.labels(this.opts.leaderElection.leaseName).set(0);',
    mutant: 'ConditionalExpression: `this.opts.leaderElection` → `true` (in leadershipLost)',
    why: "leadershipLost is only the LeaderElector's onStoppedLeading callback, and the elector exists only when opts.leaderElection is set; the `false` twin is killed (the gauge must fall to 0 on a loss)",
  },
  // Serving protocol and reference (session 7): the HTTP front, routes, codec and the reference's checks (each entry's why)
  {
    file: 'serving-image/src/protocol/routes.ts',
    line: "if (routeCache.size >= ROUTE_CACHE_SIZE) routeCache.clear(); // a scanner's stream of URLs only costs misses",
    mutant: 'ConditionalExpression: true, and EqualityOperator: routeCache.size < ROUTE_CACHE_SIZE',
    why: "a cache emptied on every match (or while it is small) matches the same and holds less: it only costs the cache's work; its twins that never empty it, or let it hold one more, fail routes.test.ts's bound",
  },
  {
    file: 'serving-image/src/protocol/http.ts',
    line: "req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));",
    mutant: '`chunks.length === 1` → false',
    why: 'Buffer.concat of one chunk is a copy of the same bytes (`true` is killed: no chunk at all would be undefined)',
  },
  {
    file: 'serving-image/src/protocol/http.ts',
    line: "req.on('error', () => reject(new ClientClosed('client closed the connection mid-body')));",
    mutant: "the ClientClosed message → ''",
    why: "sendError answers a ClientClosed with nothing and logs nothing (the client is gone; it is counted as 499), so the message is never read ('error' → '' is killed: no 499)",
  },
  {
    file: 'serving-image/src/protocol/http.ts',
    line: 'if (!res.headersSent) sendError(res, error);',
    mutant: '`!res.headersSent` → true',
    why: 'fail() is only ever called before a response is sent: every route sends last, and infer() catches its own errors; the guard keeps a future route that fails after sending from crashing the process',
  },
  {
    file: 'serving-image/src/protocol/http.ts',
    line: "if (typeof value !== 'string' || !/^\\d{1,15}$/.test(value)) {",
    mutant: "`typeof value !== 'string'` → false",
    why: "node:http joins a repeated Inference-Header-Content-Length with ', ', so the header is a string whenever it is present",
  },
  {
    file: 'serving-image/src/protocol/routes.ts',
    line: "if (!segment.includes('%')) return segment;",
    mutant: "`!segment.includes('%')` → false",
    why: "decodeURIComponent returns a segment without '%' unchanged (`true` is killed: 'fraud%20v2' would stay encoded)",
  },
  {
    file: 'serving-image/src/protocol/routes.ts',
    line: 'if (cached !== undefined && METHODS[cached.route.kind] === method) return cached;',
    mutant: 'the condition, or `cached !== undefined`, → false',
    why: 'the cache is then never read and every URL is matched afresh, to the same route (`true` is killed: a miss would read the route of undefined)',
  },
  {
    file: 'serving-image/src/protocol/routes.ts',
    line: 'if (rest.some((part) => part === undefined)) return undefined;',
    mutant: 'the condition, or `part === undefined`, → false',
    why: 'as for the ArrowFunction entry of this line: an undecodable segment (undefined) completes no route, so the path is a 404 all the same (`true` is killed: every /v2 path would be a 404)',
  },
  {
    file: 'serving-image/src/protocol/decode.ts',
    line: 'for (let i = 0; i < count; i++) tensor[i] = Number(flat[i]); // true/false become 1/0 for BOOL',
    mutant: '`i < count` → `i <= count`',
    why: 'the extra step writes NaN one past the end of a typed array of count elements, which is ignored',
  },
  {
    file: 'serving-image/src/protocol/decode.ts',
    line: "accepts: (v) => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max,",
    mutant: "`typeof v === 'number'` → true",
    why: 'Number.isInteger is false for every value that is not a number, so the integer rules refuse the same values',
  },
  {
    file: 'serving-image/src/protocol/encode.ts',
    line: 'if (name !== prefix.name || version !== prefix.version) {',
    mutant: 'the condition, or either comparison in it, → true',
    why: 'the prefix is then rebuilt for every response from the same name and version: the same text (`false` and the `===` mutants are killed: a response would keep the previous model or version)',
  },
  {
    file: 'serving-image/src/reference.ts',
    line: 'if (binEdges.some((edge, i) => i > 0 && edge <= binEdges[i - 1]!))',
    mutant: '`i > 0` → true, and → `i >= 0`',
    why: 'at i = 0 the previous edge is undefined and `edge <= undefined` is false for every number (`false` and `i < 0` are killed)',
  },
];

// MUTATION_TYPECHECK=off runs without the TypeScript checker. The checker keeps mutants that do not compile out of the
// score (CompileError), but it re-checks the program for every mutant: on 2 shared cores that is about 3.5 s of CPU per
// mutant against about 0.5 s for its tests. Without it such mutants run as JavaScript (the sandbox's files are
// @ts-nocheck) and are mostly killed, so scores read a little higher; compare runs made the same way.
const typeCheck = process.env.MUTATION_TYPECHECK !== 'off';
// MUTATION_FOLDER is a folder or file under FOLDERS, or several separated by commas (one run, one dry run of the
// tests); a list names its scope in MUTATION_SCOPE.
const chosen = (process.env.MUTATION_FOLDER ?? '')
  .split(',')
  .map((f) => f.trim().replace(/\/+$/, ''))
  .filter(Boolean);
for (const f of chosen) {
  if (!FOLDERS.some((root) => f === root || f.startsWith(`${root}/`)))
    throw new Error(`MUTATION_FOLDER: ${f} is not under one of: ${FOLDERS.join(', ')}`);
}
if (chosen.length > 1 && !process.env.MUTATION_SCOPE)
  throw new Error('MUTATION_FOLDER lists several folders or files: name the run in MUTATION_SCOPE');
const folders = chosen.length ? chosen : FOLDERS;
const mutated = folders.map((f) => (f.endsWith('.ts') ? f : `${f}/**/*.ts`));
// Each scope keeps its own incremental file and reports, so a one-folder run does not discard the full run's.
const scope = process.env.MUTATION_SCOPE || (chosen.length ? chosen[0].replaceAll('/', '-') : 'all');
const out = `.cache/mutation/${scope}`;

export default {
  testRunner: 'jest',
  // Jest runs the tests as ES modules.
  testRunnerNodeArgs: ['--experimental-vm-modules'],
  jest: { projectType: 'custom', configFile: 'test/mutation/jest.config.js', enableFindRelatedTests: true },
  checkers: typeCheck ? ['typescript'] : [],
  plugins: [
    '@stryker-mutator/jest-runner',
    ...(typeCheck ? ['@stryker-mutator/typescript-checker'] : []),
    './test/mutation/equivalent-mutants.mjs',
    './test/mutation/survivors-reporter.mjs',
  ],
  ignorers: ['equivalent-mutants'],
  equivalentMutants: EQUIVALENT_MUTANTS,
  tsconfigFile: 'test/mutation/tsconfig.json',
  coverageAnalysis: 'perTest',
  mutate: [
    ...mutated,
    '!**/*.test.ts',
    // Test support code, not product code: its mistakes show up as failing tests, not as surviving mutants.
    '!**/*.test-helpers.ts',
    '!operator/src/runtime/testing/**',
  ],
  // Copied into the sandbox: everything the unit tests read, none of the test bed's state or build output.
  ignorePatterns: ['/.cache', '/dist', '/coverage', '**/.venv', '**/__pycache__'],
  tempDirName: '.cache/mutation/tmp',
  incremental: true,
  incrementalFile: `${out}/incremental.json`,
  reporters: ['progress', 'html', 'json', 'survivors'],
  // Each survivor as soon as it is known (the reports are written at the end).
  survivorsFile: `${out}/survivors.txt`,
  htmlReporter: { fileName: `${out}/report.html` },
  jsonReporter: { fileName: `${out}/report.json` },
  thresholds: { high: 85, low: 75, break: null },
  // Two cores, shared with the test bed and others' work: one test process (`--concurrency 2` when the machine is yours).
  concurrency: 1,
  // A mutant that makes a test hang is stopped after 1.5 times the dry run's time for its tests plus 5 s.
  timeoutFactor: 1.5,
  cleanTempDir: 'always',
};
