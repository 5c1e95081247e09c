import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** A file the console serves, read once from the package (no CDN: the console works offline). */
interface Asset {
  body: Buffer;
  contentType: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

function typeOf(path: string): string {
  return TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream';
}

/**
 * Loads the console's page, script and styles from the package's `assets/` folder and uPlot (the
 * chart library) from its installed package, keyed by the URL path they are served at. Only
 * these fixed files are served, so no request path ever reaches the file system.
 */
export async function loadAssets(): Promise<Map<string, Asset>> {
  // src/ and dist/ both sit one level below the package root.
  const assetsDir = fileURLToPath(new URL('../assets/', import.meta.url));
  const require = createRequire(import.meta.url);
  const files: [string, string][] = [
    ['/', `${assetsDir}index.html`],
    ['/assets/console.js', `${assetsDir}console.js`],
    ['/assets/console.css', `${assetsDir}console.css`],
    ['/assets/uplot.js', require.resolve('uplot/dist/uPlot.iife.min.js')],
    ['/assets/uplot.css', require.resolve('uplot/dist/uPlot.min.css')],
  ];
  const assets = new Map<string, Asset>();
  for (const [path, file] of files) {
    assets.set(path, { body: await readFile(file), contentType: typeOf(file) });
  }
  return assets;
}
