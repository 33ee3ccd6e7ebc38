// sphinxcontrib-mermaid imports mermaid as an ES module. The vendored UMD build
// (mermaid 11.17.2, MIT, see LICENSE) is one self-contained file, so this loader
// injects it once and re-exports the global it defines. Nothing leaves the site.
await new Promise((resolve, reject) => {
  const script = document.createElement("script");
  script.src = new URL("./mermaid.min.js", import.meta.url).href;
  script.onload = resolve;
  script.onerror = () => reject(new Error("could not load the vendored mermaid.min.js"));
  document.head.appendChild(script);
});

export default window.mermaid;
