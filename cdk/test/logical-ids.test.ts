import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Group, GroupedStack } from '../lib/constructs/group';
import { synth } from './helpers';

/**
 * Logical ids of the resources of a deployed IamwatchCentral. A changed id makes CloudFormation
 * replace the resource: a new bus without the member accounts' rules pointing at it yet, new
 * queues without the waiting messages, a second event source mapping on a queue (which Lambda
 * refuses). Resources may be added; these must keep their ids.
 */
const DEPLOYED_CENTRAL_IDS: Record<string, string> = {
  AlarmTopicD01E77F9: 'AWS::SNS::Topic',
  AlarmTopicKey57B0D3A7: 'AWS::KMS::Key',
  AlarmTopicKeyAlias2A4BDA2D: 'AWS::KMS::Alias',
  AlarmTopicPolicy309DB5F8: 'AWS::SNS::TopicPolicy',
  BusEA82B648: 'AWS::Events::EventBus',
  BuscdkiamwatchorgputeventsB52A2C2A: 'AWS::Events::EventBusPolicy',
  DetectErrors2B60AC87: 'AWS::CloudWatch::Alarm',
  DetectFunction5E3C9172: 'AWS::Lambda::Function',
  DetectFunctionSqsEventSourceIamwatchCentralEventsQueue69618A56D80620A7: 'AWS::Lambda::EventSourceMapping',
  DetectLogGroupBCB6D186: 'AWS::Logs::LogGroup',
  DetectRole0844D58E: 'AWS::IAM::Role',
  DetectRoleDefaultPolicy2EB69037: 'AWS::IAM::Policy',
  EventsDlqACDA5DFF: 'AWS::SQS::Queue',
  EventsDlqDepth06553C61: 'AWS::CloudWatch::Alarm',
  EventsDlqPolicy08A3B1A0: 'AWS::SQS::QueuePolicy',
  EventsOldestMessage3F2B5994: 'AWS::CloudWatch::Alarm',
  EventsQueueB96EB0D2: 'AWS::SQS::Queue',
  EventsQueuePolicyF3E925EC: 'AWS::SQS::QueuePolicy',
  IamEventsRule0FA454CE: 'AWS::Events::Rule',
  JiraSecret7156AEC0: 'AWS::SecretsManager::Secret',
  MemberStackSet: 'AWS::CloudFormation::StackSet',
  SlackSecretEA96F13F: 'AWS::SecretsManager::Secret',
  TicketErrorsAEA52D3C: 'AWS::CloudWatch::Alarm',
  TicketFunction587D673E: 'AWS::Lambda::Function',
  TicketFunctionSqsEventSourceIamwatchCentralTicketsQueue817D9655BEE14F92: 'AWS::Lambda::EventSourceMapping',
  TicketLogGroup391056B2: 'AWS::Logs::LogGroup',
  TicketRole1B445E14: 'AWS::IAM::Role',
  TicketRoleDefaultPolicyE2C203A5: 'AWS::IAM::Policy',
  TicketsDlq2772DA58: 'AWS::SQS::Queue',
  TicketsDlqDepth8C5B2707: 'AWS::CloudWatch::Alarm',
  TicketsDlqPolicyA2B27E94: 'AWS::SQS::QueuePolicy',
  TicketsOldestMessageA1AF67B7: 'AWS::CloudWatch::Alarm',
  TicketsQueueCC54C9AE: 'AWS::SQS::Queue',
  TicketsQueuePolicy5DD90F32: 'AWS::SQS::QueuePolicy',
  UrgentFindingsRule5D0CB2DB: 'AWS::Events::Rule',
};

describe('logical ids', () => {
  test('every resource of a deployed IamwatchCentral keeps its logical id and type', () => {
    const resources = synth().centralTemplate.toJSON().Resources;
    for (const [id, type] of Object.entries(DEPLOYED_CENTRAL_IDS)) {
      assert.equal(resources[id]?.Type, type, `${id} (${type})`);
    }
  });

  test('a Group does not take part in the logical ids of a GroupedStack: nested groups, queue policies and SQS event sources', () => {
    const build = (grouped: boolean): Record<string, string> => {
      const stack = new GroupedStack(new App(), 'S');
      const zone = (id: string) => (grouped ? new Group(stack, id) : stack);
      const queue = new sqs.Queue(zone('Zone'), 'Queue', { enforceSSL: true });
      new sqs.Queue(grouped ? new Group(new Group(stack, 'Outer'), 'Inner') : stack, 'Other');
      const fn = new lambda.Function(zone('Compute'), 'Fn', {
        runtime: lambda.Runtime.NODEJS_20_X,
        handler: 'index.handler',
        code: lambda.Code.fromInline('placeholder'),
      });
      fn.addEventSource(new SqsEventSource(queue));
      const resources = Template.fromStack(stack).toJSON().Resources as Record<string, { Type: string }>;
      return Object.fromEntries(Object.entries(resources).map(([id, r]) => [id, r.Type]));
    };
    const flat = build(false);
    assert.ok(Object.values(flat).includes('AWS::Lambda::EventSourceMapping'));
    assert.ok(Object.values(flat).includes('AWS::SQS::QueuePolicy'));
    assert.deepEqual(build(true), flat);
  });
});
