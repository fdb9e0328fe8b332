// `npm run demo:load`: drives realistic traffic at a running demo (default 60 s).
// Flags: --duration=2m, --concurrency=8, --url=http://127.0.0.1:8000 (default from PORT).
// With LARDER_API_KEY set it also edits providers and simulates integration outages.
import { parseDuration } from '../../src/util/duration.js';
import { runLoad } from './traffic.js';

function flag(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}

async function main(): Promise<void> {
  const durationMs = parseDuration(flag('duration') ?? '60s', '--duration');
  const concurrency = Number(flag('concurrency') ?? 8);
  const baseUrl = (flag('url') ?? `http://127.0.0.1:${process.env.PORT ?? 8000}`).replace(/\/$/, '');
  const apiKey = process.env.LARDER_API_KEY;
  console.log(`Driving load at ${baseUrl} for ${durationMs / 1000} s with ${concurrency} clients`);
  if (!apiKey) console.log('(set LARDER_API_KEY to include provider edits and integration outages)');
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  const report = await runLoad({
    baseUrl,
    durationMs,
    concurrency,
    apiKey,
    signal: controller.signal,
    onProgress: (line) => console.log(line),
  });
  console.log(report.summary());
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  // fetch reports a refused connection as "fetch failed": say what to do about it.
  const hint = message === 'fetch failed' ? ' (is the demo running? start it with `npm start`)' : '';
  console.error(`demo:load failed: ${message}${hint}`);
  process.exit(1);
});
