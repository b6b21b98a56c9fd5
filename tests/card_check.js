// Loaded into the reviewer page by card_browser.py: shows cards one after another in the page's
// card element, typesets them with Anki's MathJax, and reports what a student would see wrong.
"use strict";
(() => {
  const TEX_AS_TEXT = /\\[()[\]]|\\[A-Za-z]+|\$\$/;
  const MIN_CONTRAST = 4.5;
  const SLACK = 1; // px: sub-pixel rounding is not an overflow

  function parseColor(text) {
    const match = text.match(/rgba?\(([^)]*)\)/);
    if (!match) throw new Error(`unexpected colour ${text}`);
    const parts = match[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  }

  function over(top, bottom) {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  }

  function canvas() {
    const scheme = getComputedStyle(document.documentElement).colorScheme;
    return scheme.includes("dark") ? [18, 18, 18, 1] : [255, 255, 255, 1];
  }

  // The colour behind an element: its own and its ancestors' backgrounds, composited.
  function backgroundOf(element) {
    const layers = [];
    for (let e = element; e; e = e.parentElement) {
      const colour = parseColor(getComputedStyle(e).backgroundColor);
      if (colour[3] > 0) layers.push(colour);
      if (colour[3] >= 1) break;
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), canvas());
  }

  function luminance(rgb) {
    const [r, g, b] = rgb.slice(0, 3).map((v) => {
      const c = v / 255;
      return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  }

  function contrast(element) {
    const background = backgroundOf(element);
    const foreground = over(parseColor(getComputedStyle(element).color), background);
    const [hi, lo] = [luminance(foreground), luminance(background)].sort((x, y) => y - x);
    const css = (c) => `rgb(${c.slice(0, 3).map(Math.round).join(",")})`;
    return { ratio: (hi + 0.05) / (lo + 0.05), colours: `${css(foreground)} on ${css(background)}` };
  }

  function describe(element, tex) {
    const classes = element.classList.length ? `.${[...element.classList].join(".")}` : "";
    const text = (tex || element.textContent || "").replace(/\s+/g, " ").trim().slice(0, 60);
    return `<${element.tagName.toLowerCase()}${classes}> "${text}"`;
  }

  function visible(element) {
    const box = element.getBoundingClientRect();
    return box.width > 0 || box.height > 0;
  }

  // Whether something between `element` and `root` clips or scrolls sideways on its own.
  function insideScrollBox(element, root) {
    for (let e = element.parentElement; e && e !== root; e = e.parentElement) {
      if (getComputedStyle(e).overflowX !== "visible") return true;
    }
    return false;
  }

  function texSources() {
    const sources = new Map();
    for (const item of MathJax.startup.document.math) sources.set(item.typesetRoot, item.math);
    return sources;
  }

  async function show(root, html) {
    MathJax.typesetClear([root]);
    root.innerHTML = html;
    window.scrollTo(0, 0);
    await MathJax.typesetPromise([root]);
    await document.fonts.ready;
  }

  function inspect(root) {
    const problems = [];
    const tex = texSources();
    const formulas = root.querySelectorAll("mjx-container");

    // With +noerrors a TeX error shows the source as an <merror>, and an unknown command shows
    // as red text (<mtext mathcolor="red">\name</mtext>, MathJax's noundefined package).
    for (const item of MathJax.startup.document.math) {
      if (!root.contains(item.typesetRoot)) continue;
      const mathml = MathJax.startup.toMML(item.root);
      const error = mathml.match(/data-mjx-error="([^"]*)"|<merror|<mtext mathcolor="red">(\\[^<]*)</);
      if (error) {
        const what = error[1] || (error[2] ? `unknown command ${error[2]}` : "error");
        problems.push(`MathJax error (${what}) in ${JSON.stringify(item.math)}`);
      }
    }
    const texts = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    const textElements = new Set();
    for (let node = texts.nextNode(); node; node = texts.nextNode()) {
      const element = node.parentElement;
      if (!node.data.trim() || element.closest("style, script, mjx-assistive-mml")) continue;
      if (element.closest("mjx-container")) continue; // measured as a whole below
      textElements.add(element);
      if (!element.closest("code, pre") && TEX_AS_TEXT.test(node.data)) {
        problems.push(`TeX left as text: ${describe(element)}`);
      }
    }

    const page = document.documentElement;
    if (page.scrollWidth > page.clientWidth + SLACK) {
      problems.push(`the page scrolls sideways: ${page.scrollWidth} px of content in a ${page.clientWidth} px window`);
    }
    const column = root.getBoundingClientRect();
    for (const element of root.querySelectorAll("*")) {
      if (element.parentElement.closest("mjx-container") || element.closest("style, script")) continue;
      const box = element.getBoundingClientRect();
      const past = Math.max(box.right - column.right, column.left - box.left);
      if (past > SLACK && visible(element) && !insideScrollBox(element, root)) {
        problems.push(`${describe(element, tex.get(element))} runs ${Math.round(past)} px past the card's ${Math.round(column.width)} px column`);
      }
    }
    const measured = [];
    for (const container of formulas) {
      const display = container.getAttribute("display") === "true";
      const math = container.querySelector("mjx-math") || container;
      const width = math.getBoundingClientRect().width;
      const room = display ? container.clientWidth : column.width;
      measured.push({ display, width, column: room, tex: tex.get(container) || "" });
      if (display && width > room + SLACK) {
        problems.push(`display formula ${Math.round(width)} px wide in a ${Math.round(room)} px column: ${JSON.stringify(tex.get(container) || "")}`);
      }
    }

    let lowest = { ratio: Infinity, colours: "", where: "" };
    const seen = new Set();
    for (const element of [...textElements, ...formulas]) {
      if (!visible(element)) continue;
      const { ratio, colours } = contrast(element);
      const where = describe(element, tex.get(element));
      if (ratio < lowest.ratio) lowest = { ratio, colours, where };
      const kind = `${element.tagName}.${element.className}`;
      if (ratio < MIN_CONTRAST && !seen.has(kind)) {
        seen.add(kind);
        problems.push(`contrast ${ratio.toFixed(2)}:1 (${colours}) under ${MIN_CONTRAST}:1: ${where}`);
      }
    }

    const top = (selector, edge) => {
      const element = root.querySelector(selector);
      return element ? element.getBoundingClientRect()[edge] + window.scrollY : null;
    };
    const divider = root.querySelector("hr#answer");
    return {
      problems,
      contentTop: top(":scope > :not(style, script)", "top"),
      dividerHeight: divider ? divider.getBoundingClientRect().height : null,
      lowestContrast: lowest,
      height: Math.round(root.getBoundingClientRect().bottom + window.scrollY),
      questionBottom: top(".question", "bottom"),
      gistBottom: top(".gist", "bottom"),
      formulas: measured,
    };
  }

  // Shows each card in turn and returns what inspect() found, in order.
  window.checkCards = async (cards) => {
    await MathJax.startup.promise;
    const root = document.getElementById("qa") || document.getElementById("content");
    const results = [];
    for (const card of cards) {
      await show(root, card.html);
      results.push({ id: card.id, ...inspect(root) });
    }
    return results;
  };

  // Shows one card and leaves it on the page (for a screenshot).
  window.showCard = async (html) => {
    await MathJax.startup.promise;
    await show(document.getElementById("qa") || document.getElementById("content"), html);
  };
})();
