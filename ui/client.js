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
      // A keyboard user who opened a card (Enter) lands on 返回问答, not at the top of the page.
      const back = target === "qz-viewer-top" && document.getElementById("qz-back");
      const lost = !document.activeElement || document.activeElement === document.body ||
        document.activeElement.closest("[data-open]");
      if (back && lost) back.focus({ preventScroll: true });
    }, 50);
  };
  // After an answer: the newest question at the top of the chat's scroll box (Gradio's own
  // autoscroll leaves the box where it was once it has a max height), so a long answer is
  // read from its start; and the chat itself on the page (a phone scrolls the page).
  window.qzShowLatest = () => {
    const chat = document.getElementById("qz-chat");
    const asked = chat && chat.querySelectorAll("[data-testid='user']");
    const last = asked && asked[asked.length - 1];
    if (!last) return;
    for (let box = last.parentElement; box && box !== chat.parentElement; box = box.parentElement) {
      if (/(auto|scroll)/.test(getComputedStyle(box).overflowY) && box.scrollHeight > box.clientHeight) {
        box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
        break;
      }
    }
    const top = chat.getBoundingClientRect().top;
    if (top < 0 || top > window.innerHeight * 0.6) chat.scrollIntoView({ block: "start" });
  };
  // The library: search by title, sort, and page through the rows, all in the page.
  const libState = (wrap) => ({
    q: (wrap.querySelector(".qz-libq") || {}).value || "",
    sort: (wrap.querySelector(".qz-libsort") || {}).value || "n",
    page: Number(wrap.dataset.page || 0),
    size: Number(wrap.dataset.size || 20),
  });
  const libKey = {
    n: (r) => Number(r.dataset.n),
    title: (r) => r.querySelector(".qz-lt b").textContent,
    date: (r) => r.dataset.date || "",
    size: (r) => Number(r.dataset.chars),
  };
  const libSort = (rows, sort) => rows.sort((a, b) => {
    const x = libKey[sort](a), y = libKey[sort](b);
    if (sort === "date") return (y > x) - (y < x) || libKey.n(a) - libKey.n(b);  // newest first, undated last
    if (sort === "size") return y - x || libKey.n(a) - libKey.n(b);
    if (sort === "title") return String(x).localeCompare(String(y), "zh-CN") || libKey.n(a) - libKey.n(b);
    return x - y;
  });
  const libApply = (wrap) => {
    const st = libState(wrap);
    const body = wrap.querySelector("tbody");
    if (!body) return;
    const words = st.q.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const rows = libSort(Array.from(body.rows), st.sort);
    rows.forEach((r) => body.appendChild(r));
    const found = rows.filter((r) => words.every((w) => r.dataset.find.includes(w)));
    const pages = Math.max(1, Math.ceil(found.length / st.size));
    const page = Math.min(Math.max(st.page, 0), pages - 1);
    wrap.dataset.page = String(page);
    const shown = new Set(found.slice(page * st.size, (page + 1) * st.size));
    rows.forEach((r) => { r.hidden = !shown.has(r); });
    wrap.querySelector(".qz-libcount").textContent =
      words.length ? `找到 ${found.length} 份(共 ${rows.length} 份)` : `共 ${rows.length} 份`;
    wrap.querySelector(".qz-pageinfo").textContent = `第 ${page + 1} / ${pages} 页`;
    const none = wrap.querySelector(".qz-libnone");
    if (none) {
      none.hidden = found.length > 0 || !rows.length;
      none.textContent = `没有标题、文件名或发布机关含“${st.q.trim()}”的文档。`;  // textContent: never markup
    }
    wrap.querySelectorAll("[data-page]").forEach((b) => {
      const to = page + Number(b.dataset.page);
      b.disabled = to < 0 || to >= pages;
    });
  };
  const libOf = (e) => e.target.closest && e.target.closest(".qz-libwrap");
  document.addEventListener("input", (e) => {
    const wrap = libOf(e);
    if (wrap && e.target.matches(".qz-libq")) { wrap.dataset.page = "0"; libApply(wrap); }
  });
  document.addEventListener("change", (e) => {
    const wrap = libOf(e);
    if (wrap && e.target.matches(".qz-libsort")) { wrap.dataset.page = "0"; libApply(wrap); }
  });
  document.addEventListener("click", (e) => {
    const btn = e.target.closest && e.target.closest(".qz-libwrap [data-page]");
    if (!btn) return;
    const wrap = libOf(e);
    wrap.dataset.page = String(Number(wrap.dataset.page || 0) + Number(btn.dataset.page));
    libApply(wrap);
  });
  const libInit = () => document.querySelectorAll(".qz-libwrap:not([data-ready])").forEach((wrap) => {
    wrap.dataset.ready = "1";
    libApply(wrap);
  });
  new MutationObserver(libInit).observe(document.documentElement, { childList: true, subtree: true });
  libInit();
})();
