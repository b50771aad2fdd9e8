import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError } from '../lib/config';
import { RUNBOOKS_DIR, renderRunbook, renderRunbooks } from '../lib/runbooks';
import { ORG_ID, SECURITY_ACCOUNT, onlyResource, synth, tmpDir } from './helpers';

/**
 * Runbook links that work (issue 13, points 1 and 2): no synthesis without a base URL unless the
 * app hosts the runbooks, and the hosted runbooks are rendered from runbooks/*.md and readable by
 * the organization only.
 */
const BUCKET = `iamwatch-runbooks-${SECURITY_ACCOUNT}-us-east-1`;
const HOSTED_BASE = `https://us-east-1.console.aws.amazon.com/s3/object/${BUCKET}?region=us-east-1&bucketType=general&prefix=runbooks/`;
const runbookMarkdown = fs.readdirSync(RUNBOOKS_DIR).filter((f) => f.endsWith('.md')).sort();

/** The runbook URL the functions build: `<base without trailing slashes>/<rule-id>.md` (crates/core build.rs). */
const runbookUrl = (base: string, ruleId: string) => `${base.replace(/\/+$/, '')}/${ruleId}.md`;

describe('runbook base URL', () => {
  test('synthesis fails without a base URL unless the runbooks are hosted, and says what to set', () => {
    assert.throws(
      () => synth({ 'iamwatch:runbookBaseUrl': '', 'iamwatch:runbookHosting': false }),
      (e: unknown) =>
        e instanceof ConfigError &&
        /^context key iamwatch:runbookBaseUrl: is empty: .*Set it to where your runbooks\/ folder is served \(https:\/\/\.\.\.\), or set iamwatch:runbookHosting to true/.test(e.message),
    );
    assert.throws(() => synth({ 'iamwatch:runbookHosting': false }), /iamwatch:runbookBaseUrl: is empty/, 'the key absent is the same as empty');
  });

  test('an operator base URL goes to the detect function as is, and nothing is hosted', () => {
    const base = 'https://wiki.example.com/iamwatch/runbooks/';
    const built = synth({ 'iamwatch:runbookBaseUrl': base, 'iamwatch:runbookHosting': false });
    const [, detect] = onlyResource(built.centralTemplate, 'AWS::Lambda::Function', { FunctionName: 'iamwatch-detect' });
    assert.equal(detect.Properties.Environment.Variables.IAMWATCH_RUNBOOK_BASE_URL, base);
    assert.equal(
      Object.values(built.centralTemplate.findResources('AWS::S3::Bucket')).filter((b: any) => String(b.Properties.BucketName).startsWith('iamwatch-runbooks-')).length,
      0,
    );
    built.centralTemplate.resourceCountIs('Custom::CDKBucketDeployment', 0);
  });

  test('a base URL and hosting together are refused (one or the other)', () => {
    assert.throws(
      () => synth({ 'iamwatch:runbookBaseUrl': 'https://wiki.example.com/rb', 'iamwatch:runbookHosting': true }),
      /iamwatch:runbookBaseUrl: must be empty with iamwatch:runbookHosting/,
    );
  });
});

describe('hosted runbooks (iamwatch:runbookHosting)', () => {
  const built = synth({ 'iamwatch:runbookHosting': true, 'iamwatch:runbookBaseUrl': '' });
  const t = built.centralTemplate;
  const [bucketId, bucket] = onlyResource(t, 'AWS::S3::Bucket', { BucketName: BUCKET });

  test('the bucket is private and encrypted, its objects owned by the bucket owner', () => {
    assert.deepEqual(bucket.Properties.BucketEncryption, {
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
    });
    assert.deepEqual(bucket.Properties.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    assert.deepEqual(bucket.Properties.OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    assert.equal(bucket.Properties.WebsiteConfiguration, undefined, 'no website endpoint');
  });

  test('its policy lets only principals of the organization read runbooks/, and only over TLS 1.2+', () => {
    const [, policy] = onlyResource(t, 'AWS::S3::BucketPolicy', { Bucket: { Ref: bucketId } });
    const statements: any[] = policy.Properties.PolicyDocument.Statement;
    const allows = statements.filter((s) => s.Effect === 'Allow');
    assert.deepEqual(allows, [
      {
        Sid: 'iamwatch-org-reads-runbooks',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 's3:GetObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/runbooks/*']] },
        Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } },
      },
    ]);
    const denies = statements.filter((s) => s.Effect === 'Deny');
    assert.ok(denies.some((s) => s.Condition?.Bool?.['aws:SecureTransport'] === 'false' && s.Action === 's3:*'));
    assert.ok(denies.some((s) => s.Condition?.NumericLessThan?.['s3:TlsVersion'] === 1.2 && s.Action === 's3:*'));
  });

  test('the detect function links runbooks at the hosted copy, whose object keys are the links', () => {
    const [, detect] = onlyResource(t, 'AWS::Lambda::Function', { FunctionName: 'iamwatch-detect' });
    assert.equal(detect.Properties.Environment.Variables.IAMWATCH_RUNBOOK_BASE_URL, HOSTED_BASE);
    assert.equal(built.central.runbooks?.baseUrl, HOSTED_BASE);
    const url = new URL(runbookUrl(HOSTED_BASE, 'root-console-login'));
    assert.equal(url.hostname, 'us-east-1.console.aws.amazon.com');
    assert.equal(url.pathname, `/s3/object/${BUCKET}`);
    assert.equal(url.searchParams.get('prefix'), 'runbooks/root-console-login.md');
  });

  test('every runbooks/*.md is rendered to an HTML page and deployed under runbooks/ as text/html', () => {
    built.app.synth();
    const [, deployment] = onlyResource(t, 'Custom::CDKBucketDeployment');
    assert.deepEqual(deployment.Properties.DestinationBucketName, { Ref: bucketId });
    assert.equal(deployment.Properties.DestinationBucketKeyPrefix, 'runbooks/');
    assert.equal(deployment.Properties.Prune, true);
    assert.equal(deployment.Properties.SystemMetadata['content-type'], 'text/html; charset=utf-8');
    assert.equal(deployment.Properties.SourceObjectKeys.length, 1);
    const assetDir = path.join(built.app.outdir, `asset.${String(deployment.Properties.SourceObjectKeys[0]).replace(/\.zip$/, '')}`);
    const pages = fs.readdirSync(assetDir).sort();
    assert.ok(runbookMarkdown.length >= 20, `${runbookMarkdown.length} runbooks`);
    assert.deepEqual(pages, runbookMarkdown);
    assert.deepEqual(built.central.runbooks?.files, runbookMarkdown);
    for (const page of pages) {
      const html = fs.readFileSync(path.join(assetDir, page), 'utf8');
      assert.match(html, /^<!doctype html>\n<html lang="en">/, page);
      assert.match(html, /<style>[^<]+<\/style>/, `${page}: inline stylesheet`);
      assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\(/i, `${page}: no external assets`);
      const title = fs.readFileSync(path.join(RUNBOOKS_DIR, page), 'utf8').match(/^#\s+(.+)$/m)![1].replace(/`/g, '');
      assert.ok(html.includes('<h1 id="'), `${page}: its heading`);
      assert.ok(html.includes('<title>'), `${page}: ${title}`);
      for (const href of html.matchAll(/href="([^"]*)"/g)) {
        assert.match(href[1], /^(https:\/\/|#)/, `${page}: link ${href[1]} is absolute or in the page`);
      }
    }
  });
});

describe('runbook rendering', () => {
  const hosted = (file: string) => `${HOSTED_BASE}${file}`;
  /** The hosted base URL as it stands in an attribute: `&` escaped. */
  const inHref = HOSTED_BASE.replace(/&/g, '&amp;');
  const known = new Set(['ops-dlq.md', 'README.md']);

  test('Markdown becomes HTML: headings with anchors, tables, code, escaped raw HTML', () => {
    const html = renderRunbook(
      '# rule-x: a `thing` happened\n\n| a | b |\n| --- | --- |\n| 1 | `2` |\n\n## Containment\n\n```sh\naws iam delete-user --user-name x\n```\n\n<script>alert(1)</script>\n',
      'rule-x.md',
      hosted,
      known,
    );
    assert.ok(html.includes('<title>rule-x: a thing happened</title>'));
    assert.ok(html.includes('<h1 id="rule-x-a-thing-happened">rule-x: a <code>thing</code> happened</h1>'));
    assert.ok(html.includes('<h2 id="containment">Containment</h2>'));
    assert.ok(html.includes('<table>') && html.includes('<td><code>2</code></td>'));
    assert.ok(html.includes('<pre><code class="language-sh">aws iam delete-user --user-name x\n</code></pre>'));
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.doesNotMatch(html, /<script/);
  });

  test('links: sibling runbooks to their hosted copy, the rest of the repository to plain text, the web as is', () => {
    const html = renderRunbook(
      'See [the DLQ runbook](ops-dlq.md#redrive), [close it](README.md#close-a-finding), [contracts](../docs/contracts.md), ' +
        '[gone](missing.md), [ATT&CK](https://attack.mitre.org/techniques/T1078/004/) and [below](#containment).\n',
      'x.md',
      hosted,
      known,
    );
    assert.ok(html.includes(`<a href="${inHref}ops-dlq.md">the DLQ runbook</a>`));
    assert.ok(html.includes(`<a href="${inHref}README.md">close it</a>`));
    assert.ok(html.includes(', contracts, gone, '), html);
    assert.ok(html.includes('<a href="https://attack.mitre.org/techniques/T1078/004/">ATT&amp;CK</a>'));
    assert.ok(html.includes('<a href="#containment">below</a>'));
  });

  test('renders a folder: one page per *.md, nothing else, in a folder named after the content', () => {
    const src = tmpDir('iamwatch-runbooks-src-');
    fs.writeFileSync(path.join(src, 'a.md'), '# a\n\nsee [b](b.md)\n');
    fs.writeFileSync(path.join(src, 'b.md'), '# b\n');
    fs.writeFileSync(path.join(src, 'check.sh'), 'exit 0\n');
    const out = tmpDir('iamwatch-runbooks-out-');
    const first = renderRunbooks(src, out, hosted);
    assert.deepEqual(first.files, ['a.md', 'b.md']);
    assert.deepEqual(fs.readdirSync(first.dir).sort(), ['a.md', 'b.md']);
    assert.ok(fs.readFileSync(path.join(first.dir, 'a.md'), 'utf8').includes(`href="${inHref}b.md"`));
    assert.equal(renderRunbooks(src, out, hosted).dir, first.dir, 'same content, same folder');
    fs.writeFileSync(path.join(src, 'b.md'), '# b, changed\n');
    assert.notEqual(renderRunbooks(src, out, hosted).dir, first.dir);
    assert.throws(() => renderRunbooks(tmpDir('iamwatch-runbooks-empty-'), out, hosted), /no runbooks/);
  });
});
