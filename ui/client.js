// Clicks on [data-open] elements (citation cards, library buttons, repeat locations) are
// sent to the server through a hidden textbox: the value is "KIND:INT[:INT]#nonce", and
// the server checks every number against the index it has loaded.
(() => {
  const send = (payload) => {
    const box = document.querySelector("#qz-open textarea, #qz-open input");
    if (!box) return;
    box.value = payload + "#" + Date.now();
    box.dispatchEvent(new Event("input", { bubbles: true }));
  };
  document.addEventListener("click", (e) => {
    const el = e.target.closest && e.target.closest("[data-open]");
    if (!el) return;
    e.preventDefault();
    send(el.getAttribute("data-open"));
  });
  document.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" && e.key !== " ") return;
    const el = e.target.closest && e.target.closest("[data-open]");
    if (!el || el.tagName === "BUTTON") return;
    e.preventDefault();
    send(el.getAttribute("data-open"));
  });
  // After an open: bring the focused passage into view inside the document box and the
  // viewer onto the page; after a report: the report. Tabs render late, so retry briefly.
  const shown = (id) => {
    const el = document.getElementById(id);
    return el && el.offsetParent ? el : null;
  };
  window.qzScroll = (what = "", tries = 20) => {
    const target = String(what).startsWith("r:") ? "qz-report-top" : "qz-viewer-top";
    const top = shown(target);
    if (!top) {
      if (tries > 0) setTimeout(() => window.qzScroll(what, tries - 1), 100);
      return;
    }
    setTimeout(() => {
      const mark = target === "qz-viewer-top" && document.getElementById("qz-focus");
      const box = mark && mark.closest(".qz-doc");
      if (box) {
        const delta = mark.getBoundingClientRect().top - box.getBoundingClientRect().top;
        box.scrollTop += delta - box.clientHeight / 3;
      }
      top.scrollIntoView({ block: "start" });
    }, 50);
  };
})();
