// The dashboard: built into dist/web, which the daemon serves at its API address.
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: fileURLToPath(new URL('../dist/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev:web`: the page on Vite's dev server, API calls sent on to a local daemon.
    proxy: Object.fromEntries(
      ['/v1', '/health', '/dl'].map((p) => [p, process.env.LATERAL_API ?? 'http://127.0.0.1:5980']),
    ),
  },
})
