// Paraphrased on-call questions over runbooks/, each with the runbook that answers it: the
// evaluation set for retrieval quality (hit@1, hit@3). Written as someone paged at night asks,
// from the symptom they see, not from the runbook's name: no question shares a word with its
// runbook's title (app/test/rag/retrieval/runbook-questions.test.ts keeps that true), so a
// retriever can only succeed through the runbook's body. Sources are as seeded by
// app/src/rag/corpus/demo-corpus.ts (`runbooks/<path>`).

export interface EvaluationQuestion {
  readonly question: string;
  readonly expected: string;
}

export const runbookQuestions: readonly EvaluationQuestion[] = [
  {
    question:
      'Almost every answer is computed from scratch again, lookups in Redis keep missing. Why?',
    expected: 'runbooks/alerts/CacheHitRatioCollapse.md',
  },
  {
    question:
      'After a big re-upload nothing gets served from memory any more and the embedder bill jumps',
    expected: 'runbooks/alerts/CacheHitRatioCollapse.md',
  },
  {
    question: 'Browsers will reject our TLS handshake in ten days, how do I renew it through ACM?',
    expected: 'runbooks/alerts/CertificateExpiringSoon.md',
  },
  {
    question: 'The autoscaler sits at its ceiling of replicas and traffic is still growing',
    expected: 'runbooks/alerts/HPAMaxedOut.md',
  },
  {
    question: 'Clients uploading documents get 5xx errors and have to retry their uploads',
    expected: 'runbooks/alerts/IngestAvailabilityBudgetBurn.md',
  },
  {
    question:
      'More than a thousand jobs are waiting in the queue and the workers are not keeping up',
    expected: 'runbooks/alerts/IngestionBacklog.md',
  },
  {
    question:
      'Uploads were accepted with 202 but thousands of documents still wait to be processed',
    expected: 'runbooks/alerts/IngestionBacklog.md',
  },
  {
    question:
      'Some uploaded documents exhausted every retry attempt and will never become searchable',
    expected: 'runbooks/alerts/IngestionDeadLetters.md',
  },
  {
    question: 'Newly uploaded documents take over a minute before answers include them',
    expected: 'runbooks/alerts/IngestionFreshnessBudgetBurn.md',
  },
  {
    question:
      'Containers are being CFS-throttled near their processor limit and event loop lag climbs',
    expected: 'runbooks/alerts/PodCpuSaturation.md',
  },
  {
    question:
      'A container keeps restarting right after start-up and the kubelet backs off longer each time',
    expected: 'runbooks/alerts/PodCrashLooping.md',
  },
  {
    question:
      'The service process exits on boot complaining about invalid settings, and kubernetes restarts it over and over',
    expected: 'runbooks/alerts/PodCrashLooping.md',
  },
  {
    question: 'Containers are getting OOM-killed because their working set approaches the limit',
    expected: 'runbooks/alerts/PodMemorySaturation.md',
  },
  {
    question:
      'Every write answers 503 and health checks against DATABASE_URL fail, but reads still work',
    expected: 'runbooks/alerts/PostgresPrimaryDown.md',
  },
  {
    question: 'The writer database is unreachable, what stops working and who do I page?',
    expected: 'runbooks/alerts/PostgresPrimaryDown.md',
  },
  {
    question:
      'One of the read-only standbys is unreachable and rag_db_reads_total shows reads shifting',
    expected: 'runbooks/alerts/PostgresReplicaDown.md',
  },
  {
    question: 'A standby replays WAL thirty seconds behind and reads moved to the writer',
    expected: 'runbooks/alerts/PostgresReplicaLagging.md',
  },
  {
    question: 'Users asking questions receive 5xx problem responses instead of answers',
    expected: 'runbooks/alerts/QueryAvailabilityBudgetBurn.md',
  },
  {
    question: 'Answers arrive, but more than one percent of them take longer than a second',
    expected: 'runbooks/alerts/QueryLatencyBudgetBurn.md',
  },
  {
    question: 'Answers to questions became slow: which stage of the pipeline eats the time?',
    expected: 'runbooks/alerts/QueryLatencyBudgetBurn.md',
  },
  {
    question:
      'No pod can reach the in-memory key value cache, answers are slower and nothing is reused',
    expected: 'runbooks/alerts/RedisDown.md',
  },
  {
    question: 'Secrets cannot be rendered by the agent and new pods have empty _FILE settings',
    expected: 'runbooks/alerts/VaultSealed.md',
  },
  {
    question: 'Qdrant is unreachable from every pod and questions fail with 503',
    expected: 'runbooks/alerts/VectorStoreDown.md',
  },
  {
    question: 'The heartbeat service reports that the always-firing alert stopped arriving',
    expected: 'runbooks/alerts/Watchdog.md',
  },
  {
    question: 'Is Prometheus still evaluating rules, and do pages reach PagerDuty at all?',
    expected: 'runbooks/procedures/alerting-pipeline-down.md',
  },
  {
    question:
      'The nightly preview shows differences nobody committed; someone edited resources by hand with kubectl',
    expected: 'runbooks/procedures/drift-remediation.md',
  },
  {
    question:
      'Which cloud resource did an operator edit outside of the Pulumi program, and should pulumi up overwrite it?',
    expected: 'runbooks/procedures/drift-remediation.md',
  },
  {
    question:
      'Users are affected by an outage: who acts as commander, who writes status updates, how often?',
    expected: 'runbooks/procedures/incident-response.md',
  },
  {
    question: 'How do we decide between SEV1 and SEV2 and who keeps the timeline?',
    expected: 'runbooks/procedures/incident-response.md',
  },
  {
    question: 'We upgrade RDS on Tuesday night, how do I mute the pages with amtool for two hours?',
    expected: 'runbooks/procedures/maintenance-window.md',
  },
  {
    question: 'The writer instance is gone for good, how do I promote a standby in its place?',
    expected: 'runbooks/procedures/postgres-failover.md',
  },
  {
    question:
      'After the deploy every query on older collections answers 409 Conflict saying the collection holds other vectors',
    expected: 'runbooks/procedures/re-embedding.md',
  },
  {
    question:
      'We want to move to a bigger OpenAI vectorizer with more dimensions; what happens to existing collections?',
    expected: 'runbooks/procedures/re-embedding.md',
  },
  {
    question:
      'How do I requeue the uploads that exhausted QUEUE_RETRY_LIMIT once the cause is fixed?',
    expected: 'runbooks/procedures/replay-dead-letters.md',
  },
  {
    question:
      'A bad migration wiped rows, how do I bring the database back to how it was an hour ago?',
    expected: 'runbooks/procedures/restore-postgres.md',
  },
  {
    question:
      'Someone deleted documents by mistake; can we recover them from the automated backups of the last 14 days?',
    expected: 'runbooks/procedures/restore-postgres.md',
  },
  {
    question:
      'The embeddings volume of the StatefulSet was lost, how do I recover the collections from a snapshot?',
    expected: 'runbooks/procedures/restore-qdrant.md',
  },
  {
    question:
      'The raft data of the secrets cluster is lost on every volume, how do we get it back?',
    expected: 'runbooks/procedures/restore-vault.md',
  },
  {
    question: 'How do I take a raft snapshot of the secrets cluster before an upgrade?',
    expected: 'runbooks/procedures/restore-vault.md',
  },
  {
    question:
      'Karpenter adds no more machines and the autoscaler cannot place new replicas, how do I raise the limits?',
    expected: 'runbooks/procedures/scaling.md',
  },
  {
    question:
      'The secrets server came back after a restart but refuses requests until KMS is reachable',
    expected: 'runbooks/procedures/vault-unseal.md',
  },
  {
    question: 'Dev cluster secrets server needs the Shamir shares typed in by hand after a reboot',
    expected: 'runbooks/procedures/vault-unseal.md',
  },
  {
    question:
      'Before the launch we want to prove the service keeps its objectives at 2000 concurrent users; which k6 profile do I pick?',
    expected: 'runbooks/procedures/sla-load-test.md',
  },
  {
    question:
      'How do I find the highest arrival rate staging holds before latency breaks, with the breakpoint profile?',
    expected: 'runbooks/procedures/sla-load-test.md',
  },
];
