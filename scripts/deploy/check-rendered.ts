/**
 * Checks one rendered chart (the multi-document YAML `helm template` prints), beyond what the
 * Kubernetes schemas say (scripts/validate-deploy runs those):
 *
 * - the Gatehouse configuration the pod would load — the ConfigMap's gatehouse.yaml plus the
 *   Deployment's GATEHOUSE_* environment, `_FILE` variables pointing at stand-in files — passes
 *   the same validation as `gatehouse config check`;
 * - the pod is locked down: non-root, read-only root file system, no capabilities, seccomp
 *   RuntimeDefault, no privilege escalation, the only writable mount is the data directory;
 * - probes use /healthz and /readyz on the public port; the ServiceMonitor (no schema in the
 *   bundled Kubernetes schemas: it is a CRD) scrapes a Service port that exists and reaches the
 *   internal listener; the NetworkPolicy admits exactly the Gatehouse pods to MLflow.
 *
 * Usage: node scripts/deploy/check-rendered.ts RENDERED.yaml. Exit 1 with every problem listed.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

type Obj = Record<string, any>;

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: check-rendered.ts RENDERED.yaml\n');
  process.exit(2);
}
const docs: Obj[] = parseAllDocuments(readFileSync(file, 'utf8'))
  .map((d) => d.toJS() as Obj | null)
  .filter((d): d is Obj => d !== null);
const problems: string[] = [];
const check = (ok: unknown, message: string) => {
  if (!ok) problems.push(message);
};
const byKind = (kind: string) => docs.filter((d) => d.kind === kind);

const deployments = byKind('Deployment');
check(deployments.length === 1, `expected one Deployment, found ${deployments.length}`);
const deployment = deployments[0] ?? {};
const pod: Obj = deployment.spec?.template?.spec ?? {};
const container: Obj = (pod.containers ?? [])[0] ?? {};
const env = new Map<string, string>((container.env ?? []).map((e: Obj) => [e.name as string, String(e.value)]));

// --- security context --------------------------------------------------------------------------
const podSc: Obj = pod.securityContext ?? {};
const sc: Obj = container.securityContext ?? {};
check(podSc.runAsNonRoot === true && sc.runAsNonRoot !== false, 'pod must run as non-root');
check(Number.isInteger(podSc.runAsUser) && podSc.runAsUser > 0, 'pod must set a numeric non-zero runAsUser');
check(sc.readOnlyRootFilesystem === true, 'container root file system must be read-only');
check(sc.allowPrivilegeEscalation === false, 'container must not allow privilege escalation');
check(JSON.stringify(sc.capabilities?.drop) === '["ALL"]' && !sc.capabilities?.add, 'container must drop ALL capabilities and add none');
check((sc.seccompProfile?.type ?? podSc.seccompProfile?.type) === 'RuntimeDefault', 'seccomp profile must be RuntimeDefault');
const dataDir = env.get('GATEHOUSE_DATA_DIR');
for (const m of container.volumeMounts ?? []) {
  check(m.readOnly === true || m.mountPath === dataDir, `volume mount ${m.mountPath} is writable but is not the data directory ${dataDir}`);
}

// --- probes ----------------------------------------------------------------------------------
check(container.livenessProbe?.httpGet?.path === '/healthz' && container.livenessProbe?.httpGet?.port === 'http', 'liveness probe must be GET /healthz on the http port');
check(container.readinessProbe?.httpGet?.path === '/readyz' && container.readinessProbe?.httpGet?.port === 'http', 'readiness probe must be GET /readyz on the http port');

// --- the Gatehouse configuration ---------------------------------------------------------------
const configMap = byKind('ConfigMap')[0];
const configText: string | undefined = configMap?.data?.['gatehouse.yaml'];
check(configText !== undefined, 'no ConfigMap with gatehouse.yaml');
const work = mkdtempSync(join(tmpdir(), 'gatehouse-deploy-'));
let config: ReturnType<typeof loadConfig> | undefined;
try {
  if (configText !== undefined) {
    const configFile = join(work, 'gatehouse.yaml');
    writeFileSync(configFile, configText);
    // The pod's environment: _FILE variables read stand-in files (the Secret contents are not
    // known here); everything else as rendered.
    const podEnv: NodeJS.ProcessEnv = {};
    for (const [name, value] of env) {
      if (!name.startsWith('GATEHOUSE_') || name === 'GATEHOUSE_CONFIG') continue;
      if (name.endsWith('_FILE')) {
        const stand = join(work, 'secrets', value);
        mkdirSync(dirname(stand), { recursive: true });
        writeFileSync(stand, 'stand-in-secret-value-0123456789\n');
        podEnv[name] = stand;
      } else podEnv[name] = value;
    }
    try {
      config = loadConfig({ file: configFile, env: podEnv });
    } catch (err) {
      if (err instanceof ConfigError) for (const p of err.problems) problems.push(`gatehouse config: ${p}`);
      else throw err;
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (config) {
  const ports = new Map<string, number>((container.ports ?? []).map((p: Obj) => [p.name as string, p.containerPort as number]));
  check(config.server.public.host === '0.0.0.0' && config.server.public.port === ports.get('http'), 'server.public must listen on 0.0.0.0 at the container port named http');
  check(config.server.internal.host === '0.0.0.0' && config.server.internal.port === ports.get('metrics'), 'server.internal must listen on 0.0.0.0 at the container port named metrics');
  check(config.dataDir === dataDir, `dataDir ${config.dataDir} differs from GATEHOUSE_DATA_DIR ${dataDir}`);
  check((container.volumeMounts ?? []).some((m: Obj) => m.mountPath === config!.dataDir && m.readOnly !== true), `dataDir ${config.dataDir} must be a writable volume`);
  // Every file the configuration names (secrets, certificates, CA bundles) must be mounted.
  const mounts: string[] = (container.volumeMounts ?? []).map((m: Obj) => String(m.mountPath).replace(/\/?$/, '/'));
  if (pod.automountServiceAccountToken === true) mounts.push('/var/run/secrets/kubernetes.io/serviceaccount/');
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) node.forEach((v, i) => walk(v, `${path}[${i}]`));
    else if (typeof node === 'object' && node !== null) {
      for (const [k, v] of Object.entries(node)) {
        const at = path ? `${path}.${k}` : k;
        if (/File$/.test(k) && typeof v === 'string') check(mounts.some((m) => v.startsWith(m)), `${at} names ${v}, which no volume of the pod provides`);
        else walk(v, at);
      }
    }
  };
  walk(config, '');
  const scheme = config.server.tls ? 'HTTPS' : 'HTTP';
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    if (container[probe]) check(container[probe].httpGet?.scheme === scheme, `${probe} must use ${scheme}`);
  }
}

// --- ServiceMonitor ----------------------------------------------------------------------------
const services = byKind('Service');
for (const sm of byKind('ServiceMonitor')) {
  check(sm.apiVersion === 'monitoring.coreos.com/v1', 'ServiceMonitor apiVersion must be monitoring.coreos.com/v1');
  check(typeof sm.metadata?.name === 'string', 'ServiceMonitor needs metadata.name');
  const selector: Obj = sm.spec?.selector?.matchLabels ?? {};
  const matched = services.filter((s) => Object.entries(selector).every(([k, v]) => s.metadata?.labels?.[k] === v));
  check(matched.length === 1, `ServiceMonitor selector must match exactly one Service, matches ${matched.length}`);
  for (const ep of sm.spec?.endpoints ?? []) {
    check(ep.path === '/metrics', 'ServiceMonitor endpoint path must be /metrics');
    check(/^\d+(ms|s|m)$/.test(ep.interval ?? '') && /^\d+(ms|s|m)$/.test(ep.scrapeTimeout ?? ''), 'ServiceMonitor interval and scrapeTimeout must be durations');
    const port = matched[0]?.spec?.ports?.find((p: Obj) => p.name === ep.port);
    check(port?.targetPort === 'metrics', `ServiceMonitor port ${ep.port} must be a Service port targeting the container port "metrics"`);
  }
  check((sm.spec?.endpoints ?? []).length > 0, 'ServiceMonitor needs an endpoint');
}
for (const s of services) {
  if (s.metadata?.labels?.['app.kubernetes.io/component'] !== 'metrics') {
    check(!(s.spec?.ports ?? []).some((p: Obj) => p.targetPort === 'metrics'), `Service ${s.metadata?.name} must not expose the metrics listener`);
  }
}

// --- NetworkPolicy -----------------------------------------------------------------------------
const podLabels: Obj = deployment.spec?.template?.metadata?.labels ?? {};
const matchesGatehouse = (selector: Obj | undefined) => selector !== undefined && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => podLabels[k] === v);
for (const np of byKind('NetworkPolicy')) {
  const component = np.metadata?.labels?.['app.kubernetes.io/component'];
  check(component === 'mlflow-access' || component === 'gatehouse-access', `NetworkPolicy ${np.metadata?.name} has an unknown component label`);
  if (component === 'gatehouse-access') {
    check(matchesGatehouse(np.spec?.podSelector?.matchLabels), 'the Gatehouse NetworkPolicy must select the Gatehouse pods');
    const ports = (np.spec?.ingress ?? []).flatMap((r: Obj) => (r.ports ?? []).map((p: Obj) => p.port));
    check(ports.includes('http') && ports.includes('metrics'), 'the Gatehouse NetworkPolicy must keep the http and metrics ports reachable (by the configured peers)');
    continue;
  }
  const froms: Obj[] = (np.spec?.ingress ?? []).flatMap((r: Obj) => r.from ?? []);
  check(JSON.stringify(np.spec?.policyTypes) === '["Ingress"]', 'NetworkPolicy must restrict ingress');
  check(np.spec?.podSelector?.matchLabels && Object.keys(np.spec.podSelector.matchLabels).length > 0, 'NetworkPolicy must select the MLflow pods by label (an empty selector would cut off every pod)');
  check(froms.some((f) => matchesGatehouse(f.podSelector?.matchLabels)), 'NetworkPolicy must admit the Gatehouse pods');
  check(!froms.some((f) => f.podSelector && Object.keys(f.podSelector.matchLabels ?? {}).length === 0 && !f.podSelector.matchExpressions), 'NetworkPolicy must not admit every pod (empty podSelector)');
  check(!froms.some((f) => f.ipBlock?.cidr === '0.0.0.0/0'), 'NetworkPolicy must not admit everyone');
}

if (problems.length > 0) {
  process.stderr.write(`${file}: ${problems.length} problem(s)\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
  process.exit(1);
}
process.stdout.write(`  ${file}: ${docs.length} objects, config and pod checks pass\n`);
