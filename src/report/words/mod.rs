//! Every fixed word of the report's pages, per language, in one place: the team overview
//! (`index.html`), the agent pages (HTML and Markdown), the charts, `effects.html`, the contact
//! drivers (`topics.rs`) and the conversation pages (their words and the names of a result's
//! codes: `conv.rs`). A page never spells a word itself: it asks [`words`] for the table of its
//! [`Lang`]. Templates mark where a value goes with `{0}`, `{1}` ([`fill`]). Item and module
//! titles come from the inputs: the checklist's `title_zh` and the catalogue's `title_zh` /
//! `description_zh` on zh-CN pages.
//!
//! Default language (no `--lang`): zh-CN when most of the scored conversations' customer and
//! agent turns with a detected language are Chinese ([`LangCount`]), else en.

mod conv;
mod topics;

use crate::types::{ConversationResult, Language, Speaker};
pub(crate) use conv::{name, ConvWords};
pub(crate) use topics::{topic_words, TopicWords};

/// The language of a rendered page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    #[default]
    #[value(name = "en")]
    En,
    #[value(name = "zh-CN")]
    ZhCn,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::ZhCn => "zh-CN",
        }
    }
}

/// The training-effect page's words (`effects.html` and the agents' training-effect sections).
#[derive(Debug, serde::Serialize)]
pub(crate) struct EffectWords {
    pub title: &'static str,
    pub back: &'static str,
    pub intro: &'static str,
    pub modules: &'static str,
    pub module: &'static str,
    pub trained: &'static str,
    pub evaluated: &'static str,
    pub improved: &'static str,
    pub no_evidence: &'static str,
    pub worse: &'static str,
    pub transfer: &'static str,
    pub mean_effect: &'static str,
    pub completions: &'static str,
    pub none: &'static str,
    pub agent: &'static str,
    pub completed: &'static str,
    pub before: &'static str,
    pub after: &'static str,
    pub control: &'static str,
    pub effect: &'static str,
    pub item: &'static str,
    pub conversations: &'static str,
    pub chart: &'static str,
    pub method: &'static str,
    /// Before the example conversations of a completion.
    pub examples: &'static str,
    /// `{0}` conversations before, `{1}` after, `{2}` the minimum in each window.
    pub note_few: &'static str,
    pub note_no_control: &'static str,
}

const FX_EN: EffectWords = EffectWords {
    title: "Training effect",
    back: "← Team overview",
    intro: "For each completed module: the share of the module's checklist items the agent passed in the window before and after completing it, against the same change for agents who had not taken it (difference-in-differences, 95 % interval).",
    modules: "Module effectiveness",
    module: "Module",
    trained: "Trained agents",
    evaluated: "Evaluated",
    improved: "improved",
    no_evidence: "no evidence",
    worse: "worse",
    transfer: "Transfer rate",
    mean_effect: "Mean effect",
    completions: "Completions",
    none: "No completions in these results.",
    agent: "Agent",
    completed: "completed",
    before: "before",
    after: "after",
    control: "control agents' change",
    effect: "effect",
    item: "Item",
    conversations: "conversations",
    chart: "Target items passed, before and after the completion",
    method: "Verdict: improved when the whole 95 % interval of the effect is above zero, worse when below. Method and assumptions: docs/EFFECT.md.",
    examples: "Conversations to read (share of target items passed):",
    note_few: "Too few conversations with the module's items: {0} before, {1} after (needs {2} in each window).",
    note_no_control: "No control agents in these windows: the change is not adjusted for team-wide drift.",
};

const FX_ZH: EffectWords = EffectWords {
    title: "培训效果",
    back: "← 团队总览",
    intro: "每次完成的课程：坐席在完成前后两个时间窗内通过该课程目标检查项的比例，与未参加该课程的坐席同期变化相比（双重差分，95% 置信区间）。",
    modules: "课程有效性",
    module: "课程",
    trained: "已培训坐席",
    evaluated: "可评估",
    improved: "提升",
    no_evidence: "证据不足",
    worse: "下降",
    transfer: "应用转化率",
    mean_effect: "平均效果",
    completions: "课程完成记录",
    none: "这些结果中没有课程完成记录。",
    agent: "坐席",
    completed: "完成于",
    before: "培训前",
    after: "培训后",
    control: "对照组变化",
    effect: "效果",
    item: "检查项",
    conversations: "通会话",
    chart: "目标检查项通过率：培训前后",
    method: "判定：效果的 95% 置信区间整体高于零为提升，整体低于零为下降。方法与假设见 docs/EFFECT.md。",
    examples: "可查看的会话（目标检查项通过比例）：",
    note_few: "该课程检查项的会话太少：培训前 {0} 通，培训后 {1} 通（每个时间窗需要 {2} 通）。",
    note_no_control: "这两个时间窗内没有对照坐席：变化未扣除团队整体趋势。",
};

/// The report pages' words (`index.html`, agent pages, Markdown, charts).
#[derive(Debug, serde::Serialize)]
pub(crate) struct Words {
    /// After a number, before "%": "12 %" in English text, "12%" in Chinese.
    pub pct_sep: &'static str,
    pub report: &'static str,
    pub team_overview: &'static str,
    pub back: &'static str,
    /// `{0}`: the agent id.
    pub agent_title: &'static str,
    /// `{0}`: the agent id (Markdown page heading).
    pub agent_md_title: &'static str,
    pub agent: &'static str,
    pub agents: &'static str,
    /// `{0}`: a count.
    pub n_conversations: &'static str,
    /// `{0}`: a count.
    pub n_agents: &'static str,
    pub no_conversations: &'static str,
    pub no_conversations_md: &'static str,
    pub low_confidence: &'static str,
    /// `{0}`: the minimum.
    pub low_confidence_fewer: &'static str,
    pub low_confidence_few: &'static str,
    pub no_numbers: &'static str,
    pub ci95: &'static str,
    /// `{0}`: the team's value.
    pub team_value: &'static str,
    pub team: &'static str,
    /// A table column: the team's values.
    pub team_col: &'static str,
    pub qa_mean: &'static str,
    pub qa_median: &'static str,
    pub pass_rate: &'static str,
    pub critical_failures: &'static str,
    pub escalation_rate: &'static str,
    pub conflict_rate: &'static str,
    pub recovered: &'static str,
    pub recovered_note: &'static str,
    pub resolved: &'static str,
    pub of_known: &'static str,
    pub handle_time: &'static str,
    pub first_response: &'static str,
    pub latency: &'static str,
    pub priority: &'static str,
    pub target: &'static str,
    pub good_example_agent: &'static str,
    pub good_example_team: &'static str,
    pub see_also: &'static str,
    pub from_agent_calls: &'static str,
    pub from_team_calls: &'static str,
    pub recommendations: &'static str,
    pub no_recommendation: &'static str,
    pub outcome_check: &'static str,
    /// `{0}` mean CSAT, `{1}` rated conversations, `{2}`/`{3}` passed QA mean and n, `{4}`/`{5}`
    /// failed QA mean and n, `{6}`/`{7}` team mean and n.
    pub csat_summary: &'static str,
    pub item_team: &'static str,
    pub csat_passed: &'static str,
    pub csat_failed: &'static str,
    pub charts: &'static str,
    pub cap_histogram: &'static str,
    pub cap_items: &'static str,
    pub cap_trajectory: &'static str,
    /// `{0}`: the number of calls.
    pub cap_sparkline: &'static str,
    pub moments: &'static str,
    pub none_detected: &'static str,
    pub conversation: &'static str,
    pub kind: &'static str,
    pub quote: &'static str,
    pub cat_escalation: &'static str,
    pub cat_conflict: &'static str,
    pub checklist_items: &'static str,
    pub item: &'static str,
    pub section: &'static str,
    pub pass: &'static str,
    pub fail: &'static str,
    pub na: &'static str,
    pub fail_rate: &'static str,
    pub team_fail_rate: &'static str,
    pub critical: &'static str,
    pub lowest: &'static str,
    pub qa_score: &'static str,
    pub failed_items: &'static str,
    pub source: &'static str,
    /// `{0}`: the turn number.
    pub turn: &'static str,
    /// `{0}` generator, `{1}` version, `{2}` conversations, `{3}` catalogue, `{4}` input digest.
    pub footer: &'static str,
    /// `{0}` generator, `{1}` version, `{2}` input digest.
    pub footer_md: &'static str,
    pub effects_link: &'static str,
    pub conversations: &'static str,
    pub qa_mean_short: &'static str,
    pub escalation_short: &'static str,
    pub conflict_short: &'static str,
    pub top_recommendation: &'static str,
    pub team_charts: &'static str,
    pub cap_team_histogram: &'static str,
    pub cap_team_trajectory: &'static str,
    pub team_needs: &'static str,
    pub team_meets: &'static str,
    pub md_sentiment_recovered: &'static str,
    pub md_resolved: &'static str,
    pub md_good_example_agent: &'static str,
    // charts
    pub no_data: &'static str,
    pub chart_histogram: &'static str,
    pub chart_items: &'static str,
    pub chart_trajectory: &'static str,
    pub chart_sparkline: &'static str,
    pub agent_pass_rate: &'static str,
    /// `{0}`: the pass mark.
    pub pass_mark: &'static str,
    /// `{0}`: the team's rate.
    pub team_paren: &'static str,
    pub start: &'static str,
    pub end: &'static str,
    pub call: &'static str,
    // trends
    pub trends: &'static str,
    pub day: &'static str,
    pub week: &'static str,
    pub month: &'static str,
    /// `{0}`: day, week or month.
    pub trend_team_qa: &'static str,
    /// `{0}`: day, week or month.
    pub trend_team_rates: &'static str,
    /// `{0}`: day, week or month.
    pub trend_agent_qa: &'static str,
    pub team_without_agent: &'static str,
    pub interval95: &'static str,
    /// `{0}`: the minimum number of conversations.
    pub trend_hollow: &'static str,
    pub no_trends: &'static str,
    /// A recommendation's finding for an item: `{0}` title, `{1}` failed, `{2}` applicable,
    /// `{3}` rate, `{4}` team rate.
    pub finding_item: &'static str,
    /// Appended to an item finding: `{0}` the rate expected on calls as hard as these.
    pub finding_expected: &'static str,
    /// An escalation trigger (the customer's doing): `{0}` label, `{1}`–`{4}` as above.
    pub finding_context: &'static str,
    /// Another signal: `{0}` label, `{1}`–`{4}` as above.
    pub finding_other: &'static str,
    /// `{0}` item title, `{1}` current pass rate, `{2}` target.
    pub target_item: &'static str,
    /// `{0}` label, `{1}` current rate, `{2}` target.
    pub target_rate: &'static str,
    /// A recommendation's follow-up (`--period`): `{0}` day/week/month, `{1}` the values
    /// ("2026-W08 38 % → 2026-W09 20 % (15 conversations)"), `{2}` the target ("≥ 48 %"), `{3}`
    /// reached or not.
    pub follow_up: &'static str,
    /// After the latest value: `{0}` its conversations.
    pub follow_up_n: &'static str,
    /// When the latest period is the agent's first with data: `{0}` day/week/month.
    pub follow_up_first: &'static str,
    pub reached: &'static str,
    pub not_reached: &'static str,
    /// Label prefix of an escalation trigger / a conflict kind signal.
    pub signal_escalation: &'static str,
    pub signal_conflict: &'static str,
    pub fx: EffectWords,
    pub cv: ConvWords,
}

const EN: Words = Words {
    pct_sep: " ",
    report: "convqa coaching report",
    team_overview: "Team overview",
    back: "← Team overview",
    agent_title: "Agent {0}",
    agent_md_title: "Agent {0} — coaching report",
    agent: "Agent",
    agents: "Agents",
    n_conversations: "{0} conversations",
    n_agents: "{0} agents",
    no_conversations: "no conversations",
    no_conversations_md: "no conversations in these results",
    low_confidence: "low confidence",
    low_confidence_fewer: "low confidence: fewer than {0} conversations",
    low_confidence_few: "low confidence: few conversations",
    no_numbers: "This agent has no conversations in these results, so there are no numbers and no recommendations.",
    ci95: "95 % CI",
    team_value: "team {0}",
    team: "team",
    team_col: "Team",
    qa_mean: "QA score (mean)",
    qa_median: "QA score (median)",
    pass_rate: "Pass rate",
    critical_failures: "Critical failures",
    escalation_rate: "Escalation rate",
    conflict_rate: "Conflict rate",
    recovered: "Customer sentiment recovered",
    recovered_note: "started negative → ended not negative",
    resolved: "Resolved",
    of_known: "of known outcomes",
    handle_time: "Handle time (mean)",
    first_response: "First response (mean)",
    latency: "Response latency (mean)",
    priority: "priority",
    target: "Target:",
    good_example_agent: "Good example (from this agent)",
    good_example_team: "Good example (from the team)",
    see_also: "See also:",
    from_agent_calls: "From the agent's calls",
    from_team_calls: "From the team's lowest-scoring calls",
    recommendations: "Coaching recommendations",
    no_recommendation: "No module reaches the recommendation threshold.",
    outcome_check: "Outcome check",
    csat_summary: "CSAT from the input's metadata: mean {0} over {1} rated conversations; passed QA {2} ({3}), failed QA {4} ({5}); team {6} ({7}).",
    item_team: "Item (team)",
    csat_passed: "CSAT when passed",
    csat_failed: "CSAT when failed",
    charts: "Charts",
    cap_histogram: "QA score distribution (share of conversations per 10-point band)",
    cap_items: "Checklist item pass rates (bar: agent, tick: team; red: 10 points or more below the team)",
    cap_trajectory: "Mean customer sentiment from the start to the end of the call",
    cap_sparkline: "Mean customer sentiment per call, last {0} calls",
    moments: "Escalation and conflict moments",
    none_detected: "None detected.",
    conversation: "Conversation",
    kind: "Type",
    quote: "Quote",
    cat_escalation: "escalation",
    cat_conflict: "conflict",
    checklist_items: "Checklist items",
    item: "Item",
    section: "Section",
    pass: "Pass",
    fail: "Fail",
    na: "N/A",
    fail_rate: "Fail rate",
    team_fail_rate: "Team fail rate",
    critical: "critical",
    lowest: "Lowest-scoring conversations",
    qa_score: "QA score",
    failed_items: "Failed items",
    source: "Source",
    turn: "turn {0}",
    footer: "Generated by {0} {1} from {2} conversations · catalogue {3} · input {4} · team baseline includes every agent. Mean interval: Student t; median interval: order statistics.",
    footer_md: "Generated by {0} {1} · input {2}",
    effects_link: "Training effect: did completed modules change behaviour? →",
    conversations: "Conversations",
    qa_mean_short: "QA mean",
    escalation_short: "Escalation",
    conflict_short: "Conflict",
    top_recommendation: "Top recommendation",
    team_charts: "Team charts",
    cap_team_histogram: "QA score distribution, whole team",
    cap_team_trajectory: "Mean customer sentiment through the call, whole team",
    team_needs: "Team-wide training needs (against the catalogue standards)",
    team_meets: "The team meets every standard in the catalogue.",
    md_sentiment_recovered: "Sentiment recovered",
    md_resolved: "Resolved (of known)",
    md_good_example_agent: "Good example (yours)",
    no_data: "no data",
    chart_histogram: "QA score distribution, agent vs team (share of conversations)",
    chart_items: "Checklist item pass rates, agent (bar) vs team (tick)",
    chart_trajectory: "Mean customer sentiment through the call, agent vs team",
    chart_sparkline: "Customer sentiment per call (mean), most recent calls",
    agent_pass_rate: "agent pass rate",
    pass_mark: "pass {0}",
    team_paren: "(team {0})",
    start: "start",
    end: "end",
    call: "call",
    trends: "Trends",
    day: "day",
    week: "week",
    month: "month",
    trend_team_qa: "Team QA score per {0} (mean, 95 % interval)",
    trend_team_rates: "Team pass rate and escalation rate per {0} (95 % interval)",
    trend_agent_qa: "QA score per {0}: agent vs the team without the agent (mean, 95 % interval)",
    team_without_agent: "team without the agent",
    interval95: "95 % interval",
    trend_hollow: "Intervals: percentile bootstrap for means, Wilson for rates. Hollow points: fewer than {0} conversations in the period; read little into them.",
    no_trends: "No dated conversations: no trend.",
    finding_item: "“{0}” failed in {1} of {2} conversations ({3}); team {4}",
    finding_expected: "; expected on calls as hard as these ≤ {0}",
    finding_context: "{0}: {1} of {2} conversations ({3}); team {4} (the customer's doing: context, not counted)",
    finding_other: "{0}: {1} of {2} conversations ({3}); team {4}",
    target_item: "“{0}” pass rate from {1} to ≥ {2}",
    target_rate: "{0}: from {1} of conversations to ≤ {2}",
    follow_up: "Progress per {0}: {1}; target {2}: {3}",
    follow_up_n: " ({0} conversations)",
    follow_up_first: " (no earlier {0} with data)",
    reached: "reached",
    not_reached: "not reached",
    signal_escalation: "escalation",
    signal_conflict: "conflict",
    fx: FX_EN,
    cv: conv::CONV_EN,
};

const ZH: Words = Words {
    pct_sep: "",
    report: "convqa 辅导报告",
    team_overview: "团队总览",
    back: "← 团队总览",
    agent_title: "坐席 {0}",
    agent_md_title: "坐席 {0} — 辅导报告",
    agent: "坐席",
    agents: "坐席",
    n_conversations: "{0} 通会话",
    n_agents: "{0} 名坐席",
    no_conversations: "无会话",
    no_conversations_md: "这些结果中没有该坐席的会话",
    low_confidence: "低置信度",
    low_confidence_fewer: "低置信度：会话少于 {0} 通",
    low_confidence_few: "低置信度：会话较少",
    no_numbers: "这些结果中没有该坐席的会话，因此没有指标，也没有辅导建议。",
    ci95: "95% 置信区间",
    team_value: "团队 {0}",
    team: "团队",
    team_col: "团队",
    qa_mean: "质检得分（均值）",
    qa_median: "质检得分（中位数）",
    pass_rate: "合格率",
    critical_failures: "致命项不合格",
    escalation_rate: "升级率",
    conflict_rate: "冲突率",
    recovered: "客户情绪好转",
    recovered_note: "开场负面 → 结束时不再负面",
    resolved: "已解决",
    of_known: "占已知结果",
    handle_time: "平均处理时长",
    first_response: "平均首次响应",
    latency: "平均响应时延",
    priority: "优先级",
    target: "目标：",
    good_example_agent: "优秀示例（本坐席）",
    good_example_team: "优秀示例（团队）",
    see_also: "另见：",
    from_agent_calls: "来自该坐席的通话",
    from_team_calls: "来自团队得分最低的通话",
    recommendations: "辅导建议",
    no_recommendation: "没有课程达到推荐阈值。",
    outcome_check: "结果核对",
    csat_summary: "输入元数据中的 CSAT：{1} 通已评分会话均值 {0}；质检合格 {2}（{3} 通），质检不合格 {4}（{5} 通）；团队 {6}（{7} 通）。",
    item_team: "检查项（团队）",
    csat_passed: "合格时 CSAT",
    csat_failed: "不合格时 CSAT",
    charts: "图表",
    cap_histogram: "质检得分分布（每 10 分区间的会话占比）",
    cap_items: "检查项通过率（条形：坐席，刻度：团队；红色：低于团队 10 个百分点及以上）",
    cap_trajectory: "通话从开始到结束的客户平均情绪",
    cap_sparkline: "每通通话的客户平均情绪，最近 {0} 通",
    moments: "升级与冲突时刻",
    none_detected: "未检测到。",
    conversation: "会话",
    kind: "类型",
    quote: "原话",
    cat_escalation: "升级",
    cat_conflict: "冲突",
    checklist_items: "检查项",
    item: "检查项",
    section: "环节",
    pass: "合格",
    fail: "不合格",
    na: "不适用",
    fail_rate: "不合格率",
    team_fail_rate: "团队不合格率",
    critical: "致命项",
    lowest: "得分最低的会话",
    qa_score: "质检得分",
    failed_items: "不合格项",
    source: "来源",
    turn: "第 {0} 轮",
    footer: "由 {0} {1} 根据 {2} 通会话生成 · 课程目录 {3} · 输入 {4} · 团队基准包含所有坐席。均值区间：Student t；中位数区间：次序统计量。",
    footer_md: "由 {0} {1} 生成 · 输入 {2}",
    effects_link: "培训效果：完成的课程是否改变了行为？→",
    conversations: "会话数",
    qa_mean_short: "质检均分",
    escalation_short: "升级",
    conflict_short: "冲突",
    top_recommendation: "首要建议",
    team_charts: "团队图表",
    cap_team_histogram: "质检得分分布，全团队",
    cap_team_trajectory: "通话过程中的客户平均情绪，全团队",
    team_needs: "团队整体培训需求（对照课程目录标准）",
    team_meets: "团队达到课程目录中的全部标准。",
    md_sentiment_recovered: "情绪好转",
    md_resolved: "已解决（占已知结果）",
    md_good_example_agent: "优秀示例（你的）",
    no_data: "无数据",
    chart_histogram: "质检得分分布：坐席与团队（会话占比）",
    chart_items: "检查项通过率：坐席（条形）与团队（刻度）",
    chart_trajectory: "通话过程中的客户平均情绪：坐席与团队",
    chart_sparkline: "每通通话的客户情绪（均值），最近的通话",
    agent_pass_rate: "坐席通过率",
    pass_mark: "合格线 {0}",
    team_paren: "（团队 {0}）",
    start: "开始",
    end: "结束",
    call: "通话",
    trends: "趋势",
    day: "日",
    week: "周",
    month: "月",
    trend_team_qa: "团队每{0}质检得分（均值，95% 置信区间）",
    trend_team_rates: "团队每{0}合格率与升级率（95% 置信区间）",
    trend_agent_qa: "每{0}质检得分：坐席与团队（不含该坐席）对比（均值，95% 置信区间）",
    team_without_agent: "团队（不含该坐席）",
    interval95: "95% 置信区间",
    trend_hollow: "区间：均值用百分位自助法（bootstrap），比率用 Wilson 区间。空心点：该周期会话少于 {0} 通，仅供参考。",
    no_trends: "没有带日期的会话，无法显示趋势。",
    finding_item: "“{0}”在 {2} 通会话中不合格 {1} 通（{3}）；团队 {4}",
    finding_expected: "；同等难度通话的预期不高于 {0}",
    finding_context: "{0}：{2} 通会话中 {1} 通（{3}）；团队 {4}（由客户引起：仅作背景，不计入优先级）",
    finding_other: "{0}：{2} 通会话中 {1} 通（{3}）；团队 {4}",
    target_item: "“{0}”合格率从 {1} 提高到不低于 {2}",
    target_rate: "{0}：从占会话 {1} 降到不高于 {2}",
    follow_up: "按{0}跟进：{1}；目标 {2}：{3}",
    follow_up_n: "（{0} 通会话）",
    follow_up_first: "（此前各{0}没有数据）",
    reached: "已达到",
    not_reached: "未达到",
    signal_escalation: "升级",
    signal_conflict: "冲突",
    fx: FX_ZH,
    cv: conv::CONV_ZH,
};

/// The words of `lang`.
pub(crate) fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::ZhCn => &ZH,
    }
}

/// `template` with `{0}`, `{1}`, … replaced by `args`.
pub(crate) fn fill(template: &str, args: &[&str]) -> String {
    let mut s = template.to_string();
    for (i, a) in args.iter().enumerate() {
        s = s.replace(&format!("{{{i}}}"), a);
    }
    s
}

impl Words {
    /// A share as a percentage: "12 %" (en), "12%" (zh-CN).
    pub fn pct(&self, x: f64) -> String {
        format!("{:.0}{}%", x * 100.0, self.pct_sep)
    }

    /// A rate, or "–" for no data.
    pub fn rate(&self, r: Option<f64>) -> String {
        r.map(|x| self.pct(x)).unwrap_or_else(|| "–".into())
    }

    pub fn period(&self, p: crate::trend::Period) -> &'static str {
        match p {
            crate::trend::Period::Day => self.day,
            crate::trend::Period::Week => self.week,
            crate::trend::Period::Month => self.month,
        }
    }
}

/// Counts the scored conversations' customer and agent turns by language, for the default page
/// language: zh-CN when Chinese turns (zh-Hans, zh-Hant) are more than half of the turns in
/// Chinese, English or both (`mixed`); en otherwise, and when there are none. Turns of other
/// scripts and undetermined ones (digits, emoji) do not count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LangCount {
    pub chinese: u64,
    pub counted: u64,
}

impl LangCount {
    pub fn add(&mut self, r: &ConversationResult) {
        for t in &r.turns {
            if !matches!(t.speaker, Speaker::Agent | Speaker::Customer) {
                continue;
            }
            match t.labels.language {
                Language::ZhHans | Language::ZhHant => {
                    self.chinese += 1;
                    self.counted += 1;
                }
                Language::En | Language::Mixed => self.counted += 1,
                Language::Und | Language::Other => {}
            }
        }
    }

    pub fn lang(&self) -> Lang {
        if self.counted > 0 && self.chinese * 2 > self.counted {
            Lang::ZhCn
        } else {
            Lang::En
        }
    }
}
