// The dashboard: plain JavaScript over the public GraphQL API (/graphql) and /export, charts by ECharts.
// The view's state is the query string, so a URL shows the same view to whoever opens it.
'use strict';

const Q = {
  catalog: `{ indicators { code name nameEn unit firstYear lastYear frequency cumulative measure }
    groups { code name nameEn } regions { code name nameEn } }`,
  // The periods with a value of a monthly or quarterly indicator, latest first: the period selector's.
  periods: `query($i: ID!) { aggregate(by: [PERIOD], filter: { indicators: [$i] },
    orderBy: [{ key: PERIOD, desc: true }], first: 10000) { rows { period } } }`,
  // An annual indicator is asked by year, a monthly or quarterly one by period ($p, "2025-09").
  ranking: `query($i: ID!, $y: Int, $p: String, $g: ID) { ranking(indicator: $i, year: $y, period: $p, group: $g) {
    year period mean leader { code }
    entries { region { code name nameEn } value rank } } }`,
  // Periods only for a monthly or quarterly indicator ($sub), so an annual trend's download is as it was.
  trend: `query($r: ID!, $i: ID!, $sub: Boolean = false) { trend(region: $r, indicator: $i) {
    points { year period @include(if: $sub) value yoy bestEver streak } } }`,
  // Years (or periods: $t PERIOD) down, regions across, as the table shows it and its download holds it.
  pivot: `query($i: ID!, $f: ObservationFilter, $t: Dimension = YEAR) { pivot(indicator: $i, rows: $t, columns: REGION, filter: $f) {
    columns { key label } rows { code label cells } } }`,
  // A few regions side by side: their values over the years or periods (a pivot of those regions), and the
  // values ranked among them (a ranking scoped to the same list): of the latest year with a value for an
  // annual indicator, of the period chosen ($p) for a monthly or quarterly one.
  compare: `query($i: ID!, $rs: [ID!]!, $t: Dimension = YEAR, $p: String) { pivot(indicator: $i, columns: $t, filter: { regions: $rs }) {
    columns { key } rows { code label cells } }
    ranking(indicator: $i, regions: $rs, period: $p) { year period entries { region { code } value rank } missing { code } } }`,
  // What the comparison's download button exports: the chart's rows, a region a row.
  compareRows: `query($i: ID!, $rs: [ID!]!, $t: Dimension = YEAR) { pivot(indicator: $i, columns: $t, filter: { regions: $rs }) {
    rows { code label cells } } }`,
  // A cumulative indicator's year-to-date values from the first period of the year before through $p, and
  // the region's annual targets of $p's year with their progress so far.
  ytd: `query($r: ID!, $i: ID!, $from: PeriodOrYear!, $to: PeriodOrYear!, $p: String!, $y: Int!) {
    trend(region: $r, indicator: $i, from: $from, to: $to) { points { year period value yoy } }
    targets(region: $r, indicator: $i, year: $y, period: $p) {
      kind comparator target unit progress onTrack requiredRestOfYear warnings { message } } }`,
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
  // ytd: made when its section is first shown (a chart made in a hidden box has no size).
};
const when = document.getElementById('when'); // the year or period selector
const tokenInput = document.getElementById('token');
let catalog = null;
const periodsOf = new Map(); // indicator code → its periods with a value, latest first (fetched once)
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

// Monthly and quarterly indicators are asked by period ("2025-09", "2025-Q3"), annual ones by year.
function subAnnual(ind) {
  return ind.frequency === 'M' || ind.frequency === 'Q';
}

function periodYear(p) {
  return Number(p.slice(0, p.indexOf('-')));
}

// The same period a year earlier: 2025-09 → 2024-09.
function yearBefore(p) {
  return `${periodYear(p) - 1}${p.slice(p.indexOf('-'))}`;
}

// The periods of p's year up to p: 2025-01 … 2025-09, or 2025-Q1 … 2025-Q3.
function yearToDate(p) {
  const y = periodYear(p), rest = p.slice(p.indexOf('-') + 1);
  const quarters = rest.startsWith('Q'), n = Number(quarters ? rest.slice(1) : rest);
  return Array.from({ length: n }, (_, k) => (quarters ? `${y}-Q${k + 1}` : `${y}-${String(k + 1).padStart(2, '0')}`));
}

async function periods(ind) {
  if (!periodsOf.has(ind.code)) {
    const { aggregate } = await gql(Q.periods, { i: ind.code });
    periodsOf.set(ind.code, aggregate.rows.map((r) => r.period));
  }
  return periodsOf.get(ind.code);
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
  // The year selector, or for a monthly or quarterly indicator the period selector (its periods with a
  // value, the latest first and by default); the URL's year= or period= is the one it takes.
  const byPeriod = subAnnual(ind);
  document.getElementById('when-label').textContent = !byPeriod ? 'Year 年份' : ind.frequency === 'M' ? 'Month 月份' : 'Quarter 季度';
  when.name = byPeriod ? 'period' : 'year';
  if (byPeriod) {
    let ps;
    try {
      ps = await periods(ind);
    } catch (err) { // said as the views' errors are (render is called without a catch)
      status.textContent = String(err.message || err);
      document.body.dataset.ready = 'error';
      return;
    }
    let period = ps[0];
    const span = ps.length ? `${ps[ps.length - 1]}–${ps[0]}` : 'no values';
    if (s.period) {
      if (ps.includes(s.period)) period = s.period;
      else replaced('period', `${period} (${ind.code} has ${span})`);
    } else if (s.year) { // a year for a monthly indicator: its last period with a value
      period = ps.find((p) => String(periodYear(p)) === s.year) || period;
      replaced('year', `period ${period} (${ind.code} is ${ind.frequency === 'M' ? 'monthly' : 'quarterly'}: it has ${span})`);
    }
    fill(when, ps.map((p) => [p, p]), period);
  } else {
    const years = [];
    for (let y = ind.lastYear; ind.firstYear && y >= ind.firstYear; y--) years.push([y, y]);
    let year = ind.lastYear;
    if (s.year) {
      if (years.some(([y]) => String(y) === s.year)) year = Number(s.year);
      else replaced('year', `${ind.lastYear} (${ind.code} has ${ind.firstYear}–${ind.lastYear})`);
    }
    if (s.period) replaced('period', `year ${year} (${ind.code} is annual)`);
    fill(when, years, year);
  }
  // What the panels ask for: { y: year } or { p: period }.
  const at = byPeriod ? { p: when.value || null } : { y: Number(when.value) };
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
    const ranking = await drawRanking(ind, at, form.group.value || null);
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
    await Promise.all([region ? drawTrend(ind, region) : null, drawPivot(ind, form.group.value || null, at.p),
      compared.length ? drawCompare(ind, compared, at) : null, drawYearToDate(ind, byPeriod && region, at.p)]);
    document.body.dataset.ready = 'true';
  } catch (err) {
    status.textContent = String(err.message || err);
    document.body.dataset.ready = 'error';
  }
}

async function drawRanking(ind, at, group) {
  const variables = { i: ind.code, ...at, g: group };
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
    title: { text: `${label(ind)} · ${ranking.period}`, subtext: ind.unit, textStyle: { fontSize: 13 } },
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
  if (subAnnual(ind)) variables.sub = true;
  requests.trend = { query: Q.trend, variables };
  const { trend } = await gql(Q.trend, variables);
  const pts = trend.points.filter((p) => p.value != null);
  // A point a year, or a period of a monthly or quarterly indicator.
  const key = (p) => (subAnnual(ind) ? p.period : String(p.year));
  // The longest run that grew, shaded; a run has no gaps, so it starts streak points before its end. A
  // year-to-date total grows every month and starts again each January: its records and runs say nothing.
  let best = null;
  pts.forEach((p, i) => { if (p.streak >= 2 && (!best || p.streak > best.streak)) best = { ...p, start: pts[i - p.streak] }; });
  const marked = !ind.cumulative;
  charts.trend.setOption({
    title: { text: `${regionLabel(region)} · ${label(ind)}`, subtext: ind.unit, textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis' },
    grid: { left: 10, right: 20, top: 70, containLabel: true },
    xAxis: { type: 'category', data: pts.map(key) },
    yAxis: { type: 'value', scale: true },
    series: [{
      type: 'line', name: regionLabel(region), data: pts.map((p) => p.value),
      markPoint: {
        symbolSize: 36,
        data: marked ? pts.filter((p) => p.bestEver).map((p) => ({ name: 'record', coord: [key(p), p.value], value: '★' })) : [],
      },
      markArea: marked && best ? {
        itemStyle: { color: 'rgba(46, 139, 87, 0.12)' },
        data: [[{ name: `${best.streak}-${subAnnual(ind) ? 'period' : 'year'} streak 连续增长`, xAxis: key(best.start) }, { xAxis: key(best) }]],
      } : undefined,
    }],
  }, true);
}

async function drawCompare(ind, codes, at) {
  const variables = { i: ind.code, rs: codes };
  if (subAnnual(ind)) variables.t = 'PERIOD'; // a column a period
  requests.compare = { query: Q.compareRows, variables };
  drawChips(codes);
  const { pivot, ranking } = await gql(Q.compare, subAnnual(ind) ? { ...variables, p: at.p } : variables);
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
  // Their values and ranks among themselves: in the latest year, or in the period chosen.
  const table = document.getElementById('compare-table');
  const head = document.createElement('tr');
  head.append(th('Region 地区'), th(ranking.period), th('Rank 排名'));
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

// The year-to-date chart of a monthly or quarterly indicator, for the region chosen: its year-to-date values
// through period and the same periods a year earlier, with the region's annual targets of that year (level:
// a line at the amount; growth: the year-to-date growth by period against a line at the target growth) and
// a table of their progress as targets(period:) answers it. Hidden for an annual indicator (region null).
async function drawYearToDate(ind, region, period) {
  const view = document.getElementById('ytd-view');
  const note = document.getElementById('ytd-note');
  const table = document.getElementById('ytd-targets');
  view.hidden = !region || !period;
  if (view.hidden) return;
  charts.ytd = charts.ytd || echarts.init(document.getElementById('ytd-chart'));
  charts.ytd.resize();
  table.replaceChildren();
  if (!ind.cumulative) {
    charts.ytd.clear();
    note.textContent = `${label(ind)} is not a year-to-date total (cumulative): pick a cumulative indicator for this chart. 非累计指标`;
    return;
  }
  const year = periodYear(period);
  const { trend, targets } = await gql(Q.ytd, { r: region, i: ind.code, from: String(year - 1), to: period, p: period, y: year });
  const point = new Map(trend.points.map((p) => [p.period, p]));
  const axis = yearToDate(period);
  const value = (p) => (point.has(p) ? point.get(p).value : null);
  // Growth in percent, as a growth target is: yoy's fraction × 100, except a RATE's, already in points.
  const growthPct = (p) => {
    const yoy = point.has(p) ? point.get(p).yoy : null;
    return yoy == null ? null : ind.measure === 'RATE' ? yoy : yoy * 100;
  };
  const level = targets.find((t) => t.kind === 'LEVEL');
  const growth = targets.find((t) => t.kind === 'GROWTH');
  const num = (v) => (v == null ? '—' : v.toLocaleString('en'));
  // A target is a flat series, not a mark line: ECharts sizes an axis to its series, so the line is always
  // in view however far the values are from it, and the legend names it.
  const targetLine = (t, id, name, color, yAxisIndex) => ({
    id, type: 'line', name: `${name} ${t.comparator} ${num(t.target)}`, yAxisIndex, data: axis.map(() => t.target),
    symbol: 'none', color, lineStyle: { type: 'dashed' },
  });
  const series = [
    { id: 'ytd', type: 'line', name: `${year}`, data: axis.map(value) },
    { id: 'ytd-before', type: 'line', name: `${year - 1}`, data: axis.map((p) => value(yearBefore(p))), lineStyle: { type: 'dotted' } },
  ];
  if (level) series.push(targetLine(level, 'ytd-target', 'target 目标', '#c23531', 0));
  if (growth) {
    series.push({ id: 'ytd-growth', type: 'line', yAxisIndex: 1, name: 'growth 累计增速 %', data: axis.map(growthPct) },
      targetLine(growth, 'ytd-growth-target', 'growth target 增速目标 %', '#e07b39', 1));
  }
  charts.ytd.setOption({
    title: { text: `${regionLabel(region)} · ${label(ind)} · ${year} year to date 累计`, subtext: ind.unit, textStyle: { fontSize: 13 } },
    tooltip: { trigger: 'axis' },
    legend: { top: 44 },
    grid: { left: 10, right: 20, top: 80, containLabel: true },
    xAxis: { type: 'category', data: axis },
    yAxis: [{ type: 'value' }, { type: 'value', scale: true, show: !!growth, axisLabel: { formatter: '{value} %' }, splitLine: { show: false } }],
    series,
  }, true);
  const shown = [level, growth].filter(Boolean);
  note.textContent = shown.length ? `Annual targets of ${year} and the progress to ${period} 年度目标进度:`
    : `No level or growth target for ${regionLabel(region)} · ${label(ind)} in ${year} in this dataset: no target line. 无年度目标`;
  if (!shown.length) return;
  const warned = shown.some((t) => t.warnings.length);
  const head = document.createElement('tr');
  head.append(th('Target 目标'), th('Value 目标值'), th('Progress 进度'), th('On track 达标'), th('Rest of year needs 全年尚需'));
  if (warned) head.append(th('Why — 说明'));
  const rows = shown.map((t) => {
    const tr = document.createElement('tr');
    tr.dataset.kind = t.kind;
    const pct = t.kind === 'GROWTH' ? ' %' : '';
    [t.kind === 'GROWTH' ? 'growth 增速' : 'level 总量', `${t.comparator} ${num(t.target)} ${t.unit}`,
      t.progress == null ? '—' : `${num(t.progress)} %`, t.onTrack == null ? '—' : t.onTrack ? 'yes 是' : 'no 否',
      t.requiredRestOfYear == null ? '—' : `${num(t.requiredRestOfYear)}${pct}`,
      ...(warned ? [t.warnings.map((w) => w.message).join('; ')] : [])]
      .forEach((c) => { const td = document.createElement('td'); td.textContent = c; tr.append(td); });
    return tr;
  });
  table.replaceChildren(head, ...rows);
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

// The table of years × regions; for a monthly or quarterly indicator, of the periods of the chosen period's
// year × regions (every month of a long history × thousands of regions is past a pivot's 100,000 cells).
async function drawPivot(ind, group, period) {
  const variables = { i: ind.code, f: group ? { group } : null };
  const year = period && periodYear(period);
  if (year) Object.assign(variables, { t: 'PERIOD', f: { ...variables.f, from: year, to: year } });
  requests.pivot = { query: Q.pivot, variables };
  const { pivot } = await gql(Q.pivot, variables);
  document.getElementById('pivot-title').textContent = year ? `Periods of ${year} × regions ${year}年 期间 × 地区` : 'Years × regions 年份 × 地区';
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
  if (ev.target.name === 'indicator') { delete s.year; delete s.period; } // the new indicator's latest
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
