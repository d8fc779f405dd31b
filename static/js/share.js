/* The thank-you page's "Share the pledge" button: the device's own share sheet (Web Share API).
   Browsers without one never see the button; the links beside it work everywhere. */
(function () {
  "use strict";
  if (typeof navigator.share !== "function") return;
  document.querySelectorAll("[data-share]").forEach(function (holder) {
    var data = {
      title: holder.getAttribute("data-share-title"),
      text: holder.getAttribute("data-share-text"),
      url: holder.getAttribute("data-share-url"),
    };
    if (typeof navigator.canShare === "function" && !navigator.canShare(data)) return;
    holder.querySelector("button").addEventListener("click", function () {
      // Closing the share sheet without sharing rejects the promise: nothing to do, the links are still there.
      navigator.share(data).catch(function () {});
    });
    holder.hidden = false;
  });
})();
