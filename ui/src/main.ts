// Starts the console. Inside Tauri it talks to src-tauri. During development, in a plain
// browser (`npm run dev`) or with `?mock` in the URL, it runs on the in-memory mock with a
// sample clinic; neither the mock nor the sample is in a production build (`import.meta.env.DEV`
// is false there, so the dynamic import below is dropped with its branch).
import { mount } from 'svelte';
import App from './App.svelte';
import { inTauri, tauriBackend, type Backend } from './lib/backend';
import { mark } from './lib/startup';
import './styles.css';

async function pickBackend(): Promise<{ backend: Backend; select?: string }> {
  const params = new URLSearchParams(window.location.search);
  if (import.meta.env.DEV && (!inTauri() || params.has('mock'))) {
    const [{ createMockBackend }, { sampleClinic }] = await Promise.all([
      import('./lib/mock'),
      import('./lib/sample'),
    ]);
    const { state, options } = sampleClinic(params.get('mock') ?? '');
    return { backend: createMockBackend(state, options), select: params.get('select') ?? undefined };
  }
  return { backend: tauriBackend };
}

/** Browser dev only: `?click=action-transfer,transfer-kind-provider` clicks those test ids in turn
 * after start-up, so a headless screenshot can show a dialog. */
async function clickThrough(ids: string[]) {
  for (const id of ids) {
    await new Promise((r) => setTimeout(r, 300));
    document.querySelector<HTMLElement>(`[data-testid="${id}"]`)?.click();
  }
}

mark('ran its script');
// Linux desktops name their fonts through fontconfig's sans-serif and monospace: ask for those
// first (see --font-ui in styles/base.css for what naming others costs).
if (/Linux/.test(navigator.userAgent) && !/Android/.test(navigator.userAgent)) {
  document.documentElement.dataset.fonts = 'fontconfig';
}
const target = document.getElementById('app')!;
void pickBackend().then(({ backend, select }) => {
  mount(App, { target, props: { backend, select } });
  mark('mounted the app');
  const clicks = new URLSearchParams(window.location.search).get('click');
  if (backend !== tauriBackend && clicks) void clickThrough(clicks.split(','));
});
