// Crieur web chat: sends questions to /api/chat and renders answers without innerHTML.
"use strict";
(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("ask");
  const input = document.getElementById("question");
  const status = document.getElementById("status");
  const session = (function () {
    try {
      let id = sessionStorage.getItem("crieur-session");
      if (!id) { id = crypto.randomUUID(); sessionStorage.setItem("crieur-session", id); }
      return id;
    } catch (e) { return crypto.randomUUID(); }
  })();

  function inline(parent, text) {
    // **bold** and bare https:// links; everything else stays text.
    const pattern = /(\*\*[^*]+\*\*|https?:\/\/[^\s)]+)/g;
    let last = 0, m;
    while ((m = pattern.exec(text)) !== null) {
      parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      const token = m[0];
      if (token.startsWith("**")) {
        const b = document.createElement("strong");
        b.textContent = token.slice(2, -2);
        parent.appendChild(b);
      } else {
        const url = token.replace(/[.,;:]+$/, "");
        const a = document.createElement("a");
        a.href = url; a.textContent = url; a.rel = "noopener noreferrer"; a.target = "_blank";
        parent.appendChild(a);
        if (url.length < token.length) parent.appendChild(document.createTextNode(token.slice(url.length)));
      }
      last = m.index + token.length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderText(container, text) {
    let list = null;
    for (const line of text.split("\n")) {
      const item = line.match(/^\s*(?:[-*]|\d+[.)])\s+(.*)$/);
      if (item) {
        if (!list) { list = document.createElement("ul"); container.appendChild(list); }
        const li = document.createElement("li"); inline(li, item[1]); list.appendChild(li);
      } else if (line.trim()) {
        list = null;
        const p = document.createElement("p"); inline(p, line); container.appendChild(p);
      }
    }
  }

  function add(who, text, suggestions) {
    const box = document.createElement("div");
    box.className = "msg " + who;
    const label = document.createElement("span");
    label.className = "sr-only";
    label.textContent = who === "me" ? "Vous : " : "Mairie : ";
    box.appendChild(label);
    renderText(box, text);
    for (const s of suggestions || []) {
      const b = document.createElement("button");
      b.type = "button"; b.className = "choice"; b.textContent = s.label;
      b.addEventListener("click", function () { send(null, s.payload, s.label); });
      box.appendChild(b);
    }
    log.appendChild(box);
    log.scrollTop = log.scrollHeight;
  }

  async function send(text, choice, label) {
    add("me", label || text, []);
    status.textContent = "Réponse en cours…";
    try {
      const body = { session: session };
      if (text !== null) body.text = text;
      if (choice) body.choice = choice;
      const response = await fetch("/api/chat", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      const data = await response.json();
      add("bot", response.ok ? data.text : (data.error || "Une erreur est survenue."), data.suggestions);
      status.textContent = "";
    } catch (e) {
      status.textContent = "Le service ne répond pas. Réessayez dans un instant.";
    }
    input.focus();
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    send(text, null, null);
  });
})();
