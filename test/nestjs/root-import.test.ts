// `import 'larder-cache'` must not load Nest: the root entry's module graph (followed through every relative
// import, static or dynamic) reaches none of larder-cache/nestjs's files or its optional peers.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/** Every source file the entry reaches and every package it imports. */
function moduleGraph(entry: string): { files: string[]; packages: string[] } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(SPECIFIER)) {
      if (spec!.startsWith('.')) visit(resolve(dirname(file), spec!.replace(/\.js$/, '.ts')));
      else packages.add(spec!);
    }
  };
  visit(resolve(SRC, entry));
  return { files: [...files].map((f) => f.slice(SRC.length + 1)).sort(), packages: [...packages].sort() };
}

const NEST_PEERS = /^(@nestjs\/|rxjs|reflect-metadata|express$|keyv$|cache-manager$)/;

describe("the root entry doesn't load Nest", () => {
  it('reaches no larder-cache/nestjs file and none of its peers', () => {
    const root = moduleGraph('index.ts');
    expect(root.files.length).toBeGreaterThan(20);
    expect(root.files.filter((f) => f.startsWith('nestjs/') || f === 'entries/nestjs.ts')).toEqual([]);
    expect(root.packages.filter((p) => NEST_PEERS.test(p))).toEqual([]);
  });

  it('while larder-cache/nestjs does (the walk sees them)', () => {
    const nest = moduleGraph('entries/nestjs.ts');
    expect(nest.files).toContain('nestjs/module.ts');
    expect(nest.packages).toEqual(expect.arrayContaining(['@nestjs/common', '@nestjs/core', 'rxjs']));
  });
});
