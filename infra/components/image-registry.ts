import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

/** What another account needs to pull an image by digest (manifest, then layers). */
export const ecrPullActions = [
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchCheckLayerAvailability',
] as const;

export interface ImageRegistryArgs {
  repositoryName: string;
  /** Accounts allowed to pull (production); their node roles hold the ECR read-only policy. */
  pullAccountIds: string[];
}

/**
 * The ECR repository the build workflow pushes to. Tags are immutable (a tag is the commit SHA
 * that built it) and images are pulled by digest. Production runs the reference staging verified,
 * pulled cross-account through the repository policy: one image, one digest, no copy that could
 * lag behind the promotion. The repository outlives the stack that creates it (`retainOnDelete`,
 * `protect`): destroying staging must never delete the image production runs.
 */
export class ImageRegistry extends pulumi.ComponentResource {
  readonly repositoryUrl: pulumi.Output<string>;

  constructor(name: string, args: ImageRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:delivery:ImageRegistry', name, {}, opts);
    const repository = new aws.ecr.Repository(
      name,
      {
        name: args.repositoryName,
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: 'KMS' }],
      },
      { parent: this, protect: true, retainOnDelete: true },
    );
    if (args.pullAccountIds.length > 0)
      new aws.ecr.RepositoryPolicy(
        name,
        {
          repository: repository.name,
          policy: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'CrossAccountPull',
                Effect: 'Allow',
                Principal: { AWS: args.pullAccountIds.map((id) => `arn:aws:iam::${id}:root`) },
                Action: [...ecrPullActions],
              },
            ],
          }),
        },
        { parent: this },
      );
    this.repositoryUrl = repository.repositoryUrl;
    this.registerOutputs({ repositoryUrl: this.repositoryUrl });
  }
}
