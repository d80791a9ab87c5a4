import * as aws from '@pulumi/aws';
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import type { ClusterHandle } from './cluster';

/** Kubernetes group of the pull-request preview roles (EKS access entries map them into it). */
export const previewersGroup = 'rag-platform:previewers';

/**
 * API groups whose objects the program declares (or its charts render): a preview dry-runs a
 * server-side apply of each, which RBAC authorises like a real write. A test keeps this list in
 * step with what every stack declares. admissionregistration.k8s.io is absent on purpose: the
 * policy below cannot guard its own objects.
 */
export const previewWritableApiGroups = [
  '',
  'apps',
  'batch',
  'autoscaling',
  'policy',
  'networking.k8s.io',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'apiextensions.k8s.io',
  'monitoring.coreos.com',
  'karpenter.sh',
  'karpenter.k8s.aws',
  'elbv2.k8s.aws',
  'argoproj.io',
  'cert-manager.io',
  'keda.sh',
  'postgresql.cnpg.io',
] as const;

export interface PreviewAccessArgs {
  cluster: ClusterHandle & { name: pulumi.Output<string> };
  /** IAM roles the pull-request previews assume (read-only in AWS). */
  roleArns: string[];
}

/**
 * Cluster access for pull-request previews that cannot change anything: the preview roles map to
 * a group that may read everything and send writes only as dry runs. RBAC cannot tell a dry run
 * from a write, so a ValidatingAdmissionPolicy denies every write of that group that is not one.
 */
export class PreviewAccess extends pulumi.ComponentResource {
  constructor(name: string, args: PreviewAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:delivery:PreviewAccess', name, {}, opts);
    const k8sOpts = { parent: this, provider: args.cluster.provider };
    const role = new k8s.rbac.v1.ClusterRole(
      name,
      {
        metadata: { name: 'rag-platform-previewer' },
        rules: [
          { apiGroups: ['*'], resources: ['*'], verbs: ['get', 'list', 'watch'] },
          {
            apiGroups: [...previewWritableApiGroups],
            resources: ['*'],
            verbs: ['create', 'update', 'patch', 'delete'],
          },
          // Dry runs of the program's own roles and bindings pass RBAC's escalation check.
          {
            apiGroups: ['rbac.authorization.k8s.io'],
            resources: ['clusterroles', 'roles'],
            verbs: ['bind', 'escalate'],
          },
        ],
      },
      k8sOpts,
    );
    new k8s.rbac.v1.ClusterRoleBinding(
      name,
      {
        metadata: { name: 'rag-platform-previewer' },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: 'rag-platform-previewer',
        },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: previewersGroup }],
      },
      { ...k8sOpts, dependsOn: [role] },
    );
    const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
      name,
      {
        metadata: { name: 'rag-platform-previewers-dry-run-only' },
        spec: {
          failurePolicy: 'Fail',
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: ['*'],
                apiVersions: ['*'],
                operations: ['CREATE', 'UPDATE', 'DELETE', 'CONNECT'],
                resources: ['*', '*/*'],
              },
            ],
          },
          matchConditions: [
            {
              name: 'previewers-only',
              expression: `request.userInfo.groups.exists(g, g == '${previewersGroup}')`,
            },
          ],
          validations: [
            {
              expression: 'request.dryRun == true',
              message: 'pull-request previews may only dry-run',
            },
          ],
        },
      },
      k8sOpts,
    );
    const binding = new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
      name,
      {
        metadata: { name: 'rag-platform-previewers-dry-run-only' },
        spec: { policyName: policy.metadata.name, validationActions: ['Deny'] },
      },
      { ...k8sOpts, dependsOn: [policy] },
    );
    // The preview roles reach the cluster only once the policy binds.
    args.roleArns.forEach(
      (principalArn, i) =>
        new aws.eks.AccessEntry(
          `${name}-${i}`,
          {
            clusterName: args.cluster.name,
            principalArn,
            type: 'STANDARD',
            kubernetesGroups: [previewersGroup],
          },
          { parent: this, dependsOn: [binding] },
        ),
    );
    this.registerOutputs({});
  }
}
