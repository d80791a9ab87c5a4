import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { parseStackConfig } from './config/stack-config';
import { loadGeneratedArtifacts } from './observability/generated-artifacts';
import { deployPlatform } from './platform';

// Entry point of `pulumi up`: validate the stack's configuration, read the generated monitoring
// files, declare the platform. The exported object is the stack outputs contract (stack-outputs.ts).
const config = parseStackConfig(pulumi.getProject(), pulumi.runtime.allConfig());
const artifacts = loadGeneratedArtifacts(path.resolve(__dirname, '..'));

export = deployPlatform(config, artifacts);
