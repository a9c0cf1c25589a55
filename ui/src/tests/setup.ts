import { act, cleanup, setup } from '@testing-library/svelte';
import { beforeEach } from 'vitest';

// Unmount what each test rendered, once Svelte has settled. Done here rather than by the
// testing library's plugin, which adds its own setup file by its real path: a worktree whose
// node_modules links to another checkout cannot load that.
beforeEach(async () => {
  await setup();
  return async () => {
    await act();
    cleanup();
  };
});
// jsdom lacks a few things the console uses; keep the tests honest about the rest.
if (!Element.prototype.scrollIntoView) {
  Element.prototype.scrollIntoView = function () {};
}
// jsdom's frame clock starts on whichever timers exist when it is first used, so a test that
// fakes timers can stop it for every later test: draw frames on the timers of the moment.
window.requestAnimationFrame = (draw) => window.setTimeout(() => draw(performance.now()), 16);
window.cancelAnimationFrame = (id) => window.clearTimeout(id);
// jsdom lays nothing out, so there are no sizes to observe.
if (typeof globalThis.ResizeObserver === 'undefined') {
  globalThis.ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  } as unknown as typeof ResizeObserver;
}
