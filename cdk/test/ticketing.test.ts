import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asArray, onlyResource, statementsOfRole, synth } from './helpers';

const t = synth().centralTemplate;
const json = t.toJSON();
const [ledgerId, ledger] = onlyResource(t, 'AWS::DynamoDB::Table', { TableName: 'iamwatch-ticket-ledger' });
const [ticketsDlqId] = onlyResource(t, 'AWS::SQS::Queue', { QueueName: 'iamwatch-tickets-dlq' });
const [, ticket] = onlyResource(t, 'AWS::Lambda::Function', { FunctionName: 'iamwatch-ticket' });
const [ticketRoleId] = onlyResource(t, 'AWS::IAM::Role', { RoleName: 'iamwatch-ticket' });
const [detectRoleId] = onlyResource(t, 'AWS::IAM::Role', { RoleName: 'iamwatch-detect' });

describe('ticket ledger', () => {
  test('keyed by finding id and episode, on demand, encrypted, with point-in-time recovery, retained', () => {
    const p = ledger.Properties;
    assert.deepEqual(p.KeySchema, [
      { AttributeName: 'findingId', KeyType: 'HASH' },
      { AttributeName: 'episode', KeyType: 'RANGE' },
    ]);
    assert.deepEqual(p.AttributeDefinitions, [
      { AttributeName: 'findingId', AttributeType: 'S' },
      { AttributeName: 'episode', AttributeType: 'N' },
    ]);
    assert.equal(p.BillingMode, 'PAY_PER_REQUEST');
    assert.deepEqual(p.SSESpecification, { SSEEnabled: true });
    assert.deepEqual(p.PointInTimeRecoverySpecification, { PointInTimeRecoveryEnabled: true });
    assert.equal(json.Resources[ledgerId].DeletionPolicy, 'Retain');
  });

  test('the ticket role may only Query and PutItem on the ledger; detect may not touch it', () => {
    const onLedger = statementsOfRole(t, ticketRoleId).filter((s) => asArray(s.Action).some((a: string) => a.startsWith('dynamodb:')));
    assert.equal(onLedger.length, 1);
    assert.deepEqual(asArray(onLedger[0].Action).sort(), ['dynamodb:PutItem', 'dynamodb:Query']);
    assert.deepEqual(onLedger[0].Resource, { 'Fn::GetAtt': [ledgerId, 'Arn'] });
    assert.equal(onLedger[0].Condition, undefined);
    for (const s of statementsOfRole(t, detectRoleId)) assert.ok(!asArray(s.Action).some((a: string) => a.startsWith('dynamodb:')));
  });

  test('the ticket function is told the table, the DLQ and the security account', () => {
    const env = ticket.Properties.Environment.Variables;
    assert.deepEqual(env.IAMWATCH_LEDGER_TABLE, { Ref: ledgerId });
    assert.deepEqual(env.IAMWATCH_TICKETS_DLQ_URL, { Ref: ticketsDlqId });
    assert.equal(env.IAMWATCH_SECURITY_ACCOUNT, '111122223333');
  });
});

describe('poison messages', () => {
  test('the ticket role may send to the tickets DLQ and to no other queue', () => {
    const sends = statementsOfRole(t, ticketRoleId).filter((s) => asArray(s.Action).includes('sqs:SendMessage'));
    assert.equal(sends.length, 1);
    assert.deepEqual(asArray(sends[0].Action), ['sqs:SendMessage']);
    assert.deepEqual(sends[0].Resource, { 'Fn::GetAtt': [ticketsDlqId, 'Arn'] });
  });
});

describe('Jira lifecycle', () => {
  test('close and reopen transitions reach the function when configured, and only then', () => {
    assert.equal(ticket.Properties.Environment.Variables.IAMWATCH_JIRA_CLOSE_TRANSITION, undefined);
    assert.equal(ticket.Properties.Environment.Variables.IAMWATCH_JIRA_REOPEN_TRANSITION, undefined);
    const other = synth({ 'iamwatch:jiraCloseTransition': 'Done', 'iamwatch:jiraReopenTransition': 'Reopen' }).centralTemplate;
    const [, fn] = onlyResource(other, 'AWS::Lambda::Function', { FunctionName: 'iamwatch-ticket' });
    assert.equal(fn.Properties.Environment.Variables.IAMWATCH_JIRA_CLOSE_TRANSITION, 'Done');
    assert.equal(fn.Properties.Environment.Variables.IAMWATCH_JIRA_REOPEN_TRANSITION, 'Reopen');
    const noJira = synth({ 'iamwatch:jiraBaseUrl': '', 'iamwatch:jiraCloseTransition': 'Done' }).centralTemplate;
    const [, bare] = onlyResource(noJira, 'AWS::Lambda::Function', { FunctionName: 'iamwatch-ticket' });
    assert.equal(bare.Properties.Environment.Variables.IAMWATCH_JIRA_CLOSE_TRANSITION, undefined);
  });
});
