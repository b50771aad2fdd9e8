import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { CatalogRule, RULES, forwardedEventNames, forwardedEventPattern, forwardedSources } from '../lib/names';
import { iamEventNamesOfRulesJson } from './helpers';

const rule = (id: string, event_source: string, event_names: string[], resolving_events: string[]): CatalogRule => ({
  id,
  event_source,
  event_names,
  resolving_events,
});

describe('rules.json', () => {
  test('is an array of rules with the fields this app reads', () => {
    const raw: any[] = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'lib', 'rules.json'), 'utf8'));
    assert.ok(raw.length > 0);
    for (const r of raw) {
      assert.match(r.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.match(r.event_source, /^[a-z0-9-]+\.amazonaws\.com$/, r.id);
      for (const field of ['event_names', 'resolving_events']) {
        assert.ok(Array.isArray(r[field]) && r[field].every((n: unknown) => typeof n === 'string' && /^[A-Za-z0-9]+$/.test(n)), `${r.id}.${field}`);
      }
    }
    assert.equal(new Set(raw.map((r) => r.id)).size, raw.length, 'rule ids are unique');
    assert.equal(RULES.length, raw.length);
  });

  test('the IAM names forwarded are the union of event_names and resolving_events, sorted', () => {
    assert.deepEqual(forwardedEventNames().get('iam.amazonaws.com'), iamEventNamesOfRulesJson());
  });

  test('every IAM name forwarded before rules.json (lib/event-names.json, now gone) is still forwarded', () => {
    // Dropping one silently ends a rule's findings or their resolution in every account; a
    // deliberate removal edits this list.
    const first = [
      'AddUserToGroup', 'AttachUserPolicy', 'CreateAccessKey', 'CreateLoginProfile', 'CreateUser', 'DeactivateMFADevice',
      'DeleteAccessKey', 'DeleteLoginProfile', 'DeleteUser', 'DeleteUserPolicy', 'DeleteVirtualMFADevice', 'DetachUserPolicy',
      'PutUserPolicy', 'RemoveUserFromGroup', 'UpdateAccessKey', 'UpdateLoginProfile',
    ];
    const forwarded = iamEventNamesOfRulesJson();
    assert.deepEqual(first.filter((n) => !forwarded.includes(n)), []);
  });
});

describe('forwarded events', () => {
  test('one source: a plain pattern of its calls', () => {
    const rules = [rule('a', 'iam.amazonaws.com', ['CreateUser'], ['DeleteUser']), rule('b', 'iam.amazonaws.com', ['CreateAccessKey', 'CreateUser'], [])];
    assert.deepEqual(forwardedEventPattern(rules), {
      'source': ['aws.iam'],
      'detail-type': ['AWS API Call via CloudTrail'],
      'detail': { eventSource: ['iam.amazonaws.com'], eventName: ['CreateAccessKey', 'CreateUser', 'DeleteUser'] },
    });
    assert.deepEqual(forwardedSources(rules), ['aws.iam']);
  });

  test('a rule of a second source adds its own branch, without touching the first source names', () => {
    const rules = [
      rule('a', 'iam.amazonaws.com', ['CreateUser'], ['DeleteUser']),
      rule('s', 'signin.amazonaws.com', ['ConsoleLogin'], []),
      rule('d', 'iam.amazonaws.com', [], []),
    ];
    assert.deepEqual(forwardedEventPattern(rules), {
      $or: [
        {
          'source': ['aws.iam'],
          'detail-type': ['AWS API Call via CloudTrail'],
          'detail': { eventSource: ['iam.amazonaws.com'], eventName: ['CreateUser', 'DeleteUser'] },
        },
        {
          'source': ['aws.signin'],
          'detail-type': ['AWS Console Sign In via CloudTrail'],
          'detail': { eventSource: ['signin.amazonaws.com'], eventName: ['ConsoleLogin'] },
        },
      ],
    });
    assert.deepEqual(forwardedSources(rules), ['aws.iam', 'aws.signin']);
  });

  test('a rule of an unknown source fails synthesis, naming the rule', () => {
    assert.throws(() => forwardedEventNames([rule('x', 'sts.amazonaws.com', ['AssumeRole'], [])]), /rule x has event source sts\.amazonaws\.com/);
  });
});
