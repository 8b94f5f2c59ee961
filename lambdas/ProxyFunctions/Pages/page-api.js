// The pages' one way to call the API, the same on every page so one key serves every page of a tab. It sends the API key
// as x-api-key when this tab has one and tells a missing or refused key apart from every other answer. The key lives in
// sessionStorage only (this tab, until it closes): never in storage that outlives the tab, a cookie or the URL. Without a
// key (locally, where none is needed) requests go out exactly as before. It touches no browser global: a page hands it
// what it uses, so it can be exercised on its own.
var PageApi = (function () {
  "use strict";
  var storageKey = "segment-explorer.api-key";

  // API Gateway's answer to a missing, unknown or disabled key: 403 {"message":"Forbidden"}, or {"error":"Forbidden"}
  // through the API's DEFAULT_4XX gateway response. Other 403s (IAM's "Missing Authentication Token") are errors.
  function isKeyRefusal(status, body) {
    return status === 403 && body !== null && typeof body === "object" && (body.message === "Forbidden" || body.error === "Forbidden");
  }

  // base: the URL prefix of the API's resources; send: fetch; storage: sessionStorage, or null where the browser blocks it
  // (then the key lasts as long as the page).
  function create(base, send, storage) {
    var key = null;
    try { key = storage ? storage.getItem(storageKey) : null; } catch (blocked) { key = null; }

    function setKey(value) {
      key = value === null || value === undefined || String(value).trim() === "" ? null : String(value).trim();
      try {
        if (storage && key !== null) { storage.setItem(storageKey, key); } else if (storage) { storage.removeItem(storageKey); }
      } catch (blocked) { /* kept in memory only */ }
    }

    // Resolves to {ok, status, body (parsed JSON or null), keyNeeded, keyRefused}; rejects only when the API cannot be reached.
    function request(path, init) {
      var options = init || {}, headers = {}, sent = key;
      Object.keys(options.headers || {}).forEach(function (name) { headers[name] = options.headers[name]; });
      if (sent !== null) { headers["x-api-key"] = sent; }
      return send(base + path, { method: options.method || "GET", headers: headers, body: options.body })
        .then(function (response) {
          return response.json().catch(function () { return null; }).then(function (body) {
            var needed = isKeyRefusal(response.status, body);
            // A refused key is forgotten, so it is not sent again; the page asks for another.
            if (needed && sent !== null && key === sent) { setKey(null); }
            return { ok: response.ok, status: response.status, body: body, keyNeeded: needed, keyRefused: needed && sent !== null };
          });
        });
    }

    return { request: request, setKey: setKey };
  }

  // The API-key form of the page's header (api-key-form.html) in document: ask(refused) shows it, saying why; a key
  // entered there goes to api.setKey, the form hides, and retry(event) runs the page's requests again with it.
  function keyForm(document, api, retry) {
    var form = document.getElementById("api-key-form"), input = document.getElementById("api-key");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (input.value.trim() === "") { input.focus(); return; }
      api.setKey(input.value);
      input.value = "";
      form.hidden = true;
      retry(event);
    });
    return {
      ask: function (refused) {
        document.getElementById("api-key-status").textContent = refused
          ? "The API refused this key; check it and enter it again." : "This API needs its key.";
        form.hidden = false;
      }
    };
  }

  // What went wrong, as every page shows it: "message (field)" from the API's {"error","field"}, else the HTTP status.
  function describe(answer) {
    if (answer.keyNeeded) { return "An API key is needed: enter it above."; }
    var body = answer.body;
    return (body && body.error ? body.error : "HTTP " + answer.status) + (body && body.field ? " (" + body.field + ")" : "");
  }

  return { create: create, keyForm: keyForm, describe: describe, storageKey: storageKey };
}());
