import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Two entries: the page, and TF.js as its own ES module at a fixed name (vendor/tfjs.js) with its exports
// kept, so `ganforge export` can copy it next to a generator for any web page to import.
export default defineConfig({
  root: here('.'),
  base: '/',
  logLevel: 'warn',
  build: {
    outDir: here('../../../dist/studio-web'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 4000,
    rollupOptions: {
      input: { index: here('index.html'), tfjs: here('tfjs_vendor.ts') },
      preserveEntrySignatures: 'strict',
      output: { entryFileNames: (chunk) => (chunk.name === 'tfjs' ? 'vendor/tfjs.js' : 'assets/[name]-[hash].js') },
    },
  },
});
