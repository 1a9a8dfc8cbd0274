// Starts Swagger UI (served from this server) on ../openapi.json, relative to this file,
// so it works under a reverse-proxy prefix.
"use strict";
(function () {
  const script = document.currentScript;
  const spec = new URL("../openapi.json", script ? script.src : location.href).href;
  window.addEventListener("DOMContentLoaded", function () {
    window.ui = window.SwaggerUIBundle({
      url: spec,
      dom_id: "#swagger-ui",
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
    });
  });
})();
