// The dashboard: plain JavaScript over the public GraphQL API (/graphql) and /export, charts by ECharts.
// The view's state is the query string, so a URL shows the same view to whoever opens it.
'use strict';

const Q = {
  catalog: `{ indicators { code name nameEn unit firstYear lastYear } groups { code name nameEn }
    regions { code name nameEn } }`,
  ranking: `query($i: ID!, $y: Int, $g: ID) { ranking(indicator: $i, year: $y, group: $g) {
    year mean leader { code }
    entries { region { code name nameEn } value rank } } }`,
  trend: `query($r: ID!, $i: ID!) { trend(region: $r, indicator: $i) {
    points { year value yoy bestEver streak } } }`,
  // Years down, regions across, as the table shows it and its download holds it.
  pivot: `query($i: ID!, $f: ObservationFilter) { pivot(indicator: $i, rows: YEAR, columns: REGION, filter: $f) {
    columns { key label } rows { code label cells } } }`,
  // A few regions side by side: their values over the years (a pivot of those regions), and the latest
  // year's values ranked among them (a ranking scoped to the same list; its year is the latest with a value).
  compare: `query($i: ID!, $rs: [ID!]!) { pivot(indicator: $i, filter: { regions: $rs }) {
    columns { key } rows { code label cells } }
    ranking(indicator: $i, regions: $rs) { year entries { region { code } value rank } missing { code } } }`,
  // What the comparison's download button exports: the chart's rows, a region a row.
  compareRows: `query($i: ID!, $rs: [ID!]!) { pivot(indicator: $i, filter: { regions: $rs }) {
    rows { code label cells } } }`,
};
// How many regions a comparison holds, and how many it starts with.
const compareMin = 2, compareMax = 6, compareDefault = 3;
// Pixels per bar of the ranking: a 12 px name on each line.
const barHeight = 18;
// Where each view's rows are in its answer, for /export.
const exportPath = { ranking: 'ranking.entries', trend: 'trend.points', pivot: 'pivot.rows', compare: 'pivot.rows' };

const form = document.getElementById('controls');
const status = document.getElementById('status');
const charts = {
  ranking: echarts.init(document.getElementById('ranking-chart')),
  trend: echarts.init(document.getElementById('trend-chart')),
  compare: echarts.init(document.getElementById('compare-chart')),
};
const tokenInput = document.getElementById('token');
let catalog = null;
const names = new Map(); // region code → {name, nameEn}, from the answers seen
const requests = {}; // view → {query, variables} it was drawn from, for its download button

// The bearer token, for a server started with --tokens: typed into the page, kept in this tab's
// sessionStorage (gone when the tab closes), never in the URL, sent on every /graphql and /export request.
const tokenKey = 'pacesetter:token';
tokenInput.value = sessionStorage.getItem(tokenKey) || '';

function headers(extra) {
  const h = { 'Content-Type': 'application/json', ...extra };
  const token = tokenInput.value.trim();
  if (token) h.Authorization = `Bearer ${token}`;
  return h;
}

// A 401 is said plainly, with what to do: the server wants a token, or another one.
function unauthorized() {
  return new Error(tokenInput.value.trim()
    ? 'The API refused this token (401 Unauthorized): check the token in the Token field above. 令牌无效'
    : 'This API needs a bearer token (401 Unauthorized): enter yours in the Token field above. 需要令牌');
}

async function gql(query, variables) {
  const res = await fetch('/graphql', {
    method: 'POST',
    headers: headers({ Accept: 'application/json' }),
    body: JSON.stringify({ query, variables }),
  });
  if (res.status === 401) throw unauthorized();
  const body = await res.json();
  if (body.errors && body.errors.length) throw new Error(body.errors.map((e) => e.message).join('; '));
  return body.data;
}

function state() {
  return Object.fromEntries(new URLSearchParams(location.search));
}

function label(x) {
  return (state().lang === 'en' && x.nameEn) || x.name;
}

function regionLabel(code) {
  const r = names.get(code);
  return r ? label(r) : code;
}

function fill(select, options, value) {
  select.replaceChildren(...options.map(([v, text]) => new Option(text, v, false, String(v) === String(value))));
}

// Draws the controls from the URL and the catalog, then every view.
async function render() {
  delete document.body.dataset.ready; // set again once every view is drawn (the browser tests wait for it)
  const s = state();
  // A parameter of the URL that names nothing here is replaced, and the page says which and by what.
  const notes = [];
  const replaced = (name, used) => notes.push(`${name}=${String(s[name]).slice(0, 40)} is not valid here: showing ${used} instead`);
  let ind = catalog.indicators.find((i) => i.code === s.indicator);
  if (!ind) {
    ind = catalog.indicators[0];
    if (s.indicator) replaced('indicator', ind.code);
  }
  fill(form.indicator, catalog.indicators.map((i) => [i.code, label(i) + (i.unit ? ` (${i.unit})` : '')]), ind.code);
  const years = [];
  for (let y = ind.lastYear; ind.firstYear && y >= ind.firstYear; y--) years.push([y, y]);
  let year = ind.lastYear;
  if (s.year) {
    if (years.some(([y]) => String(y) === s.year)) year = Number(s.year);
    else replaced('year', `${ind.lastYear} (${ind.code} has ${ind.firstYear}–${ind.lastYear})`);
  }
  fill(form.year, years, year);
  let group = '';
  if (s.group) {
    if (catalog.groups.some((g) => g.code === s.group)) group = s.group;
    else replaced('group', 'no group');
  }
  fill(form.group, [['', '—'], ...catalog.groups.map((g) => [g.code, label(g)])], group);
  if (s.lang && s.lang !== 'en' && s.lang !== 'zh') replaced('lang', 'zh');
  form.lang.value = s.lang === 'en' ? 'en' : 'zh';
  const unknown = (s.compare || '').split(',').filter((c) => c && !names.has(c));
  if (unknown.length) notes.push(`compare=${unknown.join(',').slice(0, 60)}: no such region${unknown.length > 1 ? 's' : ''}, left out`);
  status.textContent = notes.join('; ');
  try {
    const ranking = await drawRanking(ind, Number(form.year.value), form.group.value || null);
    const region = ranking.entries.some((e) => e.region.code === s.region) ? s.region
      : ranking.leader ? ranking.leader.code : ranking.entries[0] && ranking.entries[0].region.code;
    if (s.region && region !== s.region) {
      notes.push(`region=${s.region.slice(0, 40)} is not ranked here: showing ${region || 'none'} instead`);
      status.textContent = notes.join('; ');
    }
    fill(form.region, ranking.entries.map((e) => [e.region.code, label(e.region)]), region);
    // The comparison: the regions in the URL, else the first three of the ranking.
    let compared = (s.compare || '').split(',').filter((c) => names.has(c));
    compared = [...new Set(compared)].slice(0, compareMax);
    if (compared.length < compareMin) compared = ranking.entries.slice(0, compareDefault).map((e) => e.region.code);
    await Promise.all([region ? drawTrend(ind, region) : null, drawPivot(ind, form.group.value || null),
      compared.length ? drawCompare(ind, compared) : null]);
    document.body.dataset.ready = 'true';
  } catch (err) {
    status.textContent = String(err.message || err);
    document.body.dataset.ready = 'error';
  }
}

async function drawRanking(ind, year, group) {
  const variables = { i: ind.code, y: year, g: group };
  requests.ranking = { query: Q.ranking, variables };
  const { ranking } = await gql(Q.ranking, variables);
  ranking.entries.forEach((e) => names.set(e.region.code, e.region));
  const leader = ranking.leader && ranking.leader.code;
  // Horizontal bars, one line per region with every name written (interval 0): the chart grows with the
  // regions and its box scrolls, so 300 names stay as readable as 31. The unit is the subtitle, where a
  // long one is not cut off as an axis name is.
  const el = document.getElementById('ranking-chart');
  el.style.height = `${Math.max(360, 90 + barHeight * ranking.entries.length)}px`;
  charts.ranking.resize();
  charts.ranking.setOption({
    title: { text: `${label(ind)} · ${ranking.year}`, subtext: ind.unit, textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 10, right: 40, top: 60, bottom: 20, containLabel: true },
    yAxis: { type: 'category', inverse: true, data: ranking.entries.map((e) => label(e.region)), axisLabel: { interval: 0 } },
    xAxis: { type: 'value', scale: false },
    series: [{
      type: 'bar',
      name: label(ind),
      // The leader's bar is drawn in another colour, and pinned.
      data: ranking.entries.map((e) => ({
        value: e.value, code: e.region.code,
        itemStyle: e.region.code === leader ? { color: '#c23531' } : undefined,
      })),
      markLine: ranking.mean == null ? undefined : {
        symbol: 'none', data: [{ name: 'mean', xAxis: ranking.mean, label: { position: 'end', formatter: 'mean 均值 {c}' } }],
      },
      markPoint: {
        data: ranking.entries.filter((e) => e.region.code === leader)
          .map((e) => ({ name: 'leader', coord: [e.value, label(e.region)], value: 'leader' })),
      },
    }],
  }, true);
  return ranking;
}

async function drawTrend(ind, region) {
  const variables = { r: region, i: ind.code };
  requests.trend = { query: Q.trend, variables };
  const { trend } = await gql(Q.trend, variables);
  const pts = trend.points.filter((p) => p.value != null);
  // The longest run of years that grew, shaded.
  let best = null;
  pts.forEach((p) => { if (p.streak >= 2 && (!best || p.streak > best.streak)) best = p; });
  charts.trend.setOption({
    title: { text: `${regionLabel(region)} · ${label(ind)}`, subtext: ind.unit, textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis' },
    grid: { left: 10, right: 20, top: 70, containLabel: true },
    xAxis: { type: 'category', data: pts.map((p) => String(p.year)) },
    yAxis: { type: 'value', scale: true },
    series: [{
      type: 'line', name: regionLabel(region), data: pts.map((p) => p.value),
      markPoint: {
        symbolSize: 36,
        data: pts.filter((p) => p.bestEver).map((p) => ({ name: 'record', coord: [String(p.year), p.value], value: '★' })),
      },
      markArea: best ? {
        itemStyle: { color: 'rgba(46, 139, 87, 0.12)' },
        data: [[{ name: `${best.streak}-year streak 连续增长`, xAxis: String(best.year - best.streak) }, { xAxis: String(best.year) }]],
      } : undefined,
    }],
  }, true);
}

async function drawCompare(ind, codes) {
  const variables = { i: ind.code, rs: codes };
  requests.compare = { query: Q.compareRows, variables };
  drawChips(codes);
  const { pivot, ranking } = await gql(Q.compare, variables);
  const rows = new Map(pivot.rows.map((r) => [r.code, r]));
  // A line a region, in the order picked; the series id is the region's code.
  charts.compare.setOption({
    title: { text: `${label(ind)}`, subtext: ind.unit, textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis' },
    legend: { top: 44 },
    grid: { left: 10, right: 20, top: 80, containLabel: true },
    xAxis: { type: 'category', data: pivot.columns.map((c) => c.key) },
    yAxis: { type: 'value', scale: true },
    series: codes.map((code) => ({
      id: code, type: 'line', name: regionLabel(code),
      data: rows.has(code) ? rows.get(code).cells : pivot.columns.map(() => null),
    })),
  }, true);
  // Their latest values and ranks among themselves.
  const table = document.getElementById('compare-table');
  const head = document.createElement('tr');
  head.append(th('Region 地区'), th(`${ranking.year}`), th('Rank 排名'));
  const body = [...ranking.entries.map((e) => [e.region.code, e.value, e.rank]),
    ...ranking.missing.map((r) => [r.code, null, null])].map(([code, value, rank]) => {
    const tr = document.createElement('tr');
    tr.dataset.code = code;
    const cells = [regionLabel(code), value == null ? '—' : value.toLocaleString('en'), rank == null ? '—' : rank];
    cells.forEach((c) => { const td = document.createElement('td'); td.textContent = c; tr.append(td); });
    return tr;
  });
  table.replaceChildren(head, ...body);
  charts.compare.resize(); // the table beside it takes its width from the chart's
}

// The picked regions as chips (× removes one, down to compareMin) and a list to add one (up to compareMax).
function drawChips(codes) {
  const chips = codes.map((code) => {
    const chip = document.createElement('span');
    chip.className = 'chip';
    chip.dataset.code = code;
    const x = document.createElement('button');
    x.type = 'button';
    x.textContent = '×';
    x.title = 'Remove 移除';
    x.disabled = codes.length <= compareMin;
    x.addEventListener('click', () => setCompare(codes.filter((c) => c !== code)));
    chip.append(regionLabel(code), x);
    return chip;
  });
  document.getElementById('compare-chips').replaceChildren(...chips);
  const add = document.getElementById('compare-add');
  fill(add, [['', codes.length >= compareMax ? `(${compareMax} at most 最多)` : '+ region 添加地区'],
    ...catalog.regions.filter((r) => !codes.includes(r.code)).map((r) => [r.code, label(r)])], '');
  add.disabled = codes.length >= compareMax;
  add.onchange = () => { if (add.value) setCompare([...codes, add.value]); };
}

// The comparison's regions go into the URL like every other choice.
function setCompare(codes) {
  const s = state();
  s.compare = codes.join(',');
  history.pushState(null, '', '?' + new URLSearchParams(Object.entries(s).filter(([, v]) => v)));
  render();
}

async function drawPivot(ind, group) {
  const variables = { i: ind.code, f: group ? { group } : null };
  requests.pivot = { query: Q.pivot, variables };
  const { pivot } = await gql(Q.pivot, variables);
  // Years down, regions across: the pivot's own rows and columns, so the table is its download's.
  const table = document.getElementById('pivot-table');
  const head = document.createElement('tr');
  head.append(th(''));
  pivot.columns.forEach((c) => head.append(th(names.has(c.key) ? regionLabel(c.key) : c.label)));
  const body = pivot.rows.map((r) => {
    const tr = document.createElement('tr');
    tr.append(th(r.label));
    r.cells.forEach((v) => {
      const td = document.createElement('td');
      td.textContent = v == null ? '' : v.toLocaleString('en');
      tr.append(td);
    });
    return tr;
  });
  table.replaceChildren(head, ...body);
}

function th(text) {
  const el = document.createElement('th');
  el.textContent = text;
  return el;
}

// A view's rows as a file: /export runs the view's own query (POST, the /graphql body).
async function download(view, format = 'csv') {
  const res = await fetch(`/export?format=${format}&path=${exportPath[view]}`, {
    method: 'POST',
    headers: headers(),
    body: JSON.stringify(requests[view]),
  });
  if (res.status === 401) throw unauthorized();
  if (!res.ok) throw new Error(`export: ${res.status} ${await res.text()}`);
  const blob = await res.blob();
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${view}.${format}`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
}

form.addEventListener('change', (ev) => {
  const s = state();
  s[ev.target.name] = ev.target.value;
  if (ev.target.name === 'indicator') delete s.year; // the new indicator's latest year
  if (ev.target.name === 'group') delete s.compare; // the new group's first three
  history.pushState(null, '', '?' + new URLSearchParams(Object.entries(s).filter(([, v]) => v)));
  render();
});
window.addEventListener('popstate', () => start());
document.querySelectorAll('button[data-export]').forEach((b) => b.addEventListener('click', () => {
  download(b.dataset.export).catch((err) => { status.textContent = String(err.message || err); });
}));
window.addEventListener('resize', () => Object.values(charts).forEach((c) => c.resize()));

// The catalog once (again after a new token, if it was refused), then the views.
async function start() {
  delete document.body.dataset.ready;
  try {
    if (!catalog) {
      catalog = await gql(Q.catalog);
      catalog.regions.forEach((r) => names.set(r.code, r));
    }
    await render();
  } catch (err) {
    status.textContent = String(err.message || err);
    document.body.dataset.ready = 'error';
  }
}

tokenInput.addEventListener('change', () => {
  const token = tokenInput.value.trim();
  if (token) sessionStorage.setItem(tokenKey, token);
  else sessionStorage.removeItem(tokenKey);
  start();
});

start();
