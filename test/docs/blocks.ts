// Finds the code blocks of README.md and docs/**/*.md and says what each must be: a complete program
// (type-checked and run), an excerpt of a checked file (`file=examples/x.ts#region`: its text must be
// that region's), or type-checked only (`no-run`). test/docs/code-blocks.test.ts does the checking.
//
// Info-string words after the language (```ts no-run):
// - `no-run`                 type-check only: the program needs something the test cannot give it
//                            (a real upstream, a server that runs until stopped); say why beside it.
// - `redis`                  runs with REDIS_URL set to a redis-server the test starts.
// - `file=<path>#<region>`   the block is the text between `// #region <region>` and `// #endregion`
//                            in <path> (repository-relative); the file itself is type-checked and run.
// - `checked-by=<test>`      another test checks this block (it must name the page): the NestJS
//                            example needs legacy decorators and a Nest app, test/nestjs/readme.test.ts.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Languages whose blocks are checked. */
export const CHECKED_LANGUAGES = new Set(['ts', 'typescript', 'js', 'javascript']);

/** One fenced code block of a markdown file. */
export interface CodeBlock {
  /** Repository-relative path of the markdown file. */
  source: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  /** The words after the language in the info string. */
  meta: string[];
  code: string;
  /** `file=` target, when the block is an excerpt. */
  excerpt?: { file: string; region: string | undefined };
  /** `checked-by=` test file, when another test owns the block. */
  checkedBy?: string;
  noRun: boolean;
  redis: boolean;
}

/** README.md and every markdown page under docs/ (not the site's build output or config). */
export function markdownFiles(root: string): string[] {
  const found = [join(root, 'README.md')];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules' || entry.name === 'public') continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.md')) found.push(path);
    }
  };
  walk(join(root, 'docs'));
  return found;
}

/** The fenced blocks of one markdown text (``` fences at the start of a line, any indentation kept). */
export function parseBlocks(text: string, source: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)\s*(.*)$/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent = '', fence = '```', lang = '', info = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && !lines[j]!.trimStart().startsWith(fence)) {
      body.push(lines[j]!.startsWith(indent) ? lines[j]!.slice(indent.length) : lines[j]!);
      j++;
    }
    const meta = info.split(/\s+/).filter((word) => word !== '');
    const file = meta.find((word) => word.startsWith('file='))?.slice(5);
    const [path, region] = file === undefined ? [] : file.split('#');
    const checkedBy = meta.find((word) => word.startsWith('checked-by='))?.slice(11);
    blocks.push({
      source,
      line: i + 1,
      lang: lang.toLowerCase(),
      meta,
      code: body.join('\n') + '\n',
      ...(path === undefined ? {} : { excerpt: { file: path, region } }),
      ...(checkedBy === undefined ? {} : { checkedBy }),
      noRun: meta.includes('no-run'),
      redis: meta.includes('redis'),
    });
    i = j;
  }
  return blocks;
}

/** Every block of README.md and docs/, with repository-relative sources. */
export function allBlocks(root: string): CodeBlock[] {
  return markdownFiles(root).flatMap((path) => parseBlocks(readFileSync(path, 'utf8'), relative(root, path)));
}

/** The text of `// #region name` … `// #endregion` in a file (the whole file without a name). */
export function region(text: string, name: string | undefined): string | undefined {
  if (name === undefined) return text;
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.trim() === `// #region ${name}`);
  if (start < 0) return undefined;
  const end = lines.findIndex((line, i) => i > start && line.trim().startsWith('// #endregion'));
  if (end < 0) return undefined;
  return lines.slice(start + 1, end).join('\n') + '\n';
}

/** Module specifiers a program imports (static imports and re-exports). */
export function importsOf(code: string): string[] {
  return [
    ...code.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm),
  ].map((match) => match[1] ?? match[2] ?? '');
}
