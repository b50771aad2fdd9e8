import * as fs from 'node:fs';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import { Construct } from 'constructs';
import { CDK_ROOT, CloudTrailTableConfig } from '../config';
import { ATHENA_WORKGROUP, CLOUDTRAIL_TABLE, GLUE_DATABASE } from '../names';
import { Group } from './group';

/** A column of a Glue table: its name and Hive type. */
export interface Column {
  readonly name: string;
  readonly type: string;
}

const ACCESS_KEY = 'struct<id:string,active:boolean,last_rotated:string,last_used:string,last_used_service:string>';

/**
 * `inventory/v1/users/dt=YYYY-MM-DD/<account>.json.gz`, a row per IAM user (DESIGN.md,
 * "Inventory"). Times are ISO 8601 strings (`from_iso8601_timestamp` reads them).
 */
export const USERS_COLUMNS: readonly Column[] = [
  { name: 'account_id', type: 'string' },
  { name: 'account_name', type: 'string' },
  { name: 'ou_path', type: 'array<string>' },
  { name: 'user', type: 'string' },
  { name: 'arn', type: 'string' },
  { name: 'created', type: 'string' },
  { name: 'password_enabled', type: 'boolean' },
  { name: 'password_last_used', type: 'string' },
  { name: 'mfa_active', type: 'boolean' },
  { name: 'access_keys', type: `array<${ACCESS_KEY}>` },
  { name: 'admin', type: 'boolean' },
  { name: 'admin_via', type: 'array<string>' },
  { name: 'groups', type: 'array<string>' },
  { name: 'tags', type: 'map<string,string>' },
  { name: 'owner', type: 'string' },
  { name: 'creator', type: 'string' },
  { name: 'score', type: 'int' },
  { name: 'rules', type: 'array<string>' },
  { name: 'report_time', type: 'string' },
];

/** `inventory/v1/accounts/dt=YYYY-MM-DD/<account>.json.gz`, a row per account and sweep. */
export const ACCOUNTS_COLUMNS: readonly Column[] = [
  { name: 'account_id', type: 'string' },
  { name: 'account_name', type: 'string' },
  { name: 'ou_path', type: 'array<string>' },
  { name: 'users', type: 'int' },
  { name: 'risky_users', type: 'int' },
  { name: 'access_keys', type: 'int' },
  { name: 'report_time', type: 'string' },
  { name: 'status', type: 'string' },
  { name: 'error', type: 'string' },
];

/** The day partition of the inventory tables: `dt=YYYY-MM-DD`, projected (no partitions to add). */
export const DT_FORMAT = 'yyyy-MM-dd';

/** The CloudTrail table `hunt athena` reads, as the repository ships it (crates/hunt/cloudtrail_table.sql). */
export const CLOUDTRAIL_TABLE_SQL = path.resolve(CDK_ROOT, '..', 'crates', 'hunt', 'cloudtrail_table.sql');

/**
 * The columns of the CloudTrail table, read from its `CREATE EXTERNAL TABLE` statement (the
 * table of the Athena documentation): one source for the table the CLI documents and the one
 * this app creates. Types lose their spaces and are lowercased, as Glue stores them.
 */
export function cloudTrailColumns(sqlFile: string = CLOUDTRAIL_TABLE_SQL): Column[] {
  const sql = fs.readFileSync(sqlFile, 'utf8').replace(/--[^\n]*\n/g, '\n');
  const open = sql.search(/CREATE EXTERNAL TABLE\s+\w+\s*\(/i);
  if (open < 0) throw new Error(`${sqlFile}: no CREATE EXTERNAL TABLE statement`);
  let i = sql.indexOf('(', open) + 1;
  let depth = 0;
  let current = '';
  const parts: string[] = [];
  for (; i < sql.length; i++) {
    const c = sql[i];
    if (c === '<' || c === '(') depth++;
    if (c === '>' || c === ')') {
      if (depth === 0) break;
      depth--;
    }
    if (c === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  parts.push(current);
  return parts.map((p) => {
    const m = p.trim().match(/^`?(\w+)`?\s+([\s\S]+)$/);
    if (!m) throw new Error(`${sqlFile}: cannot read the column definition "${p.trim()}"`);
    return { name: m[1].toLowerCase(), type: m[2].replace(/\s+/g, '').toLowerCase() };
  });
}

export interface AnalyticsProps {
  /** `s3://<bucket>/<prefix>/inventory/v1/`. */
  readonly tablesLocation: string;
  /** `s3://<bucket>/athena-results/`. */
  readonly resultsLocation: string;
  /** The oldest day the tables project (the bucket keeps this many days). */
  readonly retentionDays: number;
  /** The organization trail's table; none: not created. */
  readonly cloudtrail?: CloudTrailTableConfig;
}

/**
 * Reading the inventory (and the organization trail) with Athena: the Glue database `iamwatch`,
 * its tables `users` and `accounts` over the inventory's gzip JSON Lines with the `dt` partition
 * projected as a date, the workgroup `iamwatch` (its settings enforced, results encrypted in the
 * inventory bucket), saved queries, and, when configured, the table `cloudtrail` over the
 * organization trail (the Athena documentation's table, partitions projected on account, region
 * and day) that `iamwatch hunt athena --table iamwatch.cloudtrail --workgroup iamwatch` reads.
 */
export class Analytics extends Group {
  public readonly database: glue.CfnDatabase;
  public readonly usersTable: glue.CfnTable;
  public readonly accountsTable: glue.CfnTable;
  public readonly workgroup: athena.CfnWorkGroup;
  public readonly queries: athena.CfnNamedQuery[];
  public readonly cloudtrailTable?: glue.CfnTable;

  constructor(scope: Construct, id: string, props: AnalyticsProps) {
    super(scope, id);
    const catalogId = Stack.of(this).account;
    this.database = new glue.CfnDatabase(this, 'GlueDatabase', {
      catalogId,
      databaseInput: { name: GLUE_DATABASE, description: 'iamwatch: the daily inventory of IAM users (and the organization trail)' },
    });

    const inventoryTable = (tid: string, name: string, columns: readonly Column[], description: string) => {
      const location = `${props.tablesLocation}${name}/`;
      const t = new glue.CfnTable(this, tid, {
        catalogId,
        databaseName: GLUE_DATABASE,
        tableInput: {
          name,
          description,
          tableType: 'EXTERNAL_TABLE',
          partitionKeys: [{ name: 'dt', type: 'string' }],
          parameters: {
            'classification': 'json',
            'compressionType': 'gzip',
            'projection.enabled': 'true',
            'projection.dt.type': 'date',
            'projection.dt.format': DT_FORMAT,
            'projection.dt.range': `NOW-${props.retentionDays}DAYS,NOW`,
            'projection.dt.interval': '1',
            'projection.dt.interval.unit': 'DAYS',
            'storage.location.template': `${location}dt=\${dt}/`,
          },
          storageDescriptor: {
            location,
            columns: columns.map((c) => ({ name: c.name, type: c.type })),
            inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            compressed: true,
            serdeInfo: {
              serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
              parameters: { 'ignore.malformed.json': 'false', 'case.insensitive': 'true' },
            },
          },
        },
      });
      t.node.addDependency(this.database);
      return t;
    };
    this.usersTable = inventoryTable('UsersTable', 'users', USERS_COLUMNS, 'iamwatch inventory: a row per IAM user, account and day');
    this.accountsTable = inventoryTable('AccountsTable', 'accounts', ACCOUNTS_COLUMNS, 'iamwatch inventory: a row per account and day (sweep status)');

    this.workgroup = new athena.CfnWorkGroup(this, 'Workgroup', {
      name: ATHENA_WORKGROUP,
      description: 'iamwatch: queries over the inventory and the organization trail',
      state: 'ENABLED',
      recursiveDeleteOption: false,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: props.resultsLocation,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    this.queries = INVENTORY_QUERIES.map((q) => {
      const nq = new athena.CfnNamedQuery(this, q.id, {
        name: q.name,
        description: q.description,
        database: GLUE_DATABASE,
        workGroup: ATHENA_WORKGROUP,
        queryString: q.sql,
      });
      nq.node.addDependency(this.workgroup);
      nq.node.addDependency(this.usersTable);
      nq.node.addDependency(this.accountsTable);
      return nq;
    });

    if (props.cloudtrail !== undefined) {
      const ct = props.cloudtrail;
      const root = `s3://${ct.bucket}/${ct.prefix === '' ? '' : `${ct.prefix}/`}AWSLogs/${ct.orgId}/`;
      this.cloudtrailTable = new glue.CfnTable(this, 'CloudTrailTable', {
        catalogId,
        databaseName: GLUE_DATABASE,
        tableInput: {
          name: CLOUDTRAIL_TABLE,
          description: `iamwatch: the organization trail in s3://${ct.bucket} (Athena documentation's CloudTrail table, partition projection)`,
          tableType: 'EXTERNAL_TABLE',
          partitionKeys: [
            { name: 'account', type: 'string' },
            { name: 'region', type: 'string' },
            { name: 'timestamp', type: 'string' },
          ],
          parameters: {
            'classification': 'cloudtrail',
            'projection.enabled': 'true',
            'projection.account.type': 'enum',
            'projection.account.values': ct.accounts.join(','),
            'projection.region.type': 'enum',
            'projection.region.values': ct.regions.join(','),
            'projection.timestamp.type': 'date',
            'projection.timestamp.format': 'yyyy/MM/dd',
            'projection.timestamp.interval': '1',
            'projection.timestamp.interval.unit': 'DAYS',
            'projection.timestamp.range': `${ct.startDate},NOW`,
            'storage.location.template': `${root}\${account}/CloudTrail/\${region}/\${timestamp}`,
          },
          storageDescriptor: {
            location: root,
            columns: cloudTrailColumns().map((c) => ({ name: c.name, type: c.type })),
            inputFormat: 'com.amazon.emr.cloudtrail.CloudTrailInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
            serdeInfo: { serializationLibrary: 'org.apache.hive.hcatalog.data.JsonSerDe' },
          },
        },
      });
      this.cloudtrailTable.node.addDependency(this.database);
    }
  }
}

/** The latest day swept (within the last week), for "today" queries that run before the day's sweep. */
const LATEST_DT = `(SELECT max(dt) FROM ${GLUE_DATABASE}.accounts WHERE dt >= date_format(current_date - INTERVAL '7' DAY, '%Y-%m-%d'))`;

export interface SavedQuery {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly sql: string;
}

/** The workgroup's saved queries (Athena's "Saved queries" tab). */
export const INVENTORY_QUERIES: readonly SavedQuery[] = [
  {
    id: 'UsersPerAccountQuery',
    name: 'iamwatch: IAM users per account today',
    description: 'IAM users, risky users (score 40 or more), admins and active keys per account, as of the latest sweep',
    sql: [
      'SELECT account_id, account_name, array_join(ou_path, \' / \') AS ou,',
      '       count(*) AS users,',
      '       count_if(score >= 40) AS risky_users,',
      '       count_if(admin) AS admins,',
      '       sum(cardinality(filter(access_keys, k -> k.active))) AS active_keys',
      `FROM ${GLUE_DATABASE}.users`,
      `WHERE dt = ${LATEST_DT}`,
      'GROUP BY account_id, account_name, array_join(ou_path, \' / \')',
      'ORDER BY users DESC, account_id',
    ].join('\n'),
  },
  {
    id: 'UnusedKeysQuery',
    name: 'iamwatch: unused access keys',
    description: 'Active access keys never used or not used for 90 days, as of the latest sweep, oldest first',
    sql: [
      'SELECT u.account_id, u.account_name, u."user", k.id AS access_key_id,',
      '       k.last_rotated, k.last_used, k.last_used_service, u.owner, u.score',
      `FROM ${GLUE_DATABASE}.users AS u`,
      'CROSS JOIN UNNEST(u.access_keys) AS t (k)',
      `WHERE u.dt = ${LATEST_DT}`,
      '  AND k.active',
      "  AND (k.last_used IS NULL OR from_iso8601_timestamp(k.last_used) < current_timestamp - INTERVAL '90' DAY)",
      'ORDER BY coalesce(k.last_used, k.last_rotated) ASC NULLS FIRST, u.account_id, u."user"',
    ].join('\n'),
  },
  {
    id: 'UserTrendQuery',
    name: 'iamwatch: IAM user count trend',
    description: 'IAM users, risky users and access keys in the organization per day, last 180 days: the way to zero',
    sql: [
      'SELECT dt, sum(users) AS users, sum(risky_users) AS risky_users, sum(access_keys) AS access_keys,',
      "       count(*) AS accounts, count_if(status <> 'ok') AS accounts_failed",
      `FROM ${GLUE_DATABASE}.accounts`,
      "WHERE dt >= date_format(current_date - INTERVAL '180' DAY, '%Y-%m-%d')",
      'GROUP BY dt',
      'ORDER BY dt',
    ].join('\n'),
  },
];
