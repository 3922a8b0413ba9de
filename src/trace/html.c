/* A ladder as one self-contained HTML page a learner can step through.
 *
 * The page holds the SVG diagram in English and in Chinese (both shown when
 * JavaScript is off: the static diagram always works), the text ladder in
 * a <details>, and a small inline script (no external resources) that
 * steps through the rows with buttons and the arrow keys: the rows after
 * the current one fade, the current one is outlined, and a panel shows
 * both ends' states at that step and the explanations of that row (the
 * --explain sentences, from the engine's cause codes). A button switches
 * English and Chinese. With `live_url` (".../N.html") the script listens
 * to Server-Sent Events from ".../N.sse" (each tells the connection's event
 * count; EventSource comes back every `retry` ms) and, when the count
 * changes, fetches the page again and takes its new steps (a connection
 * still going on), keeping the step; without EventSource it polls.
 *
 * Everything is escaped: text for HTML, the steps as JSON inside <script>
 * (with "<" written as \u003c so nothing can end the script early).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "trace/ladder_int.h"

#define LABEL_CAP 512

/* A JSON string, safe inside <script>. */
static void put_json(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20 || c == '<' || c == '>' || c == '&')
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Renders into a malloc'd string with one of the ladder's renderers. */
static char *render_to_string(sf_ladder_t *l, const sf_ladder_opts_t *o,
                              int (*fn)(sf_ladder_t *, const sf_ladder_opts_t *, FILE *))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&buf, &len);
	if (m == NULL)
		return NULL;
	int err = fn(l, o, m);
	fclose(m);
	if (err < 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void free_rows(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static const char page_css[] =
        "body{font-family:sans-serif;margin:1em;color:#222}"
        "h1{font-size:1.2em}"
        "#ctl{position:sticky;top:0;background:#fff;border-bottom:1px solid #ccc;"
        "padding:.4em 0;z-index:1}"
        "#ctl button{font-size:1em;margin-right:.3em}"
        "#now{font-family:monospace;margin:.3em 0}"
        "#why{white-space:pre-wrap;margin:.3em 0;min-height:2.6em}"
        "#eng{white-space:pre-wrap;font-family:monospace;color:#1d3557}"
        ".fut{opacity:.12}"
        ".cur line,.cur path{stroke-width:3}"
        ".cur text{font-weight:bold}"
        "svg{max-width:100%;height:auto}"
        "pre{font-size:12px}";

/* The stepping script: STEPS[i] = {t, s: [left, right], en, zh, we, wz}. */
static const char page_js[] =
        "(function(){"
        "var S=window.STEPS,i=S.length-1,lang=document.documentElement.lang||'en';"
        "var ctl=document.getElementById('ctl');ctl.hidden=false;"
        "function q(a){return Array.prototype.slice.call(document.querySelectorAll(a));}"
        "function show(){"
        "q('.lang').forEach(function(e){e.hidden=e.getAttribute('data-lang')!==lang;});"
        "q('[data-row]').forEach(function(g){var r=+g.getAttribute('data-row');"
        "g.classList.toggle('fut',r>i);g.classList.toggle('cur',r===i);});"
        "var s=S[i];if(!s)return;"
        "document.getElementById('now').textContent=(i+1)+'/'+S.length+'  t='+s.t+' ms  '+"
        "(lang==='zh'?'客户端 ':'client ')+s.s[0]+'  '+(lang==='zh'?'服务器 ':'server ')+s.s[1];"
        "document.getElementById('seg').textContent=lang==='zh'?s.zh:s.en;"
        "document.getElementById('why').textContent=(lang==='zh'?s.wz:s.we)||'';"
        "var E=[];for(var k=0;k<2;k++){var c=s.n&&s.n[k];if(!c)continue;"
        "var who=k?(lang==='zh'?'服务器':'server'):(lang==='zh'?'客户端':'client');"
        "E.push(who+(lang==='zh'?'（synfin 引擎）':' (synfin engine)')+': cwnd '+c.cwnd+' B, "
        "ssthresh '+"
        "(c.ssthresh>=4294967295?'\u221e':c.ssthresh+' B')+', SRTT "
        "'+(c.srtt?(c.srtt/1000).toFixed(1)+' ms':'-')+"
        "', RTO '+(c.rto/1000).toFixed(0)+' ms, '+(lang==='zh'?'在途 ':'in flight ')+c.flight+' B, "
        "'+"
        "(lang==='zh'?'接收窗口 ':'rcv wnd ')+c.rwnd+' B');}"
        "document.getElementById('eng').textContent=E.join('\\n');"
        "try{history.replaceState(null,'','#'+i);}catch(e){}"
        "var c=document.querySelector('.lang:not([hidden]) .cur');"
        "if(c&&c.scrollIntoView)c.scrollIntoView({block:'nearest'});}"
        "function go(n){i=Math.max(0,Math.min(S.length-1,n));show();}"
        "window.sfStep=go;window.sfLang=function(l){lang=l;show();};"
        "document.getElementById('first').onclick=function(){go(0);};"
        "document.getElementById('prev').onclick=function(){go(i-1);};"
        "document.getElementById('next').onclick=function(){go(i+1);};"
        "document.getElementById('last').onclick=function(){go(S.length-1);};"
        "document.getElementById('lang').onclick=function(){lang=lang==='en'?'zh':'en';show();};"
        "document.addEventListener('keydown',function(e){"
        "if(e.key==='ArrowRight'||e.key==='ArrowDown'||e.key==='j'){go(i+1);e.preventDefault();}"
        "else if(e.key==='ArrowLeft'||e.key==='ArrowUp'||e.key==='k'){go(i-1);e.preventDefault();}"
        "else if(e.key==='Home'){go(0);}else if(e.key==='End'){go(S.length-1);}});"
        "var h=parseInt((location.hash||'').slice(1),10);if(h>=0)i=Math.min(h,S.length-1);"
        "show();"
        /* Live: Server-Sent Events from live's ".sse" twin tell when the
         * connection has new events (EventSource reconnects after each
         * answer, `retry` ms apart); then the page is fetched again and its
         * new steps taken. Without EventSource: polling. */
        "var live=document.body.getAttribute('data-live');"
        "if(live&&window.fetch){var atEnd=function(){return i===S.length-1;};"
        "var reload=function(){fetch(live,{cache:'no-store'}).then(function(r){return r.text();})"
        ".then(function(t){var m=t.match(/STEPS=(\\[[\\s\\S]*?\\]);\\/\\*end\\*\\//);"
        "if(!m)return;var n=JSON.parse(m[1]);if(n.length===S.length&&"
        "JSON.stringify(n)===JSON.stringify(S))return;var end=atEnd();"
        "var d=new DOMParser().parseFromString(t,'text/html');"
        "['svgs','graph','text'].forEach(function(id){var a=document.getElementById(id),"
        "b=d.getElementById(id);if(a&&b)a.innerHTML=b.innerHTML;});"
        "S=window.STEPS=n;if(end)i=S.length-1;show();}).catch(function(){});};"
        "if(window.EventSource&&/\\.html$/.test(live)){var seen=null;"
        "var es=new EventSource(live.replace(/\\.html$/,'.sse'));window.sfEvents=es;"
        "es.onmessage=function(e){if(seen!==null&&e.data!==seen)reload();seen=e.data;};}"
        "else setInterval(reload,1000);}"
        "})();";

int sf_ladder_render_html(sf_ladder_t *l, const sf_ladder_opts_t *opts, const char *live_url,
                          FILE *out)
{
	const sf_ladder_opts_t *o;
	int err = sf_ladder_render_begin(l, opts, out, &o);
	if (err < 0)
		return err;
	bool zh = o->lang == SF_LADDER_LANG_ZH;
	sf_ladder_opts_t oe = *o, oz = *o;
	oe.lang = SF_LADDER_LANG_EN;
	oz.lang = SF_LADDER_LANG_ZH;
	size_t n = l->row_cnt;
	char *svg_en = render_to_string(l, &oe, sf_ladder_render_svg);
	char *svg_zh = render_to_string(l, &oz, sf_ladder_render_svg);
	char *txt = render_to_string(l, o, sf_ladder_render_text);
	char *expl = render_to_string(l, o, sf_ladder_render_explain);
	char *graph = render_to_string(l, o, sf_ladder_render_graph);
	char **we = sf_ladder_explain_rows(l, SF_LADDER_LANG_EN);
	char **wz = sf_ladder_explain_rows(l, SF_LADDER_LANG_ZH);
	if (!svg_en || !svg_zh || !txt || !expl || !graph || !we || !wz) {
		err = SF_ENOMEM;
		goto done;
	}
	char title[256], e0[96], e1[96];
	snprintf(title, sizeof title, "%s%s <-> %s", zh ? "TCP 时序图：" : "TCP ladder: ",
	         sf_ladder_end_str(l, 0, o->lang, e0, sizeof e0),
	         sf_ladder_end_str(l, 1, o->lang, e1, sizeof e1));
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n",
	        zh ? "zh" : "en");
	fputs("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
	      out);
	sf_ladder_put_xml(out, title);
	fprintf(out, "</title>\n<style>%s</style>\n</head>\n<body", page_css);
	if (live_url) {
		fputs(" data-live=\"", out);
		sf_ladder_put_xml(out, live_url);
		fputc('"', out);
	}
	fputs(">\n", out);
	/* The heading in both languages (both show without the script). */
	for (int k = 0; k < 2; k++) {
		sf_ladder_lang_t lg = k ? SF_LADDER_LANG_ZH : SF_LADDER_LANG_EN;
		char h[256];
		snprintf(h, sizeof h, "%s%s <-> %s", k ? "TCP 时序图：" : "TCP ladder: ",
		         sf_ladder_end_str(l, 0, lg, e0, sizeof e0),
		         sf_ladder_end_str(l, 1, lg, e1, sizeof e1));
		fprintf(out, "<h1 class=\"lang\" data-lang=\"%s\">", k ? "zh" : "en");
		sf_ladder_put_xml(out, h);
		fputs("</h1>\n", out);
	}
	/* Controls: hidden until the script shows them. */
	fprintf(out,
	        "<div id=\"ctl\" hidden>\n"
	        "<button id=\"first\" title=\"Home\">&#x25C0;&#x25C0;</button>"
	        "<button id=\"prev\" title=\"&#x2190;\">&#x25C0; %s</button>"
	        "<button id=\"next\" title=\"&#x2192;\">%s &#x25B6;</button>"
	        "<button id=\"last\" title=\"End\">&#x25B6;&#x25B6;</button>"
	        "<button id=\"lang\">English / 中文</button>\n"
	        "<div id=\"now\"></div><div id=\"seg\"></div><div id=\"why\"></div>"
	        "<div id=\"eng\"></div>\n</div>\n",
	        zh ? "上一步" : "back", zh ? "下一步" : "step");
	fputs("<div id=\"svgs\">\n<div class=\"lang\" data-lang=\"en\">\n", out);
	/* The SVGs without their XML declaration, inline. */
	const char *p = strstr(svg_en, "<svg");
	fputs(p ? p : svg_en, out);
	fputs("</div>\n<div class=\"lang\" data-lang=\"zh\">\n", out);
	p = strstr(svg_zh, "<svg");
	fputs(p ? p : svg_zh, out);
	fputs("</div>\n</div>\n<div id=\"graph\">\n", out);
	p = strstr(graph, "<svg");
	fputs(p ? p : graph, out);
	fputs("</div>\n<details id=\"text\"><summary>text</summary><pre>", out);
	sf_ladder_put_xml(out, txt);
	fputs("\n", out);
	sf_ladder_put_xml(out, expl);
	fputs("</pre></details>\n<script>window.STEPS=[", out);
	/* One step per row: the states after it, its label, its reasons. */
	sf_state_t cur[2] = {l->init[0], l->init[1]};
	const struct sf_event_tcb *tcb[2] = {NULL, NULL};
	char label[LABEL_CAP], tbuf[32];
	for (size_t i = 0; i < n; i++) {
		const lrow_t *r = &l->rows[i];
		for (int s = 0; s < 2; s++)
			if (r->has_state[s])
				cur[s] = r->state[s];
		if (r->kind == LROW_SEG && r->has_tcb)
			tcb[r->side] = &r->tcb;
		fputs(i ? ",\n{\"t\":" : "\n{\"t\":", out);
		put_json(out, sf_ladder_time_str(l, r->t_us, tbuf, sizeof tbuf));
		fputs(",\"s\":[", out);
		put_json(out, sf_state_name(cur[0]));
		fputc(',', out);
		put_json(out, sf_state_name(cur[1]));
		fputs("]", out);
		for (int k = 0; k < 2; k++) {
			const sf_ladder_opts_t *lo = k == 0 ? &oe : &oz;
			label[0] = '\0';
			if (r->kind == LROW_SEG)
				sf_ladder_seg_label(l, r, lo, label, sizeof label);
			else if (r->kind == LROW_NOTE)
				sf_ladder_note_text(r, lo, label, sizeof label);
			char line[LABEL_CAP + 64];
			snprintf(line, sizeof line, "%s%s%s", sf_ladder_role(r->side, lo->lang),
			         k ? "：" : ": ", label);
			fputs(k == 0 ? ",\"en\":" : ",\"zh\":", out);
			put_json(out, label[0] ? line : "");
		}
		/* The engine's numbers of each synfin side, as of this step. */
		fputs(",\"n\":[", out);
		for (int s = 0; s < 2; s++) {
			const struct sf_event_tcb *c = tcb[s];
			if (c == NULL)
				fputs(s ? "null" : "null,", out);
			else
				fprintf(out,
				        "{\"cwnd\":%" PRIu32 ",\"ssthresh\":%" PRIu32
				        ",\"srtt\":%" PRIu32 ",\"rto\":%" PRIu32
				        ",\"flight\":%" PRIu32 ",\"rwnd\":%" PRIu32 "}%s",
				        c->cwnd, c->ssthresh, c->srtt_us, c->rto_us, c->in_flight,
				        c->rcv_wnd, s ? "" : ",");
		}
		fputs("]", out);
		fputs(",\"we\":", out);
		put_json(out, we[i]);
		fputs(",\"wz\":", out);
		put_json(out, wz[i]);
		fputc('}', out);
	}
	fprintf(out, "];/*end*/\n%s</script>\n</body>\n</html>\n", page_js);
	err = 0;
done:
	free(svg_en);
	free(svg_zh);
	free(txt);
	free(expl);
	free(graph);
	free_rows(we, n);
	free_rows(wz, n);
	return err;
}
