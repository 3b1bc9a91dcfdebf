import { defineConfig } from 'vitepress';

const guide = [
  { text: 'Getting started', link: '/guide/getting-started' },
  { text: 'Tensors and broadcasting', link: '/guide/tensors' },
  { text: 'Autograd', link: '/guide/autograd' },
  { text: 'Building a model', link: '/guide/models' },
  { text: 'Training and MNIST', link: '/guide/training' },
  { text: 'Losses', link: '/guide/losses' },
  { text: 'Optimizers and schedules', link: '/guide/optimizers' },
  { text: 'Validation and testing', link: '/guide/validation' },
  { text: 'Overfitting', link: '/guide/overfitting' },
  { text: 'Saving, loading, fine-tuning', link: '/guide/saving' },
  { text: 'Backends', link: '/guide/backends' },
  { text: 'Performance', link: '/guide/performance' },
];

const demos = [
  { text: 'Train MNIST in the page', link: '/demos/mnist' },
  { text: 'Draw a digit', link: '/demos/draw' },
  { text: 'Overfitting', link: '/demos/overfitting' },
  { text: 'Fine-tuning', link: '/demos/finetune' },
];

export default defineConfig({
  title: 'Tessera',
  description: 'Deep learning in TypeScript: Keras ergonomics, real autograd, every backend.',
  outDir: '../dist',
  cacheDir: '../.vitepress-cache',
  cleanUrls: false,
  head: [['link', { rel: 'icon', type: 'image/svg+xml', href: '/favicon.svg' }]],
  // Generated includes (coverage table, benchmark table) are not pages of their own.
  srcExclude: ['_gen/**', 'demos/lib/**', 'demos/components/**'],
  // The typedoc output lives in public/api: plain HTML the router must not handle.
  ignoreDeadLinks: [/^\/api\//],
  themeConfig: {
    nav: [
      { text: 'Guide', link: '/guide/getting-started' },
      { text: 'Demos', link: '/demos/mnist' },
      { text: 'API', link: '/api/index.html', target: '_self' },
    ],
    sidebar: [
      { text: 'Guide', items: guide },
      { text: 'Live demos', items: demos },
      { text: 'Reference', items: [{ text: 'API (typedoc)', link: '/api/index.html', target: '_self' }] },
    ],
    search: { provider: 'local' },
    outline: [2, 3],
  },
  vite: {
    build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
    // The packages' Node-only paths (reading files) are dynamic imports the browser never runs.
    optimizeDeps: { exclude: ['tessera', '@tessera/backend-wasm', '@tessera/backend-webgpu'] },
    // `vitepress dev` serves cross-origin isolated pages, like scripts/serve.mjs, so the wasm
    // backend's thread pool (SharedArrayBuffer) runs in development too.
    plugins: [{
      name: 'tessera-cross-origin-isolation',
      configureServer(server) {
        server.middlewares.use((_req, res, next) => {
          res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
          res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
          next();
        });
      },
    }],
  },
});
