import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import MarkdownIt from 'markdown-it';
import { CDK_ROOT } from './config';

/** The repository's runbooks, one Markdown file per rule id and per operations task. */
export const RUNBOOKS_DIR = path.resolve(CDK_ROOT, '..', 'runbooks');

/** Small inline stylesheet: the pages load nothing from anywhere. */
const STYLE = [
  'body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#16191f;max-width:56rem;margin:2rem auto;padding:0 1rem}',
  'h1,h2,h3{line-height:1.25}h1{border-bottom:1px solid #d5dbdb;padding-bottom:.3rem}',
  'code,pre{font:14px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f2f3f3;border-radius:4px}',
  'code{padding:.1rem .3rem}pre{padding:.75rem;overflow-x:auto}pre code{padding:0;background:none}',
  'table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #d5dbdb;padding:.3rem .6rem;text-align:left;vertical-align:top}',
  'th{background:#f2f3f3}a{color:#0972d3}blockquote{margin:0;padding-left:1rem;border-left:4px solid #d5dbdb;color:#414d5c}',
].join('');

/** The `*.md` files of a runbooks folder, sorted. */
export function runbookFiles(dir: string = RUNBOOKS_DIR): string[] {
  if (!fs.existsSync(dir)) throw new Error(`runbooks folder ${dir} not found (iamwatch:runbookHosting renders it)`);
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.md'))
    .map((e) => e.name)
    .sort();
}

/** GitHub-style heading anchor, so that the runbooks' `#containment` links work. */
function slug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The Markdown renderer: CommonMark plus tables, raw HTML in the Markdown escaped (not passed
 * through), headings with anchors, links to sibling runbooks (`ops-dlq.md#section`) pointing at
 * their hosted copy (`hostedUrl(name)`), and links into the rest of the repository
 * (`../docs/...`) reduced to their text, since only runbooks/ is hosted.
 */
function renderer(hostedUrl: (file: string) => string, known: ReadonlySet<string>): MarkdownIt {
  const md = new MarkdownIt({ html: false, linkify: false, typographer: false });
  md.renderer.rules.heading_open = (tokens, idx, options, _env, self) => {
    const inline = tokens[idx + 1];
    if (inline?.type === 'inline') tokens[idx].attrSet('id', slug(inline.content.replace(/`/g, '')));
    return self.renderToken(tokens, idx, options);
  };
  // A link_open whose href goes nowhere hosted renders as its text: the close tag must follow suit.
  const dropped = new Set<number>();
  md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
    const href = tokens[idx].attrGet('href') ?? '';
    if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith('#')) return self.renderToken(tokens, idx, options);
    const sibling = href.match(/^(?:\.\/)?([A-Za-z0-9_.-]+\.md)(#.*)?$/);
    if (sibling !== null && known.has(sibling[1])) {
      tokens[idx].attrSet('href', hostedUrl(sibling[1]));
      return self.renderToken(tokens, idx, options);
    }
    dropped.add(idx);
    return '';
  };
  md.renderer.rules.link_close = (tokens, idx, options, _env, self) => {
    // The matching link_open is the nearest unmatched one before it.
    let depth = 0;
    for (let i = idx - 1; i >= 0; i--) {
      if (tokens[i].type === 'link_close') depth++;
      else if (tokens[i].type === 'link_open') {
        if (depth === 0) return dropped.has(i) ? '' : self.renderToken(tokens, idx, options);
        depth--;
      }
    }
    return self.renderToken(tokens, idx, options);
  };
  return md;
}

/** One runbook as a standalone HTML page (title from its first heading, inline style, no external assets). */
export function renderRunbook(markdown: string, file: string, hostedUrl: (file: string) => string, known: ReadonlySet<string>): string {
  const title = markdown.match(/^#\s+(.+)$/m)?.[1].replace(/`/g, '') ?? file;
  const body = renderer(hostedUrl, known).render(markdown);
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    body.trimEnd(),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/**
 * Renders every runbook of `srcDir` into a staging folder under `stagingRoot` (the cloud assembly's
 * folder) named after the hash of the sources and the base URL, so the asset changes exactly when
 * a runbook does. Each page keeps its file name (`<rule-id>.md`, the name the finding links) and
 * holds HTML. Returns the folder and the files rendered.
 */
export function renderRunbooks(srcDir: string, stagingRoot: string, hostedUrl: (file: string) => string): { dir: string; files: string[] } {
  const files = runbookFiles(srcDir);
  if (files.length === 0) throw new Error(`no runbooks (*.md) in ${srcDir}`);
  const known = new Set(files);
  const pages = files.map((f) => [f, renderRunbook(fs.readFileSync(path.join(srcDir, f), 'utf8'), f, hostedUrl, known)] as const);
  const hash = crypto.createHash('sha256');
  for (const [f, html] of pages) hash.update(f).update('\0').update(html).update('\0');
  const dir = path.join(stagingRoot, `.staging-runbooks-${hash.digest('hex').slice(0, 16)}`);
  if (!fs.existsSync(dir)) {
    const partial = `${dir}.${process.pid}.tmp`;
    fs.rmSync(partial, { recursive: true, force: true });
    fs.mkdirSync(partial, { recursive: true });
    for (const [f, html] of pages) fs.writeFileSync(path.join(partial, f), html, { mode: 0o644 });
    fs.renameSync(partial, dir);
  }
  return { dir, files };
}
