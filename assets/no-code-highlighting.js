// The dashboard's Markdown holds tables and text, never code blocks, yet dcc.Markdown fetches
// highlight.js (140 kB) unless window.hljs exists: this stand-in leaves code as plain text.
window.hljs = window.hljs || { highlightElement: function () {} };
