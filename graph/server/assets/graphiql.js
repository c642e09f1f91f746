// GraphiQL over this server's /graphql. A file rather than an inline script, so the page's
// Content-Security-Policy can allow scripts from 'self' only.
(function () {
  const url = location.origin + '/graphql';
  const fetcher = GraphiQL.createFetcher({ url: url });
  // Its editors' state (query, variables, tabs) persists in localStorage under a prefix of ours.
  const prefix = 'pacesetter:';
  const storage = {
    getItem: (k) => localStorage.getItem(prefix + k),
    setItem: (k, v) => localStorage.setItem(prefix + k, v),
    removeItem: (k) => localStorage.removeItem(prefix + k),
    clear: () => Object.keys(localStorage).filter((k) => k.startsWith(prefix)).forEach((k) => localStorage.removeItem(k)),
    get length() { return Object.keys(localStorage).filter((k) => k.startsWith(prefix)).length; },
  };
  ReactDOM.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      isHeadersEditorEnabled: true,
      storage: storage,
      inputValueDeprecation: true,
      defaultQuery: '{ ranking(indicator: "retail_sales", year: 2024, group: "East") {\n    entries(top: 3) { region { code name nameEn } value rank }\n  }\n}\n',
    }),
    document.getElementById('graphiql'),
  );
})();
