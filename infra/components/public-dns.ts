import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export interface PublicDnsArgs {
  hostedZoneId: string;
  /** The public name (app.host), inside the zone and not its apex. */
  host: string;
  /** What the name resolves to: the ALB's host name from the Ingress's status. */
  target: pulumi.Input<string>;
}

/**
 * The public name of the service in Route 53, pointed at the load balancer the AWS Load Balancer
 * Controller made for the Ingress. Managed here so the smoke test, the k6 run and the certificate
 * probe reach the service on the first deploy, and so a replaced ALB moves the name with it.
 * A CNAME (not an alias) because the ALB is known only by its host name.
 */
export class PublicDns extends pulumi.ComponentResource {
  constructor(name: string, args: PublicDnsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('rag-platform:delivery:PublicDns', name, {}, opts);
    new aws.route53.Record(
      name,
      {
        zoneId: args.hostedZoneId,
        name: args.host,
        type: 'CNAME',
        ttl: 60,
        records: [args.target],
      },
      { parent: this },
    );
    this.registerOutputs({});
  }
}
