// `import 'larder-cache'` must not load OpenTelemetry: the root entry's module graph (every relative import,
// static or dynamic) reaches no file of src/otel and no @opentelemetry package; larder-cache/otel does.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g;

/** Source files (relative to src/) and packages reachable from `entry`. */
function reach(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = [resolve(SRC, entry)];
  while (pending.length > 0) {
    const file = pending.pop()!;
    const rel = file.slice(SRC.length + 1);
    if (files.has(rel)) continue;
    files.add(rel);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      if (spec!.startsWith('.')) pending.push(resolve(dirname(file), spec!.replace(/\.js$/, '.ts')));
      else packages.add(spec!);
    }
  }
  return { files, packages };
}

describe("the root entry doesn't load OpenTelemetry", () => {
  it('reaches no src/otel file and no @opentelemetry package', () => {
    const root = reach('index.ts');
    expect(root.files.size).toBeGreaterThan(20);
    expect(root.files.has('observability/tracing.ts')).toBe(true);
    expect([...root.files].filter((f) => f.startsWith('otel/') || f === 'entries/otel.ts')).toEqual([]);
    expect([...root.packages].filter((p) => p.startsWith('@opentelemetry/'))).toEqual([]);
  });

  it('while larder-cache/otel does (the walk sees it)', () => {
    const otel = reach('entries/otel.ts');
    expect(otel.files.has('otel/instrument.ts')).toBe(true);
    expect(otel.packages.has('@opentelemetry/api')).toBe(true);
  });
});
