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
