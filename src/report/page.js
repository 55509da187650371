/* page.js — builds the headscan report from the JSON in <script id="hs-data"> with
 * plotly.js (embedded by the library into the page; see src/report/report.c). Every
 * plot is a <div class="hs-plot">; window.hsReport.ready becomes true once all are drawn. */
(function () {
  'use strict';
  var D = JSON.parse(document.getElementById('hs-data').textContent);
  var R = (window.hsReport = { ready: false, plots: 0, errors: [] });

  /* matplotlib's coolwarm, sampled at 9 points (the colormap pandas' background_gradient uses) */
  var CW = [[59, 76, 192], [89, 119, 227], [123, 159, 249], [158, 190, 255], [221, 221, 221],
            [246, 191, 166], [244, 154, 123], [222, 96, 77], [180, 4, 38]];
  var COOLWARM = CW.map(function (c, i) { return [i / (CW.length - 1), 'rgb(' + c.join(',') + ')']; });
  function coolwarm(t) {
    t = Math.max(0, Math.min(1, t));
    var x = t * (CW.length - 1), i = Math.min(CW.length - 2, Math.floor(x)), f = x - i;
    return CW[i].map(function (a, k) { return Math.round(a + (CW[i + 1][k] - a) * f); });
  }
  /* pandas' text_color_threshold: dark backgrounds get white text (relative luminance < 0.408) */
  function luminance(c) {
    var l = c.map(function (v) { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
  }
  function fmt(v) {
    if (v === null || v === undefined) return 'NaN';
    if (typeof v !== 'number') return String(v);
    if (v === 0) return '0';
    var a = Math.abs(v);
    return a >= 1e-3 && a < 1e5 ? v.toFixed(6).replace(/\.?0+$/, '') : v.toExponential(3);
  }
  function el(tag, attrs, html) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) e.setAttribute(k, attrs[k]);
    if (html !== undefined) e.innerHTML = html;
    return e;
  }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;' }[c];
    });
  }

  var G = D.labels.length, cols = D.columns;
  /* per-head metric vectors in head order g = l*H + h */
  var byHead = {};
  cols.forEach(function (c, j) { byHead[c] = new Array(G); });
  D.table.forEach(function (row) {
    var g = row[1] * D.H + row[2];
    cols.forEach(function (c, j) { byHead[c][g] = row[j]; });
  });
  function num(a) { return a.map(function (v) { return v === null ? NaN : v; }); }

  /* ------------------------------------------------------------ layout helpers */
  var main = document.getElementById('hs-main'), nav = document.getElementById('hs-nav');
  function section(id, title, intro) {
    var s = el('section', { id: id });
    s.appendChild(el('h2', {}, esc(title)));
    if (intro) s.appendChild(el('p', { 'class': 'intro' }, intro));
    main.appendChild(s);
    nav.appendChild(el('a', { href: '#' + id }, esc(title)));
    return s;
  }
  function grid(parent, cls) { var g = el('div', { 'class': 'grid ' + (cls || '') }); parent.appendChild(g); return g; }
  var queue = [], TITLE_TOP = 32;   /* px from the top of a plot to its title: clear of the mode bar */
  function plot(parent, id, traces, layout) {
    var box = el('div', { 'class': 'plot-box' });
    var div = el('div', { id: id, 'class': 'hs-plot' });
    box.appendChild(div);
    parent.appendChild(box);
    var base = {
      margin: { l: 60, r: 20, t: 40, b: 50 }, height: 380, font: { family: 'Inter, "Segoe UI", Roboto, Helvetica, Arial, sans-serif', size: 12 },
      hoverlabel: { namelength: -1 }, paper_bgcolor: '#fff', plot_bgcolor: '#fafbfc'
    };
    for (var k in layout) base[k] = layout[k];
    if (base.title) {
      /* the mode bar (26 px, top right of the plot, shown on hover) would cover a title drawn at the
         default height: the title goes into a band of its own below it, the plot area below that */
      base.title.y = 1; base.title.yref = 'container'; base.title.yanchor = 'top'; base.title.pad = { t: TITLE_TOP };
      base.margin = { l: base.margin.l, r: base.margin.r, t: base.margin.t + TITLE_TOP - 10, b: base.margin.b };
      base.height += TITLE_TOP - 10;
    }
    queue.push([div, traces, base]);
  }
  function ax(title, extra) { var a = { title: { text: title }, zeroline: true, zerolinecolor: '#ccc', gridcolor: '#e5e7eb' }; for (var k in extra || {}) a[k] = extra[k]; return a; }

  /* ------------------------------------------------------------ header */
  var M = D.meta;
  document.title = M.title;
  document.getElementById('hs-title').textContent = M.title;
  var facts = [['model', M.model], ['token set', M.dataset], ['prompts × tokens', M.prompts + ' × ' + M.n_ctx + ' (' + M.positions + ' scored positions, ' + M.non_induction + ' non-induction)'],
               ['report generated', M.generated], ['headscan', M.version], ['plotly.js', M.plotly]];
  var dl = document.getElementById('hs-facts');
  facts.forEach(function (f) { dl.appendChild(el('dt', {}, esc(f[0]))); dl.appendChild(el('dd', {}, esc(f[1]))); });
  var opt = document.getElementById('hs-options');
  Object.keys(M.options || {}).forEach(function (k) { opt.appendChild(el('span', { 'class': 'chip' }, '<b>' + esc(k) + '</b> ' + esc(JSON.stringify(M.options[k])))); });

  /* ------------------------------------------------------------ head table */
  (function () {
    var s = section('table', 'Head table', 'Quantile ' + fmt(M.quantile) + ' of each per-token metric over all ' + M.positions +
      ' positions; <i>_no_ind</i> columns: quantile ' + fmt(M.no_ind_quantile) + ' over non-induction positions; <i>_abs_sum</i>: Σ|λ| behind the eigenvalue scores ' +
      '(greyed scores: ill-conditioned, hover for why). Colours: coolwarm gradient per column (min → max). Click a header to sort.');
    var wrap = el('div', { 'class': 'table-wrap' }), t = el('table', { id: 'head-table', 'class': 'heads' });
    var thead = el('thead'), tr = el('tr');
    /* headers may wrap after '_' so that the table fits the page */
    cols.forEach(function (c, j) { var th = el('th', { 'data-col': j, title: 'sort by ' + c }, esc(c).replace(/_/g, '_<wbr>')); tr.appendChild(th); });
    thead.appendChild(tr); t.appendChild(thead);
    var tbody = el('tbody'); t.appendChild(tbody);
    var lo = [], hi = [];
    cols.forEach(function (c, j) {
      var v = D.table.map(function (r) { return r[j]; }).filter(function (x) { return typeof x === 'number' && isFinite(x); });
      lo[j] = Math.min.apply(null, v); hi[j] = Math.max.apply(null, v);
    });
    /* eigenvalue scores whose Σ|λ| is negligible (manifest eigenvalue_conditioning): greyed, with the reason */
    var EC = (D.manifest || {}).eigenvalue_conditioning || {}, ill = {};
    ['eigenvals_resid', 'eigenvals_vocab'].forEach(function (k) {
      var e = EC[k], j = cols.indexOf(k), ja = cols.indexOf(k + '_abs_sum');
      if (!e || j < 0) return;
      (e.ill_conditioned || []).forEach(function (lab) {
        var row = D.table.filter(function (r) { return r[0] === lab; })[0];
        ill[lab + ' ' + j] = 'ill-conditioned: the eigenvalues behind ' + k + ' have Σ|λ| = ' + fmt(row && ja >= 0 ? row[ja] : null) +
          ', below ' + fmt(EC.rel) + ' × the median head\'s (threshold ' + fmt(e.threshold) + '): they are numerically zero ' +
          '(e.g. a nilpotent OV circuit), so Σλ/Σ|λ| is rounding noise. The value is shown as TransformerLens computes it.';
      });
    });
    D.table.forEach(function (row) {
      var r = el('tr', { 'data-head': row[0] });
      row.forEach(function (v, j) {
        var td = el('td', {}, esc(j < 3 ? v : fmt(v)));
        var why = ill[row[0] + ' ' + j];
        if (why) { td.className = 'ill'; td.title = why; }
        else if (j >= 3 && typeof v === 'number' && hi[j] > lo[j]) {
          var c = coolwarm((v - lo[j]) / (hi[j] - lo[j]));
          td.style.background = 'rgb(' + c.join(',') + ')';
          td.style.color = luminance(c) < 0.408 ? '#fff' : '#000';
        }
        td.dataset.v = (v === null ? NaN : v);
        r.appendChild(td);
      });
      tbody.appendChild(r);
    });
    var state = { col: -1, dir: 1 };
    thead.addEventListener('click', function (e) {
      var th = e.target.closest('th'); if (!th) return;
      var j = +th.dataset.col;
      state.dir = state.col === j ? -state.dir : (j < 3 ? 1 : -1);
      state.col = j;
      var rows = Array.prototype.slice.call(tbody.rows);
      rows.sort(function (a, b) {
        var x = a.cells[j].dataset.v, y = b.cells[j].dataset.v;
        if (j === 0) { x = +a.cells[1].dataset.v * 1000 + +a.cells[2].dataset.v; y = +b.cells[1].dataset.v * 1000 + +b.cells[2].dataset.v; }
        x = +x; y = +y;
        if (isNaN(x)) return 1; if (isNaN(y)) return -1;
        return (x - y) * state.dir;
      });
      rows.forEach(function (r) { tbody.appendChild(r); });
      Array.prototype.forEach.call(thead.querySelectorAll('th'), function (h) { h.className = ''; });
      th.className = state.dir > 0 ? 'asc' : 'desc';
    });
    wrap.appendChild(t); s.appendChild(wrap);
  })();

  /* ------------------------------------------------------------ quantile line charts */
  var METRICS = [['head_dla', 'Head DLA'], ['mover_attn', 'Mover attention'], ['mover_dla', 'Mover DLA'], ['ratio', 'DLA ratio (mover / head)']];
  var Q = D.quantiles || {};
  (function () {
    var s = section('quantiles', 'Quantiles per head', '13 quantile levels of each metric per head, with all positions and without induction positions. Hover names the head; click legend entries to hide heads.');
    var g = grid(s, 'two');
    METRICS.forEach(function (m) {
      ['all', 'noind'].forEach(function (w) {
        var tab = Q['quantiles13_' + m[0] + '_' + w]; if (!tab) return;
        var x = tab.levels.map(function (l) { return String(+l.toPrecision(3)); });
        var traces = D.labels.map(function (lab, gi) {
          return { type: 'scatter', mode: 'lines+markers', name: lab, x: x, y: num(tab.values.map(function (r) { return r[gi]; })),
                   marker: { size: 4 }, line: { width: 1.5 }, hovertemplate: '<b>' + lab + '</b><br>q = %{x}<br>%{y:.5g}<extra></extra>' };
        });
        plot(g, 'q13-' + m[0] + '-' + w, traces, { title: { text: m[1] + (w === 'all' ? ' — all positions' : ' — without induction') },
             xaxis: ax('quantile level', { type: 'category' }), yaxis: ax(m[1]), legend: { font: { size: 10 } } });
      });
    });
    var r1 = Q.mover_over_head_q90, r2 = Q.q90_ratio;
    if (r1 && r2) {
      plot(s, 'mover-over-head', [
        { type: 'scatter', mode: 'markers+lines', name: 'quantile(mover DLA, .9) / quantile(head DLA, .9)', x: D.labels, y: num(r1.values[0]), hovertemplate: '<b>%{x}</b><br>ratio of quantiles %{y:.4g}<extra></extra>' },
        { type: 'scatter', mode: 'markers+lines', name: 'quantile(mover DLA / head DLA, .9)', x: D.labels, y: num(r2.values[0]), hovertemplate: '<b>%{x}</b><br>quantile of ratios %{y:.4g}<extra></extra>' }],
        { title: { text: 'Mover DLA / Head DLA: ratio of quantiles vs quantile of ratios' }, xaxis: ax('head', { type: 'category' }), yaxis: ax('ratio'), legend: { orientation: 'h', y: -0.25 }, height: 420 });
    }
  })();

  /* ------------------------------------------------------------ scatters of heads */
  function ols(x, y) {
    var n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0, syy = 0;
    for (var i = 0; i < x.length; i++) {
      if (!isFinite(x[i]) || !isFinite(y[i])) continue;
      n++; sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; sxy += x[i] * y[i]; syy += y[i] * y[i];
    }
    var d = n * sxx - sx * sx; if (n < 2 || d === 0) return null;
    var b = (n * sxy - sx * sy) / d, a = (sy - b * sx) / n;
    var r = (n * sxy - sx * sy) / Math.sqrt(d * (n * syy - sy * sy));
    return { a: a, b: b, r2: r * r };
  }
  function range(arrs) {
    var v = [].concat.apply([], arrs).filter(isFinite);
    return v.length ? [Math.min.apply(null, v), Math.max.apply(null, v)] : [0, 1];
  }
  function headPts(x, y, extra) {
    var t = { type: 'scatter', mode: 'markers', name: 'heads', x: x, y: y, text: D.labels, marker: { size: 9, line: { width: 0.5, color: '#333' } },
              hovertemplate: '<b>%{text}</b><br>x %{x:.4g}<br>y %{y:.4g}<extra></extra>' };
    for (var k in extra || {}) t[k] = extra[k];
    return t;
  }
  (function () {
    var s = section('scatters', 'Head scatters', 'One point per head (quantile ' + fmt(M.quantile) + ' values unless stated). Hover for the head label.');
    var g = grid(s, 'two');
    var hd = num(byHead.head_dla), ma = num(byHead.mover_attn), md = num(byHead.mover_dla), ind = num(byHead.induction);
    plot(g, 'sc-mdla-mattn', [headPts(ma, md, { marker: { size: 10, color: hd, colorscale: COOLWARM, showscale: true, colorbar: { title: { text: 'head DLA' } }, line: { width: 0.5, color: '#333' } },
         hovertemplate: '<b>%{text}</b><br>mover attn %{x:.4g}<br>mover DLA %{y:.4g}<br>head DLA %{marker.color:.4g}<extra></extra>' })],
         { title: { text: 'Mover DLA vs mover attention (colour: head DLA)' }, xaxis: ax('mover attention'), yaxis: ax('mover DLA') });
    var rg = range([hd, md]);
    plot(g, 'sc-mdla-hdla', [headPts(hd, md, { hovertemplate: '<b>%{text}</b><br>head DLA %{x:.4g}<br>mover DLA %{y:.4g}<extra></extra>' }),
         { type: 'scatter', mode: 'lines', name: 'y = x', x: rg, y: rg, line: { dash: 'dash', color: '#888' }, hoverinfo: 'skip' }],
         { title: { text: 'Mover DLA vs head DLA' }, xaxis: ax('head DLA'), yaxis: ax('mover DLA'), showlegend: false });
    var fit = ols(ind, md), ri = range([ind]);
    var tr = [headPts(ind, md, { hovertemplate: '<b>%{text}</b><br>induction %{x:.4g}<br>mover DLA %{y:.4g}<extra></extra>' })];
    if (fit) tr.push({ type: 'scatter', mode: 'lines', name: 'OLS: y = ' + fit.a.toPrecision(3) + ' + ' + fit.b.toPrecision(3) + '·x (R² ' + fit.r2.toFixed(3) + ')',
                       x: ri, y: ri.map(function (v) { return fit.a + fit.b * v; }), line: { color: '#b40426' }, hoverinfo: 'name' });
    plot(g, 'sc-ind-mdla', tr, { title: { text: 'Induction score vs mover DLA (OLS trend)' }, xaxis: ax('induction score'), yaxis: ax('mover DLA'), legend: { orientation: 'h', y: -0.25 } });
    /* four-quantile facets: all positions vs without induction, per level */
    METRICS.forEach(function (m) {
      var a = Q['quantiles4_' + m[0] + '_all'], b = Q['quantiles4_' + m[0] + '_noind'];
      if (!a || !b) return;
      var traces = [], lay = { title: { text: m[1] + ': with vs without induction positions' }, grid: { rows: 1, columns: a.k || a.levels.length, pattern: 'independent' }, showlegend: false, height: 348, annotations: [],
                 margin: { l: 60, r: 20, t: 58, b: 50 } };   /* room for the 'q = …' labels under the title */
      a.levels.forEach(function (lv, i) {
        var sfx = i ? String(i + 1) : '', x = num(a.values[i]), y = num(b.values[i]), r = range([x, y]);
        traces.push(headPts(x, y, { xaxis: 'x' + sfx, yaxis: 'y' + sfx, marker: { size: 7 }, hovertemplate: '<b>%{text}</b><br>all %{x:.4g}<br>no induction %{y:.4g}<extra>q=' + (+lv.toPrecision(3)) + '</extra>' }));
        traces.push({ type: 'scatter', mode: 'lines', x: r, y: r, xaxis: 'x' + sfx, yaxis: 'y' + sfx, line: { dash: 'dot', color: '#aaa' }, hoverinfo: 'skip' });
        lay['xaxis' + sfx] = ax(i === 0 ? 'all positions' : ''); lay['yaxis' + sfx] = ax(i === 0 ? 'no induction' : '');
        lay.annotations.push({ text: 'q = ' + (+lv.toPrecision(3)), xref: 'x' + sfx + ' domain', yref: 'y' + sfx + ' domain', x: 0.5, y: 1.08, showarrow: false });
      });
      plot(s, 'facets-' + m[0], traces, lay);
    });
  })();

  /* ------------------------------------------------------------ heatmaps */
  function lh(v) { var z = []; for (var l = 0; l < D.L; l++) z.push(num(v.slice(l * D.H, (l + 1) * D.H))); return z; }
  var lhText = []; for (var l = 0; l < D.L; l++) { lhText.push([]); for (var h = 0; h < D.H; h++) lhText[l].push('L' + l + 'H' + h); }
  var hx = [], ly = []; for (var h2 = 0; h2 < D.H; h2++) hx.push('H' + h2); for (var l2 = 0; l2 < D.L; l2++) ly.push('L' + l2);
  function heat(parent, id, title, v, signed) {
    var z = lh(v), flat = [].concat.apply([], z).filter(isFinite), mx = flat.length ? Math.max.apply(null, flat.map(Math.abs)) : 1;
    var tr = { type: 'heatmap', z: z, x: hx, y: ly, text: lhText, colorscale: COOLWARM, hovertemplate: '<b>%{text}</b><br>%{z:.4f}<extra></extra>',
               texttemplate: '%{z:.3g}', textfont: { size: 10 } };
    if (signed) { tr.zmid = 0; tr.zmin = -mx; tr.zmax = mx; }
    plot(parent, id, [tr], { title: { text: title }, xaxis: ax('head', { side: 'bottom' }), yaxis: ax('layer', { autorange: 'reversed' }), height: 60 + 38 * D.L + 80 });
  }
  (function () {
    var s = section('heatmaps', 'Layer × head maps', 'Induction score (seeded [BOS, R, R] sequences), OV copying scores Re(Σλ/Σ|λ|) through the residual stream and through the vocabulary, and the fraction of tokens whose full-OV argmax is themselves.');
    var g = grid(s, 'two');
    heat(g, 'hm-induction', 'Induction score', D.heat.induction, false);
    heat(g, 'hm-eig-vocab', 'Copying score (vocab: E·OV·U eigenvalues)', D.heat.eigenvals_vocab, true);
    heat(g, 'hm-eig-resid', 'Copying score (residual: OV eigenvalues)', D.heat.eigenvals_resid, true);
    heat(g, 'hm-frac-copy', 'frac_copy_argmax', D.heat.frac_copy_argmax, false);
    var im = D.images, rows = []; for (var r = 0; r < im.prompts; r++) rows.push('prompt ' + r);
    plot(s, 'img-movable', [{ type: 'heatmap', z: im.is_movable, y: rows, colorscale: [[0, '#f3f4f6'], [1, '#3b4cc0']], showscale: false,
         hovertemplate: '%{y}, pos %{x}<br>is_movable %{z}<extra></extra>' }],
         { title: { text: 'is_movable (next token occurred earlier) — first ' + im.prompts + ' prompts' }, xaxis: ax('position'), yaxis: ax('', { autorange: 'reversed' }), height: 120 + 18 * im.prompts });
    plot(s, 'img-copies', [{ type: 'heatmap', z: im.num_copies, y: rows, colorscale: 'Viridis', colorbar: { title: { text: 'copies' } },
         hovertemplate: '%{y}, pos %{x}<br>num_copies %{z}<extra></extra>' }],
         { title: { text: 'num_copies (earlier copies of the next token) — first ' + im.prompts + ' prompts' }, xaxis: ax('position'), yaxis: ax('', { autorange: 'reversed' }), height: 120 + 18 * im.prompts });
  })();

  /* ------------------------------------------------------------ per-head subsamples */
  (function () {
    var s = section('subsample', 'Per-token scatters', 'Head DLA vs mover DLA of individual positions for heads with mover DLA above ' + fmt(D.subsample_threshold) +
      ' (the top head always shown); a seeded subsample of up to ' + D.subsample_n + ' positions per head (seed ' + D.subsample_seed + ').');
    var g = grid(s, 'two');
    D.subsample.forEach(function (h) {
      var rg = range([h.x, h.y]);
      plot(g, 'sub-' + h.head, [{ type: 'scattergl', mode: 'markers', name: h.head, x: num(h.x), y: num(h.y), text: h.where, marker: { size: 4, opacity: 0.6, color: '#3b4cc0' },
             hovertemplate: '<b>' + h.head + '</b> %{text}<br>head DLA %{x:.4g}<br>mover DLA %{y:.4g}<extra></extra>' },
           { type: 'scatter', mode: 'lines', name: 'y = x', x: rg, y: rg, line: { dash: 'dash', color: '#888' }, hoverinfo: 'skip' }],
           { title: { text: h.head + ': head DLA vs mover DLA (' + h.x.length + ' of ' + h.total + ' positions)' }, xaxis: ax('head DLA'), yaxis: ax('mover DLA'), showlegend: false });
    });
  })();

  /* ------------------------------------------------------------ examples and token colouring */
  (function () {
    var E = D.examples;
    var s = section('examples', 'Top examples: ' + E.head, 'Positions where <b>' + E.head + '</b> (highest ' + esc(E.rank_by) + ') has the largest ' + esc(E.metric) +
      (E.exclude_induction ? ', induction positions excluded' : '') + '. Tokens coloured by ' + esc(E.head) + '\'s ' + esc(E.metric) +
      ' for predicting them (blue positive, red negative; hover for the value); the outlined token is the one moved.');
    E.items.forEach(function (it, i) {
      var box = el('div', { 'class': 'example' });
      box.appendChild(el('div', { 'class': 'ex-head' }, '#' + (i + 1) + ' &nbsp; row ' + it.row + ', pos ' + it.pos + ' &nbsp; <b>' + esc(E.metric) + ' = ' + fmt(it.value) + '</b> &nbsp; next token <code>' + esc(it.token) + '</code>' +
        (it.copies.length ? ' &nbsp; earlier copies at ' + it.copies.join(', ') : '')));
      box.appendChild(el('div', { 'class': 'ex-body' }, it.html));
      s.appendChild(box);
    });
    if (!E.items.length) s.appendChild(el('p', {}, 'No positions.'));
    var s2 = section('loss', 'Per-token loss', 'create_html colouring of the per-token loss (−log p of each token given its prefix) for the first prompts; hover for the value.');
    D.loss.forEach(function (it) {
      var box = el('div', { 'class': 'example' });
      box.appendChild(el('div', { 'class': 'ex-head' }, 'prompt ' + it.row + ' (mean loss ' + fmt(it.mean) + ')'));
      box.appendChild(el('div', { 'class': 'ex-body' }, it.html));
      s2.appendChild(box);
    });
    var s3 = section('manifest', 'Scan manifest', '');
    s3.appendChild(el('pre', { 'class': 'manifest' }, esc(JSON.stringify(D.manifest, null, 2))));
  })();

  /* ------------------------------------------------------------ draw */
  window.addEventListener('error', function (e) { R.errors.push(String(e.message)); });
  if (typeof Plotly === 'undefined') {
    R.errors.push('plotly.js is not loaded');
    document.getElementById('hs-warning').textContent = 'plotly.js could not be loaded (this report links it from a CDN: open it with a network connection).';
    return;
  }
  var cfg = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ['select2d', 'lasso2d'], toImageButtonOptions: { format: 'png', scale: 2 } };
  Promise.all(queue.map(function (q) { return Plotly.newPlot(q[0], q[1], q[2], cfg); }))
    .then(function () { R.plots = queue.length; R.ready = true; document.body.dataset.ready = '1'; },
          function (e) { R.errors.push(String(e)); });
})();
