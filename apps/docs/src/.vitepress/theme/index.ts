import DefaultTheme from 'vitepress/theme';
import type { Theme } from 'vitepress';
import { defineAsyncComponent } from 'vue';
import './custom.css';

// The demos load Tessera only in the browser (client-only, async chunks), so the static
// pages render without it and the guides stay light.
export default {
  extends: DefaultTheme,
  enhanceApp({ app }) {
    app.component('MnistDemo', defineAsyncComponent(() => import('../../demos/components/MnistDemo.vue')));
    app.component('DrawDemo', defineAsyncComponent(() => import('../../demos/components/DrawDemo.vue')));
    app.component('OverfitDemo', defineAsyncComponent(() => import('../../demos/components/OverfitDemo.vue')));
    app.component('FinetuneDemo', defineAsyncComponent(() => import('../../demos/components/FinetuneDemo.vue')));
  },
} satisfies Theme;
