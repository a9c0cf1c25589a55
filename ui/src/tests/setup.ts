// jsdom lacks a few things the console uses; keep the tests honest about the rest.
if (!Element.prototype.scrollIntoView) {
  Element.prototype.scrollIntoView = function () {};
}
