#!/usr/bin/env bash
# Browser check for the coaching pages written by `convqa report`.
#
# Renders an agent page and the team index in headless Debian Chromium, checks the rendered DOM
# (agent name, number of SVG charts, recommendation list, index links, no external URLs, no
# scripts; the conversation page a quote links to: transcript and a highlighted turn, in English
# and in Chinese) and takes a PNG screenshot of the agent page; then, on eight generated weeks, the
# weekly trend charts, the recommendations' follow-ups (target reached or not) and the training
# effects with their example conversations linked, in English and in Chinese (the default on that
# data); and the contact drivers page (topics.html) of those weeks in both languages: its share
# chart, quote links and the agents' results per topic. Kept out of `cargo test` because it needs a browser; CI runs it as
# `bash tests/browser/check.sh`.
#
# Installs chromium with apt-get when it is missing (needs root, as on CI). Environment:
#   CONVQA_BIN           convqa binary to use (default: build with cargo and use target/debug)
#   BROWSER_CHECK_OUT    where the pages, DOM dumps and screenshot go (default target/browser-check)
# Ends with the line "N passed, M failed"; exits non-zero when anything failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

# Chinese quotes need a CJK font, or the screenshot shows boxes (the DOM checks do not care).
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -n "$(fc-list :lang=zh 2>/dev/null)" ] || need+=(fonts-noto-cjk)
if [ ${#need[@]} -gt 0 ]; then
    echo "browser check: installing ${need[*]} with apt-get" >&2
    if [ "$(id -u)" -ne 0 ]; then sudo=sudo; else sudo=; fi
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

bin="${CONVQA_BIN:-}"
if [ -z "$bin" ]; then
    cargo build --quiet --bin convqa
    bin="${CARGO_TARGET_DIR:-$root/target}/debug/convqa"
fi

out="${BROWSER_CHECK_OUT:-$root/target/browser-check}"
rm -rf "$out"
mkdir -p "$out"
# tests/browser/effects.json: `convqa effect` output on the multi-week sample
# (scripts/gen-multiweek.py), three completions kept and A01 renamed bob, so bob's page has a
# training-effect section.
"$bin" report --from tests/browser/fixture --effects tests/browser/effects.json --out "$out/site" >/dev/null
"$bin" report --from tests/browser/fixture --effects tests/browser/effects.json --lang zh-CN \
    --out "$out/site-zh" >/dev/null
# Trends and both languages (issue 26, items 1 and 6): eight generated weeks for a dozen agents
# (scripts/gen-multiweek.py), scored, reported per ISO week in English and, by default (the data
# is Chinese), in zh-CN.
python3 scripts/gen-multiweek.py --out "$out/multiweek" >/dev/null
"$bin" score "$out/multiweek/conversations.jsonl" --out "$out/multiweek/run" >/dev/null 2>&1
"$bin" effect --from "$out/multiweek/run" --completions "$out/multiweek/completions.jsonl" \
    --out "$out/multiweek/effect" >/dev/null 2>&1
mw_effects="$out/multiweek/effect/effects.json"
"$bin" report --from "$out/multiweek/run" --period week --effects "$mw_effects" --lang en \
    --out "$out/trend-en" >/dev/null 2>&1
"$bin" report --from "$out/multiweek/run" --period week --effects "$mw_effects" \
    --out "$out/trend-zh" >/dev/null 2>&1

# Contact drivers (issue 29, item 3): topics of the eight weeks per ISO week (the bundled
# embedder), reported with --topics in both languages; conversations are joined to their topics
# through assignments.jsonl.
"$bin" topics --from "$out/multiweek/run" --out "$out/multiweek/topics" --period week --topics 8 \
    >/dev/null 2>&1
for l in en zh-CN; do
    "$bin" report --from "$out/multiweek/run" --topics "$out/multiweek/topics" --lang "$l" \
        --out "$out/topics-$l" >/dev/null 2>&1
done

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
chrome() {
    # --virtual-time-budget lets layout settle; no network is needed or allowed to matter.
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --disable-dev-shm-usage \
        --user-data-dir="$profile" --virtual-time-budget=2000 "$@" 2>>"$out/chromium.log"
}

agent="bob"
page="$out/site/agents/$agent.html"
chrome --dump-dom "file://$page" >"$out/$agent.dom.html"
chrome --dump-dom "file://$out/site/index.html" >"$out/index.dom.html"
chrome --dump-dom "file://$out/site/effects.html" >"$out/effects.dom.html"
chrome --dump-dom "file://$out/site-zh/effects.html" >"$out/effects-zh.dom.html"
# The conversation page the first quote on bob's page links to (issue 26, item 5).
conv_rel="$(grep -o 'class="quote" href="../conversations/[^"#]*' "$page" | head -n1 | sed 's|.*href="../||' || true)"
if [ -n "$conv_rel" ] && [ -f "$out/site/$conv_rel" ]; then
    chrome --dump-dom "file://$out/site/$conv_rel" >"$out/conversation.dom.html"
else
    : >"$out/conversation.dom.html"
fi
# The same conversation page in the Chinese report (issue 26, items 5 and 6).
if [ -n "$conv_rel" ] && [ -f "$out/site-zh/$conv_rel" ]; then
    chrome --dump-dom "file://$out/site-zh/$conv_rel" >"$out/conversation-zh.dom.html"
else
    : >"$out/conversation-zh.dom.html"
fi
chrome --window-size=1280,2400 --hide-scrollbars --screenshot="$out/effects.png" "file://$out/site/effects.html" >/dev/null
chrome --window-size=1280,4200 --hide-scrollbars --screenshot="$out/$agent.png" "file://$page" >/dev/null
for l in en zh; do
    chrome --dump-dom "file://$out/trend-$l/index.html" >"$out/trend-$l-index.dom.html"
    chrome --dump-dom "file://$out/trend-$l/agents/A01.html" >"$out/trend-$l-A01.dom.html"
    chrome --dump-dom "file://$out/trend-$l/effects.html" >"$out/trend-$l-effects.dom.html"
    # The first example conversation effects.html links to (issue 26, item 5).
    ex_rel="$(grep -o 'class="conversation" href="conversations/[^"#]*' "$out/trend-$l/effects.html" | head -n1 | sed 's|.*href="||' || true)"
    echo "$ex_rel" >"$out/trend-$l-example.txt"
    if [ -n "$ex_rel" ] && [ -f "$out/trend-$l/$ex_rel" ]; then
        chrome --dump-dom "file://$out/trend-$l/$ex_rel" >"$out/trend-$l-example.dom.html"
    else
        : >"$out/trend-$l-example.dom.html"
    fi
done
for l in en zh-CN; do
    chrome --dump-dom "file://$out/topics-$l/topics.html" >"$out/topics-$l.dom.html"
    chrome --dump-dom "file://$out/topics-$l/agents/A01.html" >"$out/topics-$l-A01.dom.html"
    # The page the first customer quote links to.
    q_rel="$(grep -o 'class="quote" href="conversations/[^"#]*' "$out/topics-$l/topics.html" | head -n1 | sed 's|.*href="||' || true)"
    echo "$q_rel" >"$out/topics-$l-quote.txt"
    if [ -n "$q_rel" ] && [ -f "$out/topics-$l/$q_rel" ]; then
        chrome --dump-dom "file://$out/topics-$l/$q_rel" >"$out/topics-$l-quote.dom.html"
    else
        : >"$out/topics-$l-quote.dom.html"
    fi
done
chrome --window-size=1280,3600 --hide-scrollbars --screenshot="$out/topics-zh-CN.png" \
    "file://$out/topics-zh-CN/topics.html" >/dev/null
chrome --window-size=1280,4200 --hide-scrollbars --screenshot="$out/trend-zh-A01.png" \
    "file://$out/trend-zh/agents/A01.html" >/dev/null

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
    local what="$1"
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok   $what"
    else
        failed=$((failed + 1))
        echo "FAIL $what"
    fi
}
count() { grep -o -- "$1" "$2" | wc -l | tr -d ' '; }

dom="$out/$agent.dom.html"
check "DOM was rendered" test -s "$dom"
check "agent name in the heading" grep -q "<span class=\"agent-id\">$agent</span>" "$dom"
check "4 SVG charts (histogram, item bars, trajectory, per-call)" test "$(count '<svg class="chart"' "$dom")" -eq 4
for chart in score-histogram item-pass-rates sentiment-trajectory sentiment-per-call; do
    check "chart $chart present" grep -q "data-chart=\"$chart\"" "$dom"
done
check "recommendation list with at least one entry" test "$(count '<li class="recommendation' "$dom")" -ge 1
check "empathy recommendation shown" grep -q 'data-module="empathy_emotion"' "$dom"
check "transcript markup escaped (no <b> from a quote)" bash -c "! grep -q '<b>now' '$dom'"
check "no script elements" bash -c "! grep -qi '<script' '$dom' '$out/index.dom.html'"
check "no external URLs in src/href/url()" \
    bash -c "! grep -Eiq '(src|href)=\"(https?:|//)|url\\(|@import' '$dom' '$out/index.dom.html'"
check "no http(s) anywhere in the page source" bash -c "! grep -q 'http' '$page'"
check "index links every agent page" \
    test "$(count 'href="agents/' "$out/index.dom.html")" -eq "$(ls "$out/site/agents/"*.html | wc -l)"
eff="$out/effects.dom.html"
check "effects page: module table and one article per completion" \
    bash -c "test \"\$(grep -o '<tr data-module=' '$eff' | wc -l)\" -ge 1 && test \"\$(grep -o '<article class=\"completion\"' '$eff' | wc -l)\" -eq 3"
check "effects page: a before/after chart per completion" test "$(count 'data-chart="effect"' "$eff")" -eq 3
check "effects page: verdicts shown" grep -q 'data-verdict="improved"' "$eff"
check "index links the effects page; bob's page has its training effect" \
    bash -c "grep -q 'href=\"effects.html\"' '$out/index.dom.html' && grep -q 'id=\"training-effect\"' '$dom'"
check "effects page in Chinese (--lang zh-CN)" \
    bash -c "grep -q '<html lang=\"zh-CN\">' '$out/effects-zh.dom.html' && grep -q '应用转化率' '$out/effects-zh.dom.html' && grep -q '服务礼仪' '$out/effects-zh.dom.html'"
cdom="$out/conversation.dom.html"
check "bob's quotes link to conversation pages (${conv_rel:-none})" test -n "$conv_rel"
check "conversation page renders its transcript" \
    bash -c "grep -q '<ol class=\"transcript\">' '$cdom' && test \"\$(grep -o '<li class=\"turn ' '$cdom' | wc -l)\" -ge 2"
check "conversation page highlights at least one flagged turn, with its reason" \
    bash -c "grep -q ' flagged\" id=\"turn-' '$cdom' && grep -q '<ul class=\"flags\">' '$cdom'"
check "conversation page: no scripts, no external URLs" \
    bash -c "! grep -Eiq '<script|(src|href)=\"(https?:|//)' '$cdom'"
czh="$out/conversation-zh.dom.html"
check "conversation page in Chinese (--lang zh-CN): lang, transcript, flagged turn, Chinese words" \
    bash -c "grep -q '<html lang=\"zh-CN\">' '$czh' && grep -q '<ol class=\"transcript\">' '$czh' && grep -q ' flagged\" id=\"turn-' '$czh' && grep -q '通话记录' '$czh' && grep -q '检查项' '$czh' && grep -q '← 团队总览' '$czh'"
check "Chinese conversation page carries no English fixed words" \
    bash -c "! grep -Eq '>Transcript<|>Checklist items<|Failed item:|Escalation trigger:|Team overview|Generated by|flagged turn' '$czh'"
for l in en zh; do
    ix="$out/trend-$l-index.dom.html"
    ag="$out/trend-$l-A01.dom.html"
    check "trends ($l): team QA and rate charts on the index, 8 weekly points each" \
        bash -c "grep -q 'data-chart=\"trend-team-qa\"' '$ix' && grep -q 'data-chart=\"trend-team-rates\"' '$ix' && test \"\$(grep -o 'data-series=\"team\" data-period=' '$ix' | wc -l)\" -eq 8"
    check "trends ($l): agent vs team-without-agent chart with bands, 8 points each" \
        bash -c "grep -q 'data-chart=\"trend-agent-qa\"' '$ag' && grep -q 'class=\"band\"' '$ag' && test \"\$(grep -o 'data-series=\"agent\" data-period=' '$ag' | wc -l)\" -eq 8 && test \"\$(grep -o 'data-series=\"team-without-agent\" data-period=' '$ag' | wc -l)\" -eq 8"
done
check "follow-ups (en): each recommendation on A01's page says whether its target was reached" \
    bash -c "test \"\$(grep -o '<p class=\"follow-up \(reached\|not-reached\)\" data-target-reached=\"\(true\|false\)\"' '$out/trend-en-A01.dom.html' | wc -l)\" -eq \"\$(grep -o '<li class=\"recommendation' '$out/trend-en-A01.dom.html' | wc -l)\" && grep -q 'Progress per week: 2026-W' '$out/trend-en-A01.dom.html' && grep -Eq 'class=\"state\">(reached|not reached)<' '$out/trend-en-A01.dom.html'"
check "follow-ups (zh-CN): in Chinese on A01's page and the team's on the index" \
    bash -c "grep -q '按周跟进：2026-W' '$out/trend-zh-A01.dom.html' && grep -Eq 'class=\"state\">(已达到|未达到)<' '$out/trend-zh-A01.dom.html' && grep -q 'class=\"follow-up ' '$out/trend-zh-index.dom.html'"
for l in en zh; do
    check "effects page ($l): example conversations linked, and the first one's page renders" \
        bash -c "test \"\$(grep -o '<a class=\"conversation\" href=\"conversations/' '$out/trend-$l-effects.dom.html' | wc -l)\" -ge 8 && grep -q '<ol class=\"transcript\">' '$out/trend-$l-example.dom.html'"
done
check "effects page in Chinese: item titles and examples in Chinese, no English notes" \
    bash -c "grep -q '可查看的会话' '$out/trend-zh-effects.dom.html' && grep -q '问候客户' '$out/trend-zh-effects.dom.html' && grep -q '<html lang=\"zh-CN\">' '$out/trend-zh-example.dom.html' && ! grep -Eq 'Conversations to read|too few conversations|Greets the customer' '$out/trend-zh-effects.dom.html'"
check "English pages (--lang en): lang attribute and English headings" \
    bash -c "grep -q '<html lang=\"en\">' '$out/trend-en-A01.dom.html' && grep -q 'Coaching recommendations' '$out/trend-en-A01.dom.html' && grep -q 'QA score per week' '$out/trend-en-A01.dom.html' && grep -q 'Team overview' '$out/trend-en-index.dom.html'"
check "Chinese pages by default on Chinese data: zh-CN headings, chart titles and item titles" \
    bash -c "grep -q '<html lang=\"zh-CN\">' '$out/trend-zh-A01.dom.html' && grep -q '辅导建议' '$out/trend-zh-A01.dom.html' && grep -q '每周质检得分' '$out/trend-zh-A01.dom.html' && grep -q '问候客户' '$out/trend-zh-A01.dom.html' && grep -q '团队总览' '$out/trend-zh-index.dom.html'"
check "Chinese pages carry no English headings" \
    bash -c "! grep -Eq 'Coaching recommendations|Checklist items|Team overview|Lowest-scoring|Generated by' '$out/trend-zh-A01.dom.html' '$out/trend-zh-index.dom.html'"
for l in en zh-CN; do
    td="$out/topics-$l.dom.html"
    case "$l" in en) title="Contact drivers" ;; *) title="咨询主题" ;; esac
    check "contact drivers ($l): page opens with its title, linked from the index" \
        bash -c "grep -q '<html lang=\"$l\">' '$td' && grep -q '<h1 id=\"topics-title\">$title</h1>' '$td' && grep -q 'href=\"topics.html\"' '$out/topics-$l/index.html'"
    check "contact drivers ($l): one row and one article per topic (8)" \
        bash -c "test \"\$(grep -o '<article class=\"topic\"' '$td' | wc -l)\" -eq 8"
    check "contact drivers ($l): the weekly share chart renders as SVG, 8 weekly points per line" \
        bash -c "grep -q '<svg class=\"chart\"[^>]*data-chart=\"topic-shares\"' '$td' && test \"\$(grep -o 'data-series=\"topic-[0-9]*\" data-period=' '$td' | wc -l)\" -ge 8 && grep -q '<polyline' '$td'"
    check "contact drivers ($l): quotes link to conversation pages that render" \
        bash -c "test \"\$(grep -o '<a class=\"quote\" href=\"conversations/' '$td' | wc -l)\" -ge 8 && grep -q '<ol class=\"transcript\">' '$out/topics-$l-quote.dom.html'"
    check "contact drivers ($l): coverage line; agent page has results per topic with the adjusted QA" \
        bash -c "grep -q 'class=\"coverage\"' '$td' && grep -q '<section id=\"topics\">' '$out/topics-$l-A01.dom.html' && grep -q 'class=\"topic-mix\"' '$out/topics-$l-A01.dom.html'"
    check "contact drivers ($l): no scripts, no external URLs" \
        bash -c "! grep -Eiq '<script|(src|href)=\"(https?:|//)|url\\(' '$td'"
done
check "contact drivers in Chinese carry no English fixed words" \
    bash -c "! grep -Eq 'Contact drivers|Training coverage|What customers said|Share per period|Results per topic' '$out/topics-zh-CN.dom.html' '$out/topics-zh-CN-A01.dom.html'"
check "screenshot is a PNG" bash -c "head -c 8 '$out/$agent.png' | od -An -tx1 | tr -d ' \n' | grep -q '^89504e470d0a1a0a'"

echo "pages, DOM dumps and screenshot in $out"
echo "browser check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
