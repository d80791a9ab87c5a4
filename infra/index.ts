import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parseStackConfig } from './config/stack-config';
import { loadGeneratedArtifacts } from './observability/generated-artifacts';
import { deployPlatform } from './platform';

// Entry point of `pulumi up`: validate the stack's configuration, read the generated monitoring
// files, declare the platform, export the stack outputs contract (infra/stack-outputs.ts).
const config = parseStackConfig(pulumi.getProject(), pulumi.runtime.allConfig());
const artifacts = loadGeneratedArtifacts(path.resolve(__dirname, '..'));
const outputs = deployPlatform(config, artifacts);

export const clusterName = outputs.clusterName;
export const kubeconfig = outputs.kubeconfig;
export const databaseEndpoint = outputs.databaseEndpoint;
export const databaseReplicaEndpoints = outputs.databaseReplicaEndpoints;
export const redisEndpoint = outputs.redisEndpoint;
export const appUrl = outputs.appUrl;
export const image = outputs.image;
export const imageDigest = outputs.imageDigest;
