import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface PrivateBucketArgs {
  /** Customer-managed key the objects are encrypted with (SSE-KMS, bucket key on). */
  kmsKeyArn: pulumi.Input<string>;
  /** Current objects expire after this many days; none when unset (the writer manages them). */
  expireAfterDays?: number;
  /**
   * S3 Object Lock in governance mode for this many days: no one without the bypass permission
   * can delete or overwrite an object (a backup) before then. Set at creation only.
   */
  lockDays?: number;
  /** Survive `pulumi destroy` and refuse deletion while set (production data). */
  protect: boolean;
}

/**
 * An S3 bucket nothing public can reach: KMS-encrypted, versioned, TLS-only, with a lifecycle and,
 * for backups, Object Lock. Used for backups and for the log and trace stores' objects.
 */
export class PrivateBucket extends pulumi.ComponentResource {
  readonly bucket: pulumi.Output<string>;
  readonly arn: pulumi.Output<string>;

  constructor(name: string, args: PrivateBucketArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:storage:PrivateBucket', name, {}, opts);
    const parent = { parent: this };
    const bucket = new aws.s3.Bucket(
      name,
      { objectLockEnabled: args.lockDays !== undefined, forceDestroy: !args.protect },
      { parent: this, protect: args.protect, retainOnDelete: args.protect },
    );
    new aws.s3.BucketPublicAccessBlock(
      name,
      {
        bucket: bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      parent,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
      name,
      {
        bucket: bucket.id,
        rules: [
          {
            applyServerSideEncryptionByDefault: {
              sseAlgorithm: 'aws:kms',
              kmsMasterKeyId: args.kmsKeyArn,
            },
            bucketKeyEnabled: true,
          },
        ],
      },
      parent,
    );
    const versioning = new aws.s3.BucketVersioning(
      name,
      { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } },
      parent,
    );
    if (args.lockDays !== undefined) {
      new aws.s3.BucketObjectLockConfiguration(
        name,
        {
          bucket: bucket.id,
          rule: { defaultRetention: { mode: 'GOVERNANCE', days: args.lockDays } },
        },
        { parent: this, dependsOn: [versioning] },
      );
    }
    new aws.s3.BucketLifecycleConfiguration(
      name,
      {
        bucket: bucket.id,
        rules: [
          {
            id: 'expire',
            status: 'Enabled',
            filter: {},
            ...(args.expireAfterDays !== undefined
              ? { expiration: { days: args.expireAfterDays } }
              : {}),
            // Overwritten and expired versions go a week later; unfinished uploads after a day.
            noncurrentVersionExpiration: { noncurrentDays: 7 },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          },
        ],
      },
      { parent: this, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
      name,
      {
        bucket: bucket.id,
        policy: pulumi.jsonStringify({
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'TlsOnly',
              Effect: 'Deny',
              Principal: '*',
              Action: 's3:*',
              Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            },
          ],
        }),
      },
      parent,
    );
    this.bucket = bucket.bucket;
    this.arn = bucket.arn;
    this.registerOutputs({ bucket: this.bucket });
  }
}
