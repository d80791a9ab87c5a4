/**
 * Digests of the third-party images the pinned charts render, for the tag each chart defaults to
 * (or the program sets). No registry is reachable where this is written, so each digest is taken
 * from public records and never computed or guessed: `recordedIn` names the files that record it
 * (repository, path and ref); `alsoIn` counts further files an exact-string search of public code
 * found with the same `image:tag@digest` (that index does not name their repositories; the query
 * reproduces the lookup). A digest recorded by a single source is listed in
 * single-source-digests.txt, the loop to run with `crane digest` before the first deploy.
 */
export interface DigestRecord {
  digest: `sha256:${string}`;
  recordedIn: readonly string[];
  alsoIn?: { query: string; files: number };
  /** What a reader of the sources should know (registry mirrors, conflicting records). */
  note?: string;
}

export const imageDigests: Readonly<Record<string, DigestRecord>> = {
  'registry.k8s.io/ingress-nginx/kube-webhook-certgen:v1.6.2': {
    digest: 'sha256:050a34002d5bb4966849c880c56c91f5320372564245733b33d4b3461b4dbd24',
    recordedIn: [
      'kubernetes/ingress-nginx charts/ingress-nginx/values.yaml @ helm-chart-4.13.2',
      'kubernetes/ingress-nginx deploy/static/provider/aws/deploy.yaml @ controller-v1.13.2',
    ],
    alsoIn: { query: 'kube-webhook-certgen:v1.6.2@sha256:', files: 10 },
    note: 'the alsoIn files are CI logs of clusters pulling the image by this digest',
  },
  'quay.io/prometheus/prometheus:v3.5.0': {
    digest: 'sha256:63805ebb8d2b3920190daf1cb14a60871b16fd38bed42b857a3182bc621f4996',
    recordedIn: [],
    alsoIn: { query: 'prom/prometheus:v3.5.0@sha256:63805ebb8d2b', files: 10 },
    note:
      'recorded for the Docker Hub name prom/prometheus; the Prometheus release pushes the same ' +
      'index to quay.io/prometheus (node-exporter v1.9.1 is recorded with one digest under both names)',
  },
  'quay.io/prometheus/alertmanager:v0.28.1': {
    digest: 'sha256:27c475db5fb156cab31d5c18a4251ac7ed567746a2483ff264516437a39b15ba',
    recordedIn: [],
    alsoIn: { query: 'alertmanager:v0.28.1@sha256:', files: 10 },
    note: 'recorded for prom/alertmanager (same release index on quay.io); two files state it is the multi-platform index',
  },
  'docker.io/grafana/grafana:12.1.1': {
    digest: 'sha256:a1701c2180249361737a99a01bc770db39381640e4d631825d38ff4535efa47d',
    recordedIn: [],
    alsoIn: { query: 'grafana/grafana:12.1.1@sha256:', files: 10 },
  },
  'quay.io/prometheus/node-exporter:v1.9.1': {
    digest: 'sha256:d00a542e409ee618a4edc67da14dd48c5da66726bbd5537ab2af9c1dfc442c8a',
    recordedIn: [],
    alsoIn: { query: 'node-exporter:v1.9.1@sha256:', files: 9 },
    note: 'recorded under quay.io/prometheus/node-exporter, prom/node-exporter and docker.io/prom/node-exporter alike',
  },
  'docker.io/grafana/tempo:2.9.0': {
    digest: 'sha256:65a5789759435f1ef696f1953258b9bbdb18eb571d5ce711ff812d2e128288a4',
    recordedIn: [],
    alsoIn: { query: 'tempo:2.9.0@sha256:', files: 4 },
  },
  'quay.io/prometheus-operator/prometheus-config-reloader:v0.91.0': {
    digest: 'sha256:7d9e4eea5f1139e602508871f422b0116c60e87c662f3dcd234d5ab60cd0d8c1',
    recordedIn: [
      'grafana/alloy operations/helm/charts/alloy/values.yaml @ helm-chart/1.11.1 (the chart default tag)',
    ],
    alsoIn: { query: 'prometheus-config-reloader:v0.91.0@sha256:', files: 2 },
    note: 'the two alsoIn files record the digest shortened to its first 32 hex digits, which match',
  },
  'ghcr.io/kedacore/keda:2.20.2': {
    digest: 'sha256:fe74c7b8849586a67ad2201bcb89e7f5ac221ff90399ecaa8fd28427f1ef11e6',
    recordedIn: [],
    alsoIn: { query: 'kedacore/keda:2.20.2@sha256:', files: 1 },
    note: 'the file lists it as the index, with the arm64 and amd64 manifests beside it',
  },
  'ghcr.io/kedacore/keda-metrics-apiserver:2.20.2': {
    digest: 'sha256:27286536a8a775aeeee37a7e343f8ecebb27ebf680ee1181a4f99e82eefb253b',
    recordedIn: [],
    alsoIn: { query: 'keda-metrics-apiserver:2.20.2@sha256', files: 1 },
    note: 'same file as the operator: index digest, per-platform manifests beside it',
  },
  'ghcr.io/kedacore/keda-admission-webhooks:2.20.2': {
    digest: 'sha256:41f74102aba7959c6e8d08b433ab8a5fd6cae7c5646c78f7fe3de40a52df3439',
    recordedIn: [],
    alsoIn: { query: 'keda-admission-webhooks:2.20.2@sha256', files: 1 },
    note: 'same file as the operator: index digest, per-platform manifests beside it',
  },
  'registry.k8s.io/metrics-server/metrics-server:v0.8.1': {
    digest: 'sha256:b2d2efaf5ac3b366ed0f839d2412a2c4279d4fc2a2a733f12c52133faed36c41',
    recordedIn: [],
    alsoIn: { query: 'metrics-server:v0.8.1@sha256:', files: 3 },
    note: 'a fourth file records sha256:6231fb0a… beside it (a per-platform manifest, by its use there)',
  },
  'public.ecr.aws/karpenter/controller:1.14.1': {
    digest: 'sha256:445baefaaa689029cc12ac1f659b916b0b82fb14308ce536f8521fcf079116fa',
    recordedIn: [
      'aws/karpenter-provider-aws charts/karpenter/values.yaml @ c88abbbad455 ("Stable Release updates Release v1.14.1", the chart that is published)',
    ],
    alsoIn: { query: 'karpenter/controller:1.14.1@sha256', files: 2 },
    note:
      'the main-branch commit 1d927085dd81 the values keys were derived from carries tag 1.14.1 with ' +
      "v1.14.0's digest (sha256:72313094…); the published chart renders this one, which the program now sets",
  },
  'hashicorp/vault:1.20.4': {
    digest: 'sha256:268bb80aa9c6d13d65fcfa05c0c268caca068952240a8087291a6ce0b66e3a10',
    recordedIn: [],
    alsoIn: { query: 'vault:1.20.4@sha256:', files: 3 },
  },
  'hashicorp/vault-k8s:1.7.2': {
    digest: 'sha256:3dd30a9ac5909d17555480f51be734dfb719a323409f06cffe8b48cdaf6237d2',
    recordedIn: [],
    note:
      'set by an earlier session (infra/components/vault.ts) without a recorded source; no public ' +
      'record found: the two public files that pin vault-k8s:1.7.2 keep its digest in a variable',
  },
  'quay.io/jetstack/cert-manager-controller:v1.19.1': {
    digest: 'sha256:cd49e769e18ada1fd7b9a9bacc87c90db24c65cbfd4bf71694dda7ed40e91187',
    recordedIn: [],
    alsoIn: { query: 'cert-manager-controller:v1.19.1@sha256:', files: 4 },
    note: 'the four files belong to at least two unrelated projects (an image-pin map, an image table)',
  },
  'quay.io/jetstack/cert-manager-webhook:v1.19.1': {
    digest: 'sha256:f5bfe77541e38978aec53cc6eb924d190e1fe923c98b2582e6ccf5edf6c02cce',
    recordedIn: [],
    alsoIn: { query: 'cert-manager-webhook:v1.19.1@sha256:', files: 4 },
  },
  'quay.io/jetstack/cert-manager-cainjector:v1.19.1': {
    digest: 'sha256:c7898aece8fb08102fca0b37683e37cb94e0a77c0d15b8e3c9128f6c04c868e0',
    recordedIn: [],
    alsoIn: { query: 'cert-manager-cainjector:v1.19.1@sha256:', files: 4 },
  },
  'quay.io/jetstack/cert-manager-acmesolver:v1.19.1': {
    digest: 'sha256:35ed1103cb49a3e1fc2438de84f304e3fbdeb53e0366f6b1bc2ec9b2e57462db',
    recordedIn: [],
    alsoIn: { query: 'cert-manager-acmesolver:v1.19.1@sha256:', files: 3 },
  },
};

/** Independent records of a digest: distinct named repositories plus the files the search found. */
export function sourceCount(record: DigestRecord): number {
  const repositories = new Set(record.recordedIn.map((s) => s.split(' ')[0]));
  return repositories.size + (record.alsoIn?.files ?? 0);
}

/** `image:tag@digest` of every digest fewer than two records agree on, sorted. */
export function singleSourceDigests(): string[] {
  return Object.entries(imageDigests)
    .filter(([, r]) => sourceCount(r) < 2)
    .map(([ref, r]) => `${ref}@${r.digest}`)
    .sort();
}
