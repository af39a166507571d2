import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The staff app: built into dist/web and served by Portico at /app (src/modules/web).
// `npm run dev:web` serves it with hot reload and sends /api to a Portico on PORTICO_URL.
export default defineConfig({
  root: decodeURIComponent(new URL('.', import.meta.url).pathname),
  base: '/app/',
  plugins: [react()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: { '/api': process.env.PORTICO_URL ?? 'http://127.0.0.1:3000' },
  },
});
