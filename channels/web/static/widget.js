/*! Crieur — the mairie's assistant, embeddable on any web page. AGPL-3.0-or-later.
 *
 * One line on the commune's website (the CMS page needs nothing else):
 *   <script src="https://bot.example/widget.js" data-commune="Morvelay" defer></script>
 *
 * data-commune   the commune's name, shown in the panel's heading ("Assistant de la mairie de …")
 * data-position  "right" (default) or "left": the corner where the launcher sits
 * data-mode      "launcher" (default): a button opening the panel; "inline": the panel shown
 *                open where the script tag is, without launcher (Crieur's /abonnement page)
 * data-alerts    "off" hides the "Recevoir les alertes sur cet appareil" control
 *
 * The API is the script's own origin (and folder), so the tag works from any site listed in
 * Crieur's [web] allowed_origins. Everything lives in an open shadow root: the host page's
 * CSS cannot reach it and its CSS cannot leak out. No framework, no cookie, no third-party
 * request; server text only ever reaches the page through textContent.
 * sessionStorage keeps the chat session id; localStorage keeps the Web Push id, only once the
 * resident has asked for alerts on this device.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector('script[src$="widget.js"]');
  if (!script || window.__crieurWidget) return;
  window.__crieurWidget = true;

  var base = new URL(".", script.src);
  var sameOrigin = base.origin === location.origin;
  var opts = script.dataset;
  var inline = opts.mode === "inline";
  var commune = (opts.commune || "").trim().slice(0, 80);
  var SESSION_KEY = "crieur-session";
  var PUSH_KEY = "crieur-push";
  var ID = /^[A-Za-z0-9_-]{1,64}$/;
  var T = {
    open: "Ouvrir l’assistant de la mairie",
    launcher: "Assistant de la mairie",
    close: "Fermer l’assistant",
    title: commune ? "Assistant de la mairie de " + commune : "Assistant de la mairie",
    intro: "Posez votre question en quelques mots : horaires, démarches, cantine, déchets… " +
      "Les réponses viennent des informations publiées par la mairie.",
    log: "Conversation avec l’assistant",
    label: "Votre question",
    send: "Envoyer",
    me: "Vous : ",
    bot: "Mairie : ",
    wait: "Réponse en cours…",
    more: "Pour en savoir plus :",
    suggestions: "Suggestions",
    error: "Une erreur est survenue. Réessayez dans un instant.",
    offline: "Le service ne répond pas. Vérifiez votre connexion et réessayez dans un instant.",
    alerts: "Recevoir les alertes sur cet appareil",
    manage: "Gérer mes alertes sur cet appareil",
    newWindow: "(nouvelle fenêtre)",
    choose: "Choisir mes alertes",
    mine: "Mes alertes",
    enabling: "Activation des alertes…",
    enabled: "Les alertes sont activées sur cet appareil. Choisissez maintenant les sujets qui vous intéressent.",
    unsupported: "Ce navigateur ne permet pas de recevoir les alertes de la mairie. Vous pouvez toujours poser vos questions ici.",
    unavailable: "Les alertes sur cet appareil ne sont pas encore proposées par la mairie. Vous pouvez toujours poser vos questions ici.",
    denied: "Les notifications sont bloquées pour ce site. Autorisez-les dans les réglages du navigateur, puis réessayez.",
    failed: "L’activation des alertes n’a pas abouti : le service de notifications du navigateur ne répond pas. Réessayez plus tard.",
  };

  var CSS = [
    ":host{all:initial;font:medium/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Ubuntu,'Helvetica Neue',Arial,sans-serif;color:#1b1b1b}",
    ":host(.inline){display:block;max-width:42em}",
    ".frame{all:initial;display:block;font:medium/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Ubuntu,'Helvetica Neue',Arial,sans-serif;color:#1b1b1b;text-align:left}",
    "*{box-sizing:border-box}",
    ".sr-only{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}",
    "button,input,a{font:inherit}",
    "button{cursor:pointer}",
    ":focus-visible{outline:3px solid #0a76f6;outline-offset:2px}",
    ".launcher{position:fixed;z-index:2147483000;right:1em;bottom:1em;display:inline-flex;align-items:center;gap:.5em;min-height:3em;max-width:calc(100vw - 2em);padding:.5em 1.1em;border:2px solid #fff;border-radius:1.5em;background:#000091;color:#fff;font-weight:700;box-shadow:0 .25em 1em rgba(0,0,0,.3)}",
    ".launcher:hover{background:#1212ff}",
    ".launcher svg{flex:none;width:1.4em;height:1.4em;fill:currentColor}",
    ":host(.left) .launcher,:host(.left) .panel{right:auto;left:1em}",
    ".panel{position:fixed;z-index:2147483001;right:1em;bottom:5em;width:24em;max-width:calc(100vw - 2em);max-height:calc(100vh - 7em);display:flex;flex-direction:column;background:#fff;border:1px solid #666;border-radius:.5em;box-shadow:0 .5em 2em rgba(0,0,0,.3);overflow:hidden}",
    ":host(.inline) .panel{position:static;width:auto;max-width:none;max-height:none;box-shadow:none}",
    ".panel[hidden]{display:none}",
    ".head{position:sticky;top:0;z-index:1;display:flex;align-items:center;gap:.5em;padding:.5em .5em .5em 1em;background:#000091;color:#fff}",
    "h2{flex:1;margin:0;font-size:1.1em;line-height:1.3}",
    ".close{flex:none;min-width:2.75em;min-height:2.75em;padding:.25em .6em;border:2px solid #fff;border-radius:.25em;background:transparent;color:#fff;font-size:.9em;font-weight:700}",
    ".head :focus-visible{outline-color:#fff}",
    ".intro{margin:0;padding:.5em 1em;font-size:.9em;color:#3a3a3a;border-bottom:1px solid #ddd}",
    ".log{position:relative;flex:1 1 auto;min-height:8em;overflow-y:auto;padding:.25em 1em;overscroll-behavior:contain}",
    ":host(.inline) .log{min-height:12em;max-height:60vh}",
    ".msg{margin:.5em 0;padding:.5em .75em;border-radius:.5em;max-width:92%;overflow-wrap:anywhere}",
    ".msg p{margin:.25em 0}",
    ".msg ul,.msg ol{margin:.25em 0;padding-left:1.25em}",
    ".me{background:#e3e3fd;margin-left:auto}",
    ".bot{background:#f3f3f3}",
    ".note{background:#fff4e5;border-left:4px solid #b34000}",
    "a{color:#000091;text-decoration:underline}",
    ".bot a:hover{text-decoration-thickness:2px}",
    ".choice{display:block;width:100%;margin:.35em 0 0;padding:.45em .7em;min-height:2.75em;border:1px solid #000091;border-radius:.25em;background:#fff;color:#000091;text-align:left}",
    ".choice:hover{background:#e3e3fd}",
    "form{padding:.5em 1em 0;border-top:1px solid #ddd}",
    "label{display:block;font-weight:700}",
    ".row{display:flex;flex-wrap:wrap;gap:.5em;margin-top:.25em}",
    "input{flex:1 1 10em;min-width:0;min-height:2.75em;padding:.5em;border:1px solid #666;border-radius:.25em;color:#1b1b1b;background:#fff}",
    ".send{flex:0 0 auto;min-height:2.75em;padding:.5em 1em;border:0;border-radius:.25em;background:#000091;color:#fff;font-weight:700}",
    ".send:hover{background:#1212ff}",
    ".status{min-height:1.5em;margin:.25em 0 0;font-size:.9em;color:#3a3a3a}",
    ".foot{padding:0 1em .75em}",
    ".alerts{display:inline-block;margin-top:.25em;padding:.4em 0;color:#000091;text-align:left}",
    "button.alerts{min-height:2.75em;padding:.45em .9em;border:1px solid #000091;border-radius:.25em;background:#fff;font-weight:700}",
    "button.alerts:hover{background:#e3e3fd}",
    ".alerts small{font-size:.85em}",
    "@media (max-width:30em),(max-height:32em){.panel{inset:0;width:auto;max-width:none;max-height:none;border-radius:0;overflow-y:auto}.log,:host(.inline) .log{flex:none;min-height:6em;max-height:none;overflow:visible}:host(.inline) .panel{overflow:visible}}",
    "@media (prefers-reduced-motion:no-preference){.panel:not(.static){animation:crieur-in .18s ease-out}@keyframes crieur-in{from{opacity:0;transform:translateY(.75em)}to{opacity:1;transform:none}}}",
    "@media (forced-colors:active){.launcher,.send,.close,.choice{border:2px solid ButtonText}.msg{border:1px solid CanvasText}}",
    "@media print{:host{display:none}}",
  ].join("\n");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    var name;
    for (name in attrs || {}) node.setAttribute(name, attrs[name]);
    (children || []).forEach(function (child) {
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function randomId() {
    if (crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  function sessionId() {
    try {
      var id = sessionStorage.getItem(SESSION_KEY);
      if (!id || !/^[A-Za-z0-9_-]{1,128}$/.test(id)) {
        id = randomId();
        sessionStorage.setItem(SESSION_KEY, id);
      }
      return id;
    } catch (e) {
      return randomId();
    }
  }

  function pushId() {
    if (!sameOrigin) return null;
    try {
      var id = localStorage.getItem(PUSH_KEY);
      return id && ID.test(id) ? id : null;
    } catch (e) {
      return null;
    }
  }

  function setPushId(id) {
    try {
      if (id) localStorage.setItem(PUSH_KEY, id);
      else localStorage.removeItem(PUSH_KEY);
    } catch (e) { /* storage refused: the id lives as long as the page */ }
    currentPush = id;
  }

  function api(path) {
    return new URL(path, base).href;
  }

  // --- answers: the light Markdown the pack uses, built as DOM nodes ---------------------
  var URL_OR_BOLD = /(\*\*[^*\n]+\*\*|https?:\/\/[^\s<>"]+)/g;

  function safeUrl(text) {
    try {
      var url = new URL(text);
      return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
    } catch (e) {
      return null;
    }
  }

  function link(href, text) {
    return el("a", { href: href, rel: "noopener noreferrer", target: "_blank" }, [text]);
  }

  function inlineText(parent, text, bold) {
    var last = 0;
    var match;
    URL_OR_BOLD.lastIndex = 0;
    var found = [];
    while ((match = URL_OR_BOLD.exec(text)) !== null) found.push([match.index, match[0]]);
    found.forEach(function (item) {
      var index = item[0];
      var token = item[1];
      parent.appendChild(document.createTextNode(text.slice(last, index)));
      last = index + token.length;
      if (token.slice(0, 2) === "**") {
        if (!bold) return parent.appendChild(document.createTextNode(token));
        var strong = el("strong");
        inlineText(strong, token.slice(2, -2), false);
        return parent.appendChild(strong);
      }
      var trimmed = token.replace(/[.,;:!?»]+$/, "");
      if (trimmed.slice(-1) === ")" && trimmed.indexOf("(") < 0) trimmed = trimmed.slice(0, -1);
      var href = safeUrl(trimmed);
      parent.appendChild(href ? link(href, trimmed) : document.createTextNode(trimmed));
      parent.appendChild(document.createTextNode(token.slice(trimmed.length)));
    });
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderText(container, text) {
    var list = null;
    text.split("\n").forEach(function (line) {
      var bullet = /^\s*[-•]\s+(.*)$/.exec(line);
      var number = /^\s*\d+\.\s+(.*)$/.exec(line);
      var item = bullet || number;
      if (item) {
        var tag = bullet ? "UL" : "OL";
        if (!list || list.tagName !== tag) list = container.appendChild(el(tag.toLowerCase()));
        var li = el("li");
        inlineText(li, item[1], true);
        list.appendChild(li);
      } else if (line.trim()) {
        list = null;
        var p = el("p");
        inlineText(p, line, true);
        container.appendChild(p);
      }
    });
  }

  // --- the widget's DOM, inside an open shadow root ---------------------------------------
  var host = document.createElement("crieur-assistant");
  if (opts.position === "left") host.classList.add("left");
  if (inline) host.classList.add("inline");
  var root = host.attachShadow({ mode: "open" });
  if (root.adoptedStyleSheets !== undefined && typeof CSSStyleSheet === "function") {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(el("style", {}, [CSS]));
  }

  var titleId = "crieur-title";
  var introId = "crieur-intro";
  var icon = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  icon.setAttribute("viewBox", "0 0 24 24");
  icon.setAttribute("aria-hidden", "true");
  icon.setAttribute("focusable", "false");
  var iconPath = document.createElementNS("http://www.w3.org/2000/svg", "path");
  iconPath.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2zm3 6v2h2V9H7zm4 0v2h2V9h-2zm4 0v2h2V9h-2z");
  icon.appendChild(iconPath);

  var launcher = el("button", {
    type: "button", class: "launcher", "aria-label": T.open,
    "aria-expanded": "false", "aria-controls": "crieur-panel",
  }, [icon, T.launcher]);
  var closeButton = el("button", { type: "button", class: "close", "aria-label": T.close }, ["Fermer"]);
  var log = el("div", {
    class: "log", role: "log", "aria-live": "polite", "aria-label": T.log, tabindex: "0",
  });
  var input = el("input", {
    id: "crieur-question", type: "text", maxlength: "1000", autocomplete: "off",
    enterkeyhint: "send", "aria-describedby": introId,
  });
  var status = el("p", { class: "status", role: "status" });
  var form = el("form", { novalidate: "" }, [
    el("label", { for: "crieur-question" }, [T.label]),
    el("div", { class: "row" }, [input, el("button", { type: "submit", class: "send" }, [T.send])]),
    status,
  ]);
  var alerts = null;
  if (opts.alerts !== "off") {
    alerts = sameOrigin
      ? el("button", { type: "button", class: "alerts" }, [])
      : el("a", { class: "alerts", href: api("abonnement"), target: "_blank", rel: "noopener" },
        [T.alerts + " ", el("small", {}, [T.newWindow])]);
  }
  var head = el("div", { class: "head" }, [el("h2", { id: titleId }, [T.title])]);
  if (!inline) head.appendChild(closeButton);
  var panel = el("section", {
    id: "crieur-panel", class: "panel" + (inline ? " static" : ""), role: inline ? "region" : "dialog",
    "aria-labelledby": titleId,
  }, [head, el("p", { class: "intro", id: introId }, [T.intro]), log, form]);
  if (alerts) panel.appendChild(el("div", { class: "foot" }, [alerts]));
  // a complementary landmark when floating; inline, the panel is a region of the page itself
  var frame = inline
    ? el("div", { class: "frame" }, [panel])
    : el("aside", { class: "frame", "aria-label": T.launcher }, [launcher, panel]);
  root.appendChild(frame);
  if (!inline) panel.hidden = true;

  var session = sessionId();
  var currentPush = pushId();

  function showAlertsLabel() {
    if (alerts && sameOrigin) alerts.textContent = currentPush ? T.manage : T.alerts;
  }
  showAlertsLabel();

  function add(who, text, suggestions, links) {
    var box = el("div", { class: "msg " + who }, [el("span", { class: "sr-only" }, [who === "me" ? T.me : T.bot])]);
    if (who === "me") box.appendChild(el("p", {}, [text]));
    else renderText(box, text);
    var extra = (links || []).map(String).map(safeUrl).filter(function (href) {
      return href && text.indexOf(href) < 0;
    });
    if (extra.length) {
      box.appendChild(el("p", {}, [T.more]));
      box.appendChild(el("ul", {}, extra.map(function (href) { return el("li", {}, [link(href, href)]); })));
    }
    var choices = (suggestions || []).filter(function (s) {
      return s && typeof s.label === "string" && typeof s.payload === "string";
    });
    if (choices.length) {
      var group = el("div", { role: "group", "aria-label": T.suggestions });
      choices.forEach(function (s) {
        var button = el("button", { type: "button", class: "choice" }, [s.label]);
        button.addEventListener("click", function () { send(null, s.payload, s.label); });
        group.appendChild(button);
      });
      box.appendChild(group);
    }
    log.appendChild(box);
    reveal(box);
    return box;
  }

  function reveal(box) {
    // the new message's first line in view, in the log or (small screens) the whole panel
    [log, panel].forEach(function (container) {
      if (container.scrollHeight <= container.clientHeight) return;
      var top = container.getBoundingClientRect().top + (container === panel ? head.offsetHeight : 0);
      container.scrollTop += box.getBoundingClientRect().top - top - 8;
    });
  }

  function note(text) {
    add("bot note", text, [], []);
  }

  async function send(text, choice, label) {
    add("me", label || text, [], []);
    status.textContent = T.wait;
    var body = { session: session };
    if (choice) body.choice = choice;
    else body.text = text;
    if (currentPush) body.push = currentPush;
    try {
      var response = await fetch(api("api/chat"), {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
        credentials: "omit", referrerPolicy: "no-referrer",
      });
      var data = {};
      try { data = await response.json(); } catch (e) { /* not JSON: said below */ }
      if (response.ok && typeof data.text === "string") {
        add("bot", data.text, data.suggestions, data.links);
        if (currentPush && (data.push === null || (text && /^\/stop\b/i.test(text.trim())))) {
          setPushId(null);
          showAlertsLabel();
        }
      } else {
        add("bot", typeof data.error === "string" ? data.error : T.error, [], []);
      }
    } catch (e) {
      add("bot", T.offline, [], []);
    }
    status.textContent = "";
    if (choice) input.focus();
  }

  // --- opening, closing, keyboard --------------------------------------------------------
  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () {
    if (panel.hidden) open();
    else close();
  });
  closeButton.addEventListener("click", close);
  frame.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !inline && !panel.hidden) {
      event.stopPropagation();
      close();
    }
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, null, null);
  });

  // --- alerts on this device (Web Push), only after the resident asks --------------------
  function keyBytes(key) {
    var padded = (key + "===".slice((key.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(padded), function (c) { return c.charCodeAt(0); });
  }

  function activated(registration) {
    if (registration.active) return Promise.resolve(registration);
    var worker = registration.installing || registration.waiting;
    return new Promise(function (resolve, reject) {
      if (!worker) return reject(new Error("no service worker"));
      worker.addEventListener("statechange", function () {
        if (worker.state === "activated") resolve(registration);
        if (worker.state === "redundant") reject(new Error("service worker redundant"));
      });
    });
  }

  async function enableAlerts() {
    if (currentPush) return send("/abonnements", null, T.mine);
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
      return note(T.unsupported);
    }
    status.textContent = T.enabling;
    try {
      var keyResponse = await fetch(api("api/push/key"), { credentials: "omit" });
      if (keyResponse.status === 404) return note(T.unavailable);
      var keyData = {};
      try { keyData = await keyResponse.json(); } catch (e) { /* said below */ }
      var key = keyResponse.ok ? keyData.publicKey : null;
      if (typeof key !== "string") return note(typeof keyData.error === "string" ? keyData.error : T.failed);
      if ((await Notification.requestPermission()) !== "granted") return note(T.denied);
      var registration = await activated(await navigator.serviceWorker.register(api("push-sw.js")));
      var subscription = await registration.pushManager.getSubscription() ||
        await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) });
      var response = await fetch(api("api/push/subscribe"), {
        method: "POST", headers: { "Content-Type": "application/json" }, credentials: "omit",
        body: JSON.stringify({ session: session, subscription: subscription.toJSON() }),
      });
      if (response.status === 404) return note(T.unavailable);
      var data = {};
      try { data = await response.json(); } catch (e) { /* said below */ }
      if (!response.ok || typeof data.push !== "string" || !ID.test(data.push)) {
        return note(typeof data.error === "string" ? data.error : T.failed);
      }
      setPushId(data.push);
      showAlertsLabel();
      note(T.enabled);
      status.textContent = "";
      return send("/abonner", null, T.choose);
    } catch (e) {
      return note(e && e.name === "NotAllowedError" ? T.denied : T.failed);
    } finally {
      if (status.textContent === T.enabling) status.textContent = "";
    }
  }

  if (alerts && sameOrigin) alerts.addEventListener("click", enableAlerts);

  function mount() {
    if (inline) script.parentNode.insertBefore(host, script.nextSibling);
    else document.body.appendChild(host);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
