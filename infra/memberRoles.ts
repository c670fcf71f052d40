// MemberRoles: the StackSet that puts the member role in every account under the configured OUs.
// Service-managed, with automatic deployment: CloudFormation deploys to an account that joins or
// moves into a target OU by itself, so new accounts are covered without a `pulumi up`.
// https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/stacksets-orgs-manage-auto-deployment.html
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { buildMemberRoleTemplate, type MemberRoleTemplateArgs } from "./memberRoleTemplate";
import type { CallAs } from "./organizationConfig";

export interface MemberRolesArgs {
  namePrefix: string;
  /** Where the StackSet and its one instance per account live: the hub's region (IAM is global). */
  region: string;
  organizationUnits: string[];
  callAs: CallAs;
  template: Omit<MemberRoleTemplateArgs, "workerRoleArn" | "workerRoleId" | "organizationId">;
  workerRoleArn: pulumi.Input<string>;
  workerRoleId: pulumi.Input<string>;
  organizationId: pulumi.Input<string>;
}

export class MemberRoles extends pulumi.ComponentResource {
  public readonly stackSetName: pulumi.Output<string>;

  constructor(name: string, args: MemberRolesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ec2-backup-retention:index:MemberRoles", name, {}, opts);

    const stackSet = new aws.cloudformation.StackSet(
      `${name}-stack-set`,
      {
        name: `${args.namePrefix}-member-role`,
        description: "The role the ec2-backup-retention hub's worker assumes in each member account.",
        permissionModel: "SERVICE_MANAGED",
        // Accounts that leave the target OUs lose the role.
        autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
        callAs: args.callAs,
        capabilities: ["CAPABILITY_NAMED_IAM"],
        // Lets auto-deployments and updates queue instead of failing on a running operation.
        managedExecution: { active: true },
        operationPreferences: { failureTolerancePercentage: 10, maxConcurrentPercentage: 25 },
        templateBody: pulumi
          .all([args.workerRoleArn, args.workerRoleId, args.organizationId])
          .apply(([workerRoleArn, workerRoleId, organizationId]) =>
            JSON.stringify(
              buildMemberRoleTemplate({ ...args.template, workerRoleArn, workerRoleId, organizationId }),
            ),
          ),
      },
      // AWS fills in the service-managed administration role; without this every update would
      // try to clear it (AWS provider docs, aws_cloudformation_stack_set, SERVICE_MANAGED).
      { parent: this, ignoreChanges: ["administrationRoleArn"] },
    );

    // One instance set for all the OUs, in one region: the role is global, a second region would
    // create it twice. StackSets never deploy to the management account (CloudFormation User Guide).
    new aws.cloudformation.StackSetInstance(
      `${name}-instances`,
      {
        stackSetName: stackSet.name,
        callAs: args.callAs,
        deploymentTargets: { organizationalUnitIds: args.organizationUnits },
        stackSetInstanceRegion: args.region,
      },
      { parent: this },
    );

    this.stackSetName = stackSet.name;
    this.registerOutputs({ stackSetName: this.stackSetName });
  }
}
